//! `--debug`: serve plaintext on a socket of our own and print the
//! TF_REATTACH_PROVIDERS value that makes Terraform use this process instead
//! of starting one. Useful under a debugger; serves until Ctrl-C.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::controller::OnShutdown;
use super::handshake::{self, SOCKET_DIR_KEY, SocketDir};
use super::serve::{PROVIDER_ADDRESS, ServeError, SigInt, serve_with, watch_signals};
use crate::tf::Provider;

/// The line to paste into a shell:
/// `TF_REATTACH_PROVIDERS='{"registry.terraform.io/project-planton/planton":{...}}'`.
pub fn reattach_line(socket: &Path, pid: u32) -> String {
    let attach = serde_json::json!({
        "Protocol": "grpc",
        "ProtocolVersion": handshake::PROTOCOL_VERSION,
        "Pid": pid,
        "Test": true,
        "Addr": { "Network": "unix", "String": socket.to_string_lossy() },
    });
    let mut value = serde_json::Map::new();
    value.insert(PROVIDER_ADDRESS.to_string(), attach);
    let value = serde_json::Value::Object(value);
    // Single-quoted for the shell; a quote inside becomes '\''.
    format!(
        "TF_REATTACH_PROVIDERS='{}'",
        value.to_string().replace('\'', r"'\''")
    )
}

/// Serves in debug mode until Ctrl-C or SIGTERM. Returns the exit code.
pub async fn serve_debug(provider: Arc<dyn Provider>) -> ExitCode {
    match run(provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Plain text: a person running the binary by hand reads this.
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    let dir = SocketDir::create(std::env::var_os(SOCKET_DIR_KEY).map(Into::into))?;
    let listener = dir.bind()?;
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone(), SigInt::Stop);

    eprintln!(
        "Provider started in debug mode. To use it, export the variable below in the shell \
         where you run Terraform; press Ctrl-C here to stop it."
    );
    handshake::announce(&reattach_line(dir.socket_path(), std::process::id()))?;
    let result = serve_with(listener, None, provider, shutdown, OnShutdown::KeepServing).await;
    drop(dir);
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn reattach_line_is_valid_json_in_quotes() {
        let line = reattach_line(Path::new("/tmp/tfplanton-1/plugin.sock"), 42);
        let json = line
            .strip_prefix("TF_REATTACH_PROVIDERS='")
            .and_then(|s| s.strip_suffix('\''))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let p = &v["registry.terraform.io/project-planton/planton"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/tfplanton-1/plugin.sock");
    }

    #[test]
    fn quotes_in_paths_stay_shell_safe() {
        let line = reattach_line(Path::new("/tmp/it's/plugin.sock"), 1);
        assert!(line.contains(r"it'\''s"));
    }
}
