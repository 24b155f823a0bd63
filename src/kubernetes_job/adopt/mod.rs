//! Jobs that exist before Terraform knows them. Bottom to top, each file
//! using only the ones before it: [`identity`] says which Job an import ID
//! or identity means, [`fetch`] reads it and the objects that belong to
//! it, [`kept`] holds what the spec cannot express of a Job made by
//! another tool, [`private`] is what import leaves in private state,
//! [`reverse`] maps a Job back to the resource's state, [`after_import`]
//! is the plan right after an import, [`list`] serves `terraform query`,
//! [`generate`] writes the configuration for an imported Job, and [`moved`]
//! takes over the state of hashicorp/kubernetes's Job resources through
//! [`reverse`].

pub mod after_import;
pub mod fetch;
pub mod generate;
pub mod identity;
pub mod kept;
pub mod list;
pub mod moved;
pub mod private;
pub mod reverse;
