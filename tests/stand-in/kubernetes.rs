//! A stand-in for hashicorp/kubernetes, for the e2e tests of `moved` blocks
//! from that provider's Jobs (`tests/e2e/moved.rs`); built with the tests,
//! never shipped, never used by the provider binary.
//!
//! Terraform 1.15 needs the source provider of a move across providers,
//! though never for the move itself (it asks the target's
//! MoveResourceState): `terraform init` installs every provider the state
//! names, and a plan or apply that holds the old resource's state starts
//! that provider once to read its schema (GetProviderSchema, then Close).
//! A schema with no resource types is enough for that. So this serves an
//! empty provider with our own plugin server: a handshake, an empty schema,
//! and for anything else the error a provider gives for a resource type it
//! does not have, which would fail the test that got it.

use std::process::ExitCode;
use std::sync::Arc;

use planton_provider::server;
use planton_provider::tf::{Block, Provider, Resource, Schema};

/// A provider with an empty configuration block and no resource types.
struct StandIn;

#[async_trait::async_trait]
impl Provider for StandIn {
    fn schema(&self) -> Schema {
        Schema::new(Block::default())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        Vec::new()
    }
}

fn main() -> ExitCode {
    server::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(server::serve(Arc::new(StandIn)))
}
