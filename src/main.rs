//! The provider binary: see the library crate for the layout.
//!
//! Terraform starts this binary with the go-plugin environment; `--debug`
//! runs it by hand in reattach mode instead.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use planton_provider::provider::PlantonProvider;
use planton_provider::server;
use planton_provider::tf::Provider;

fn main() -> ExitCode {
    let debug = match parse_args(std::env::args().skip(1)) {
        Ok(debug) => debug,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
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
    let provider = provider();
    let code = runtime.block_on(async move {
        if debug {
            server::serve_debug(provider).await
        } else {
            server::serve(provider).await
        }
    });
    // Connection tasks may linger after serving stopped; don't wait on them.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// `--debug` is the only flag.
fn parse_args(args: impl Iterator<Item = String>) -> Result<bool, String> {
    let mut debug = false;
    for arg in args {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; the only option is --debug (serve in reattach mode)"
                ));
            }
        }
    }
    Ok(debug)
}

/// The provider served.
fn provider() -> Arc<dyn Provider> {
    Arc::new(PlantonProvider::new())
}
