//! Jobs that exist before Terraform knows them: [`import`] by ID or
//! identity and the plan right after it, [`kept`] for the parts of a Job
//! made by another tool that the spec cannot express, [`list`] for
//! `terraform query`, and [`generate`] for the configuration Terraform
//! writes for an imported Job.

pub mod generate;
pub mod import;
pub mod kept;
pub mod list;
