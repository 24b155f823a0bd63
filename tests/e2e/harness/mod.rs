//! The harness every e2e test is built on, one import away
//! (`use crate::harness::...`):
//!
//! - [`terraform`]: the real Terraform CLI, our provider in a filesystem
//!   mirror, a fresh and hermetic working directory per test ([`Tf`]), the
//!   output of a command ([`Output`]) and of `validate -json`.
//! - [`cluster`]: an API-server emulator in-process ([`Emulator`]), and one
//!   with a kubeconfig for the provider block ([`Cluster`]).
//! - [`steps`]: the steps tests are made of: `apply`, `plan`, `destroy`, a
//!   world pointed at a cluster, the provider processes Terraform started.
//!
//! The files import downwards only: `steps` uses `cluster` and `terraform`,
//! `cluster` uses `terraform`.

pub mod cluster;
pub mod steps;
pub mod terraform;

pub use cluster::{Cluster, Emulator};
pub use steps::{apply, destroy, plan_exit, provider_pids, world};
pub use terraform::*;
