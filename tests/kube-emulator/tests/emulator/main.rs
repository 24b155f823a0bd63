//! The emulator driven by real clients: kube-rs against an in-process emulator,
//! raw HTTP for what clients never send, and kubectl (when installed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod authz;
mod binary;
mod crud;
mod deletion;
mod fuzz;
mod jobs;
mod kubectl;
mod ssa;
mod tls;
mod util;
mod watch;
