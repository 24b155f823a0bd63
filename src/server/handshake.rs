//! The go-plugin handshake: what Terraform sets in our environment, what we
//! answer on stdout, and the private socket directory.
//!
//! This is the only module that writes to stdout: Terraform reads the first
//! line of our stdout as the handshake, and anything printed before it makes
//! the launch fail.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;

/// Environment variable carrying the magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie Terraform sets for every provider it launches.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Environment variable listing the protocol versions the client speaks.
pub const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// Environment variable with the client's AutoMTLS certificate (PEM).
pub const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";
/// Environment variable naming where to put the Unix socket.
pub const SOCKET_DIR_KEY: &str = "PLUGIN_UNIX_SOCKET_DIR";

/// go-plugin's own protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only plugin protocol we speak.
pub const PROTOCOL_VERSION: u32 = 6;

/// What is printed when the binary is run by hand.
pub const NOT_A_COMMAND_EXPLANATION: &str = "\
This binary is a plugin: the Terraform provider for Project Planton \
(registry.terraform.io/project-planton/planton). It is not meant to be run \
directly; Terraform starts it and talks to it over a private connection. \
Declare the provider in a required_providers block and run `terraform init` \
and `terraform plan` (or `apply`) instead. To debug the provider, run it \
with `--debug` and export the TF_REATTACH_PROVIDERS line it prints.";

/// Why the handshake could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The magic cookie is missing or wrong: somebody ran us by hand.
    #[error("{NOT_A_COMMAND_EXPLANATION}")]
    NotLaunchedByTerraform,
    /// The client offered protocol versions, none of them 6.
    #[error(
        "Terraform offered plugin protocol version(s) {offered:?}, but this provider speaks only \
         protocol version {PROTOCOL_VERSION}. Use Terraform 1.0 or later (or OpenTofu 1.6 or later)."
    )]
    UnsupportedProtocol {
        /// The raw value of PLUGIN_PROTOCOL_VERSIONS.
        offered: String,
    },
    /// The socket directory could not be created.
    #[error("could not create a private directory for the plugin socket under {base}: {source}")]
    SocketDir {
        /// The parent directory.
        base: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The socket could not be bound.
    #[error("could not listen on the plugin socket {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the handshake line failed (stdout closed).
    #[error("could not write the handshake line to stdout: {0}")]
    Announce(#[source] io::Error),
}

/// Checks the magic cookie Terraform sets for its plugins.
pub fn check_magic_cookie(value: Option<&OsStr>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotLaunchedByTerraform),
    }
}

/// Picks the protocol version from PLUGIN_PROTOCOL_VERSIONS (a comma
/// separated list). An absent or empty list means a client too old to send
/// one, which go-plugin answers with the server's default: ours is 6.
/// Entries that are not numbers are ignored, as go-plugin does.
pub fn negotiate_protocol(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: offered.to_string(),
        })
    }
}

/// The handshake line: `CORE|VERSION|unix|PATH|grpc|CERT`, where CERT is the
/// server certificate's DER in standard base64 without padding, or empty
/// when the connection is plaintext.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

/// Writes one line to stdout and flushes it. Used for the handshake line
/// and, in debug mode, for the TF_REATTACH_PROVIDERS line.
#[allow(clippy::print_stdout)]
pub fn announce(line: &str) -> Result<(), HandshakeError> {
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(HandshakeError::Announce)
}

/// A private (0700) directory holding the plugin socket; both are removed
/// when this is dropped.
#[derive(Debug)]
pub struct SocketDir {
    dir: PathBuf,
    socket: PathBuf,
}

impl SocketDir {
    /// Creates a fresh directory under `base` (PLUGIN_UNIX_SOCKET_DIR, or
    /// the system temporary directory when `None`).
    pub fn create(base: Option<PathBuf>) -> Result<SocketDir, HandshakeError> {
        use std::os::unix::fs::DirBuilderExt as _;

        let base = base
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(std::env::temp_dir);
        let mut last_error = io::Error::other("no attempt made");
        // Random names; retry on the unlikely collision with an existing entry.
        for _ in 0..16 {
            let dir = base.join(format!("tfplanton-{}", random_suffix()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    let socket = dir.join("plugin.sock");
                    return Ok(SocketDir { dir, socket });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = e,
                Err(e) => return Err(HandshakeError::SocketDir { base, source: e }),
            }
        }
        Err(HandshakeError::SocketDir {
            base,
            source: last_error,
        })
    }

    /// Where the socket goes.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Binds the socket. Must run inside a tokio runtime.
    pub fn bind(&self) -> Result<tokio::net::UnixListener, HandshakeError> {
        tokio::net::UnixListener::bind(&self.socket).map_err(|source| HandshakeError::Bind {
            path: self.socket.clone(),
            source,
        })
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        // Best effort: the process is ending and nobody can act on an error.
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// 16 hex digits, unpredictable enough for a directory name: std's
/// randomly keyed hasher over the pid and the clock. The directory is
/// created exclusively with mode 0700, so a guessed name costs a retry,
/// never access.
fn random_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};

    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(check_magic_cookie(Some(OsStr::new(MAGIC_COOKIE_VALUE))).is_ok());
        assert!(check_magic_cookie(None).is_err());
        assert!(check_magic_cookie(Some(OsStr::new(""))).is_err());
        assert!(check_magic_cookie(Some(OsStr::new("d602bf8f"))).is_err());
    }

    #[test]
    fn negotiation_picks_six_or_fails_clearly() {
        assert_eq!(negotiate_protocol(Some("5,6")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("6,5")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some(" 6 ")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("x,6")).unwrap(), 6);
        assert_eq!(negotiate_protocol(None).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("")).unwrap(), 6);
        let err = negotiate_protocol(Some("5")).unwrap_err().to_string();
        assert!(
            err.contains("\"5\"") && err.contains("only protocol version 6"),
            "{err}"
        );
        assert!(negotiate_protocol(Some("4,5,7")).is_err());
    }

    #[test]
    fn handshake_line_shape() {
        let line = handshake_line(Path::new("/tmp/x/plugin.sock"), Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|AQIDBA");
        let line = handshake_line(Path::new("/tmp/x/plugin.sock"), None);
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|");
    }

    #[test]
    fn socket_dir_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt as _;

        let base = std::env::temp_dir();
        let dir = SocketDir::create(Some(base.clone())).unwrap();
        let path = dir.dir().to_path_buf();
        assert!(path.starts_with(&base));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(dir.socket_path(), b"").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
