//! End-to-end tests: the real Terraform CLI drives the provider binary,
//! installed from a filesystem mirror so that `terraform init` is exercised.
//!
//! One test binary, a module per concern, each test with its own [`harness::Tf`]
//! world (see `harness/`). Terraform comes from `$TERRAFORM` or from
//! `scripts/install-tools.sh`; these tests never skip for want of it.
//!
//! - `harness`: what every test is built on: the [`harness::Tf`] world and
//!   running Terraform, an in-process API-server emulator
//!   ([`harness::Cluster`]), the steps tests are made of (`apply`, `plan`,
//!   `destroy`, a world pointed at a cluster).
//! - `config_paths`: which attribute a diagnostic's source range points at.
//! - `init`: `terraform init` offline against the mirror.
//! - `schema`: the whole attribute tree of `planton_kubernetes_job` against
//!   `tests/fixtures/schema-tree.txt`, and descriptions.
//! - `validate`: every configuration under `tests/fixtures/validate/`.
//! - `plan`: Planton defaults are known values in a plan.
//! - `examples`: every configuration under `examples/` validates and is
//!   formatted.
//! - `lifecycle`: apply, plan, destroy of `planton_kubernetes_job` against
//!   the emulator.
//! - `buckets`: each field's change is in place (same Job) or a
//!   replacement, as the plan says.
//! - `examples_apply`: the examples applied, re-planned and destroyed
//!   against the emulator.
//! - `import`: import by ID and identity (Jobs this provider made
//!   and Jobs kubectl made), `terraform query` with configuration
//!   generation, and imports that fail.
//! - `moved`: `moved` blocks from hashicorp/kubernetes's `kubernetes_job_v1`
//!   and `kubernetes_job` (state under `tests/fixtures/moved/`) keep the Job;
//!   a move from another type is one error.
//! - `data_source`: the data source `planton_kubernetes_job` reads Jobs
//!   kubectl made and Jobs applied here (on the oldest Terraform too); a
//!   missing Job or a refused read is one error naming it; every plan
//!   reads the Job afresh; Ctrl-C ends a hung read.
//! - `provider_config`: every way to reach a cluster (kubeconfig,
//!   token, client certificate, exec plugin), their failures, named
//!   clusters with for_each, settings known only after apply, nothing
//!   configured; against emulators with TLS and authentication.
//! - `manifests`: the functions `kubernetes_job_from_manifest` and
//!   `kubernetes_job_manifest` with Planton's example manifests, applied
//!   against the emulator; bad manifests; values known only after apply.
//! - `ownership`: two working directories never share a job's objects; a
//!   re-created object is drift and never deleted; a namespace two jobs
//!   declare is shared.
//! - `write_only`: write-only secrets stay out of state and output, roll by
//!   version, and an edit of the live Secret is drift.
//! - `zeros`: Planton's "0 means unset" fields against the emulator, and
//!   `backoff_limit = 0` (no retries).
//! - `bounded`: everything bounded: a hung or silent API server
//!   fails the apply within `timeouts.create` plus a second, naming the
//!   request; Ctrl-C ends a hung apply or wait within a second.
//! - `permissions`: least privilege: the RBAC manifests in
//!   `examples/rbac/` are exactly sufficient (every step passes with them,
//!   each rule taken away fails a named step with the 403).
//! - `action`: the action `planton_kubernetes_job_run`: invoked and
//!   triggered runs, their progress and failures, what its plan refuses,
//!   Ctrl-C, and destroy.
//! - `faults`: the fault matrix: a fault in one phase (create,
//!   update, destroy), a converging run, and what was lost, duplicated or
//!   left untracked; the cheapest cases here, all of them under
//!   `scripts/faults.sh` (`docs/reliability.md`).
//! - `registry`: the release proven: `scripts/release.sh` writes signed
//!   artifacts in the registry's layout (and refuses a wrong version or a
//!   missing key), and `terraform init` installs them from a local HTTPS
//!   provider registry, refusing a changed zip and a foreign or corrupted
//!   signature.
//! - `versions`: the core steps (init, apply and wait, an empty plan, import
//!   by ID, destroy) on the oldest supported Terraform and on the current
//!   one; on the oldest, a provider function, and a write-only attribute
//!   refused with the version it needs; the oldest's state on the current.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config_paths;
mod harness;

mod action;
mod bounded;
mod buckets;
mod data_source;
mod examples;
mod examples_apply;
mod faults;
mod import;
mod init;
mod lifecycle;
mod manifests;
mod moved;
mod ownership;
mod permissions;
mod plan;
mod provider_config;
mod registry;
mod schema;
mod validate;
mod versions;
mod write_only;
mod zeros;
