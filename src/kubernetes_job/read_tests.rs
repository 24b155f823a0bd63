//! Drift rules of refresh, on objects shaped as a server returns them.

#![allow(clippy::unwrap_used, clippy::expect_used)]
