//! `kube-emulator --listen 127.0.0.1:PORT --kubeconfig-out FILE [--tls] [--token T] [--client-cert-auth]
//! [--user NAME=TOKEN] [--deny USER:VERBS:RESOURCES:NAMESPACES] [--allow-namespaces USER:NAMESPACES]`
//!
//! Serves until killed. Port 0 picks a free port; the kubeconfig names it.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use kube_emulator::tls::TlsBundle;
use kube_emulator::{EmulatorConfig, serve};

const USAGE: &str = "usage: kube-emulator [--listen 127.0.0.1:PORT] [--kubeconfig-out FILE] [--tls] [--token TOKEN] [--client-cert-auth] [--user NAME=TOKEN]... [--deny RULE]... [--allow-namespaces USER:NS,...]... [--fast] [--job-backoff SECONDS] [--run-seconds SECONDS] [--disable-controllers LIST]

Serves a Kubernetes API-server emulator on a loopback address until killed.
  --listen ADDR            address to listen on (default 127.0.0.1:0, a free port)
  --kubeconfig-out FILE    write a kubeconfig for the emulator to FILE
  --tls                    serve HTTPS with a generated CA (the kubeconfig carries it)
  --token TOKEN            require this bearer token
  --client-cert-auth       accept a generated client certificate (implies --tls; written to the kubeconfig)
  --user NAME=TOKEN        also accept bearer TOKEN, as the user NAME (repeatable; --token is kube-emulator-admin)
  --deny USER:VERBS:RESOURCES:NAMESPACES
                           refuse USER these requests with 403 Forbidden; comma-separated lists, * for any,
                           e.g. alice:get,list:jobs,pods/log:private (repeatable)
  --allow-namespaces USER:NAMESPACES
                           limit USER to these comma-separated namespaces (no cluster-scope requests)
  --fast                   short delays for tests (50 ms back-offs)
  --job-backoff SECONDS    first job controller back-off after a failed pod (default 10)
  --run-seconds SECONDS    run time of containers without EMULATOR_RUN_SECONDS (default 1)
  --disable-controllers L  comma-separated: job,kubelet,gc,namespace,ttl,serviceaccounts";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kube-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:0".to_string();
    let mut kubeconfig_out: Option<String> = None;
    let mut config = EmulatorConfig::default();
    let mut want_tls = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--listen" => listen = value("--listen")?,
            "--kubeconfig-out" => kubeconfig_out = Some(value("--kubeconfig-out")?),
            "--tls" => want_tls = true,
            "--token" => config.token = Some(value("--token")?),
            "--user" => {
                let text = value("--user")?;
                let (name, token) = text
                    .split_once('=')
                    .filter(|(n, t)| !n.is_empty() && !t.is_empty())
                    .ok_or_else(|| format!("--user {text:?}: expected NAME=TOKEN\n{USAGE}"))?;
                config
                    .token_users
                    .insert(token.to_string(), name.to_string());
            }
            "--deny" => config.authorization.add_deny_flag(&value("--deny")?)?,
            "--allow-namespaces" => config
                .authorization
                .add_allow_namespaces_flag(&value("--allow-namespaces")?)?,
            "--client-cert-auth" | "--client-ca" => {
                want_tls = true;
                config.client_cert_auth = true;
            }
            "--fast" => {
                let fast = EmulatorConfig::fast();
                config.job_backoff_base = fast.job_backoff_base;
                config.restart_backoff_base = fast.restart_backoff_base;
                config.pod_start_delay = fast.pod_start_delay;
            }
            "--job-backoff" => {
                let s: f64 = value("--job-backoff")?
                    .parse()
                    .map_err(|e| format!("--job-backoff: {e}"))?;
                config.job_backoff_base = Duration::from_secs_f64(s.max(0.0));
            }
            "--run-seconds" => {
                config.default_run_seconds = value("--run-seconds")?
                    .parse()
                    .map_err(|e| format!("--run-seconds: {e}"))?;
            }
            "--disable-controllers" => {
                for c in value("--disable-controllers")?.split(',') {
                    match c.trim() {
                        "job" => config.controllers.job = false,
                        "kubelet" => config.controllers.kubelet = false,
                        "gc" => config.controllers.garbage_collector = false,
                        "namespace" => config.controllers.namespace = false,
                        "ttl" => config.controllers.ttl_after_finished = false,
                        "serviceaccounts" => config.controllers.service_accounts = false,
                        other => return Err(format!("unknown controller {other:?}\n{USAGE}")),
                    }
                }
            }
            "-h" | "--help" => {
                eprintln!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if want_tls {
        config.tls = Some(Arc::new(TlsBundle::generate().map_err(|e| e.to_string())?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| format!("listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let url = format!("{}://{addr}", config.scheme());
        if let Some(path) = &kubeconfig_out {
            let text = config.kubeconfig(&url);
            std::fs::write(path, text).map_err(|e| format!("write {path}: {e}"))?;
        }
        eprintln!("kube-emulator: serving {url}");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}
