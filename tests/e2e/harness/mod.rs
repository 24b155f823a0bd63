//! The harness every e2e test is built on, one import away
//! (`use crate::harness::...`):
//!
//! - [`terraform`]: the real Terraform CLI, our provider in a filesystem
//!   mirror, a fresh and hermetic working directory per test ([`Tf`]), the
//!   output of a command ([`Output`], [`flat`] on one line) and of
//!   `validate -json`.
//! - [`cluster`]: an API-server emulator in-process ([`Emulator`]), and one
//!   with a kubeconfig for the provider block ([`Cluster`]).
//! - [`steps`]: the steps tests are made of: `apply`, `plan`, `destroy`, a
//!   world pointed at a cluster, a command interrupted with Ctrl-C, the
//!   provider processes Terraform started.
//! - [`release`]: `scripts/release.sh` run on the binary cargo built, signed
//!   with a throwaway GnuPG key.
//! - [`registry`]: a provider registry over HTTPS on loopback serving such a
//!   release, for `terraform init` without a mirror.
//!
//! The files import downwards only: `steps` uses `cluster` and `terraform`,
//! `cluster` uses `terraform`, `registry` uses `release`, `release` uses
//! `terraform`.

pub mod cluster;
pub mod registry;
pub mod release;
pub mod steps;
pub mod terraform;

pub use cluster::{Cluster, Emulator};
pub use steps::{apply, destroy, interrupted, plan_exit, provider_pids, world};
pub use terraform::*;
