//! A provider registry on loopback, over HTTPS, serving a release directory
//! as `scripts/release.sh` writes it, so that `terraform init` installs the
//! provider exactly as it would from a public registry: service discovery,
//! the versions, the download answer with the checksums, their signature and
//! the signing key, and the files.
//!
//! Terraform's provider registry protocol, as served here:
//!
//! ```text
//! GET /.well-known/terraform.json                       {"providers.v1": "/v1/providers/"}
//! GET /v1/providers/NS/TYPE/versions                    every version in the directory
//! GET /v1/providers/NS/TYPE/VERSION/download/OS/ARCH    filename, URLs, shasum, signing key
//! GET /files/NAME                                       a file of the directory
//! ```
//!
//! Files are read on each request, so a test may change them after signing.
//! The `shasum` of a download answer is the zip's line in `SHA256SUMS`, as a
//! registry records it when the release is published. The certificate
//! (for `localhost` and 127.0.0.1) comes from a CA made for the run, which
//! Terraform trusts through `SSL_CERT_FILE` ([`Registry::env`]). The server
//! runs on its own Tokio runtime, stopped when the [`Registry`] is dropped.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value as Json, json};

use super::release::NAME;

/// The signing key a download answer names.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// The long key ID (16 hex digits).
    pub key_id: String,
    /// The ASCII-armored public key.
    pub ascii_armor: String,
}

struct State {
    dist: PathBuf,
    namespace: String,
    key: SigningKey,
    base_url: String,
    requests: Mutex<Vec<String>>,
}

/// A running registry serving one provider (`NAMESPACE/planton`) from a
/// release directory.
pub struct Registry {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    state: Arc<State>,
    host: String,
    ca_file: PathBuf,
}

impl Registry {
    /// Serves the release in `dist` as the provider `namespace/planton`,
    /// signed with `key`; writes the CA certificate to
    /// `dir/registry-ca.pem`.
    pub fn start(dir: &Path, dist: &Path, namespace: &str, key: SigningKey) -> Registry {
        let tls = kube_emulator::tls::TlsBundle::generate().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config(false).unwrap());
        let ca_file = dir.join("registry-ca.pem");
        std::fs::write(&ca_file, &tls.ca_pem).unwrap();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let host = format!("localhost:{port}");
        let state = Arc::new(State {
            dist: dist.to_path_buf(),
            namespace: namespace.to_string(),
            key,
            base_url: format!("https://{host}"),
            requests: Mutex::new(Vec::new()),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        runtime.spawn(async move {
            loop {
                let stream = tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let acceptor = acceptor.clone();
                let state = served.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, &req)) }
                    });
                    // HTTP/1.1 or HTTP/2, whichever Terraform negotiates.
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Registry {
            runtime: Some(runtime),
            stop: Some(stop),
            state,
            host,
            ca_file,
        }
    }

    /// The provider's source address on this registry.
    pub fn source(&self) -> String {
        format!("{}/{}/planton", self.host, self.state.namespace)
    }

    /// The environment Terraform needs to trust the registry's certificate.
    pub fn env(&self) -> Vec<(&'static str, &Path)> {
        vec![("SSL_CERT_FILE", self.ca_file.as_path())]
    }

    /// A CLI configuration that installs providers from this registry only,
    /// directly (no mirror, no other host).
    pub fn cli_config(&self) -> String {
        format!(
            "provider_installation {{\n  direct {{\n    include = [\"{}/*/*\"]\n  }}\n}}\n",
            self.host
        )
    }

    /// Every request so far, as `METHOD PATH -> STATUS`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Ends the accept loop and every connection, and joins the worker.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(state: &State, req: &Request<hyper::body::Incoming>) -> Answer {
    let path = req.uri().path().to_string();
    let response = if req.method() == hyper::Method::GET {
        route(state, &path)
    } else {
        error(StatusCode::METHOD_NOT_ALLOWED, "GET only")
    };
    state.requests.lock().unwrap().push(format!(
        "{} {path} -> {}",
        req.method(),
        response.status().as_u16()
    ));
    response
}

