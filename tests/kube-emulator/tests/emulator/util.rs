//! Test harness: an emulator per test, a kube-rs client for it, raw HTTP, and
//! deterministic waiting (watch-based, with a deadline).

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::await_condition;
use kube::{Client, Config, Resource};
use kube_emulator::{EmulatorConfig, RunningEmulator};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An emulator and a client for it.
pub struct Env {
    pub emu: RunningEmulator,
    pub client: Client,
}

/// A kube-rs client from an emulator's kubeconfig.
pub async fn client_for(kubeconfig: &str) -> Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// Start an emulator with fast timings.
pub async fn env() -> Env {
    env_with(EmulatorConfig::fast()).await
}

/// Start an emulator with a config.
pub async fn env_with(config: EmulatorConfig) -> Env {
    let emu = kube_emulator::start(config).await.expect("emulator starts");
    let client = client_for(&emu.kubeconfig).await;
    Env { emu, client }
}

impl Env {
    /// A namespaced API.
    pub fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Create a namespace.
    pub async fn namespace(&self, name: &str) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .expect("namespace created");
    }

    /// Raw HTTP request; returns status, headers and the body (JSON when it parses, else a string).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, http::HeaderMap, Value) {
        raw(&self.emu.url, method, path, content_type, body).await
    }

    /// POST `v` as JSON to `path` (raw HTTP, like [`Env::raw`]).
    pub async fn post_json(&self, path: &str, v: &Value) -> (u16, http::HeaderMap, Value) {
        let body = serde_json::to_vec(v).unwrap();
        self.raw("POST", path, Some("application/json"), body).await
    }
}

/// Raw HTTP to a URL (plain HTTP only).
pub async fn raw(
    url: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, http::HeaderMap, Value) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = client.request(req).await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, v)
}

/// A Job that runs `containers` env for the emulator's kubelet.
pub fn job(name: &str, env: &[(&str, &str)]) -> Value {
    let env: Vec<Value> = env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36", "env": env}]}}}
    })
}

/// Parse JSON into a typed object.
pub fn typed<K: DeserializeOwned>(v: Value) -> K {
    serde_json::from_value(v).expect("typed value")
}

/// Create the object `v` describes through `api` (default parameters), which must succeed.
pub async fn create<K>(api: &Api<K>, v: Value) -> K
where
    K: Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), &typed(v)).await.unwrap()
}

/// Create the object `v` describes through `api`, which must be refused; the `Status` it answers.
pub async fn create_refused<K>(api: &Api<K>, v: Value) -> kube::core::Status
where
    K: Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    status_of(
        api.create(&PostParams::default(), &typed(v))
            .await
            .unwrap_err(),
    )
}

/// Wait until a Job satisfies `cond` (watch-based), at most `secs` seconds.
pub async fn wait_job(api: &Api<Job>, name: &str, secs: u64, cond: impl Fn(&Job) -> bool) -> Job {
    let fut = await_condition(api.clone(), name, move |j: Option<&Job>| {
        j.is_some_and(&cond)
    });
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(Ok(Some(j))) => j,
        Ok(other) => panic!("waiting for job {name}: {other:?}"),
        Err(_) => {
            let j = api.get(name).await.ok();
            panic!(
                "job {name} did not reach the condition in {secs}s; last state: {:#?}",
                j.map(|j| j.status)
            )
        }
    }
}

/// Whether a Job has a condition of `ty` with status True.
pub fn has_condition(j: &Job, ty: &str) -> bool {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == ty && c.status == "True"))
}

/// A condition's reason.
pub fn condition_reason(j: &Job, ty: &str) -> Option<String> {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.type_ == ty)
                .and_then(|c| c.reason.clone())
        })
}

/// Poll `f` until it returns Some, at most `secs` seconds (for states no watch names).
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The kube error's Status, when the error is one.
pub fn status_of(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
