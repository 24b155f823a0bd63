//! Fuzzing the provider's boundaries with proptest: every input Terraform
//! (or a user, through Terraform) can hand the provider, at high case
//! counts, asserting that nothing panics and that plans obey Terraform's
//! plan-validity rules.
//!
//! Targets, one module each:
//!
//! - `codecs`: msgpack and JSON `DynamicValue` decoding: random bytes,
//!   damaged encodings and random values of random types and of the
//!   resource's schema type, round-tripped.
//! - `import_ids`: `ImportId::parse` and the resource identity, both ways.
//! - `manifests`: `kubernetes_job_from_manifest` with random JSON-like
//!   values and mutated manifests from `examples/planton-manifests/`, and
//!   `kubernetes_job_manifest` with random schema-typed values.
//! - `plans`: PlanResourceChange through `tf::plan::plan_resource_change`
//!   with random and mutated configurations and prior states, checked
//!   against Terraform's rules (`terraform`, a port of Terraform's
//!   `objchange.ProposedNew` and `AssertPlanValid`).
//! - `applies`: ApplyResourceChange with random schema-typed values against
//!   an unconfigured provider and against the API-server emulator.
//! - `grpc`: whole PlanResourceChange and ApplyResourceChange requests
//!   (random values and random bytes in their `DynamicValue`s) through the
//!   gRPC server in this process.
//! - `regressions`: the crashes found, as named tests.
//!
//! Case counts: each target has a short default for `cargo test` (the test
//! command); `PLANTON_FUZZ_CASES=N` runs N cases of every target (N/10
//! of the gRPC targets, N/100 of the emulator target). With
//! `PLANTON_FUZZ_REPORT=FILE`, each target appends one JSON line with its
//! name, case count and time to FILE (`scripts/faults.sh` collects them for
//! `docs/reliability.md`). Inputs are random per run; a failure prints the
//! shrunk input, which then becomes a named regression test next to its
//! target.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod inputs;
mod terraform;

mod applies;
mod codecs;
mod grpc;
mod import_ids;
mod manifests;
mod plans;
mod regressions;