fn route(state: &State, path: &str) -> Answer {
    if path == "/.well-known/terraform.json" {
        return ok_json(&json!({"providers.v1": "/v1/providers/"}));
    }
    if let Some(name) = path.strip_prefix("/files/") {
        if name.contains('/') {
            return error(StatusCode::NOT_FOUND, "no such file");
        }
        return match std::fs::read(state.dist.join(name)) {
            Ok(bytes) => Response::builder()
                .header("content-type", "application/octet-stream")
                .body(Full::new(Bytes::from(bytes)))
                .unwrap(),
            _ => error(StatusCode::NOT_FOUND, "no such file"),
        };
    }
    let Some(rest) = path.strip_prefix("/v1/providers/") else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let ours = parts.len() >= 3 && parts[0] == state.namespace && parts[1] == "planton";
    match parts.as_slice() {
        [_, _, "versions"] if ours => ok_json(&versions(state)),
        [_, _, version, "download", os, arch] if ours => download(state, version, os, arch)
            .map_or_else(
                || error(StatusCode::NOT_FOUND, "no such package"),
                |a| ok_json(&a),
            ),
        _ => error(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The zips in the directory, as (version, os, arch).
fn packages(state: &State) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&state.dist).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(middle) = name
            .strip_prefix(&format!("{NAME}_"))
            .and_then(|n| n.strip_suffix(".zip"))
        else {
            continue;
        };
        if let [version, os, arch] = middle.split('_').collect::<Vec<_>>().as_slice() {
            found.push((version.to_string(), os.to_string(), arch.to_string()));
        }
    }
    found.sort();
    found
}

/// The protocol versions a release's manifest declares.
fn protocols(state: &State, version: &str) -> Json {
    let path = state.dist.join(format!("{NAME}_{version}_manifest.json"));
    let manifest: Json = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    manifest["metadata"]["protocol_versions"].clone()
}

fn versions(state: &State) -> Json {
    let mut by_version: std::collections::BTreeMap<String, Vec<Json>> = Default::default();
    for (version, os, arch) in packages(state) {
        by_version
            .entry(version)
            .or_default()
            .push(json!({"os": os, "arch": arch}));
    }
    let versions: Vec<Json> = by_version
        .into_iter()
        .map(|(version, platforms)| {
            json!({
                "version": version,
                "protocols": protocols(state, &version),
                "platforms": platforms,
            })
        })
        .collect();
    json!({ "versions": versions })
}

fn download(state: &State, version: &str, os: &str, arch: &str) -> Option<Json> {
    let filename = format!("{NAME}_{version}_{os}_{arch}.zip");
    if !state.dist.join(&filename).is_file() {
        return None;
    }
    let sums_name = format!("{NAME}_{version}_SHA256SUMS");
    let sums = std::fs::read_to_string(state.dist.join(&sums_name)).ok()?;
    let shasum = sums
        .lines()
        .find_map(|line| {
            let (hash, name) = line.split_once("  ")?;
            (name == filename).then(|| hash.to_string())
        })
        .unwrap_or_default();
    let url = |name: &str| format!("{}/files/{name}", state.base_url);
    Some(json!({
        "protocols": protocols(state, version),
        "os": os,
        "arch": arch,
        "filename": filename,
        "download_url": url(&filename),
        "shasums_url": url(&sums_name),
        "shasums_signature_url": url(&format!("{sums_name}.sig")),
        "shasum": shasum,
        "signing_keys": {
            "gpg_public_keys": [{
                "key_id": state.key.key_id,
                "ascii_armor": state.key.ascii_armor,
            }],
        },
    }))
}

fn ok_json(body: &Json) -> Answer {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn error(status: StatusCode, message: &str) -> Answer {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            json!({ "errors": [message] }).to_string(),
        )))
        .unwrap()
}
