//! The `planton_kubernetes_job` lifecycle (plan, apply, read, wait, delete)
//! against the API-server emulator, in-process on `127.0.0.1:0`, driven the
//! way Terraform drives the resource: configuration, plan pipeline, apply.
//! Assertions are about the objects in the cluster and the state, not about
//! which calls were made (except in the fault test, which counts).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube_emulator::{EmulatorConfig, RunningEmulator};
use planton_provider::kube::clusters::{ClusterRef, Clusters};
use planton_provider::kube::lists::LIST_AFTER;
use planton_provider::kube::settings::{ConnectionSettings, ProviderSettings};
use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::tf::dispatch::apply_resource_change;
use planton_provider::tf::plan::{PlanInput, plan_resource_change};
use planton_provider::tf::resource::{
    ApplyRequest, ApplyResponse, ClientCapabilities, PlanResponse, ReadRequest, ReadResponse,
};
use planton_provider::tf::value::json;
use planton_provider::tf::{Diagnostics, Resource, Value};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// An emulator, a resource configured for it, and a client to inspect it.
struct World {
    emulator: RunningEmulator,
    resource: KubernetesJobResource,
    client: kube::Client,
    /// The private state Terraform would keep with each state the resource
    /// returned, so that tests can pass states around as Terraform does.
    privates: std::sync::Mutex<Vec<(Value, Vec<u8>)>>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let emulator = kube_emulator::start(EmulatorConfig::fast()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, &emulator.kubeconfig).unwrap();
        let clients = Arc::new(Clusters::new());
        clients.install(ProviderSettings::provider_level(
            ConnectionSettings::kubeconfig_file(path),
        ));
        let client = clients.connect(&ClusterRef::Provider).await.unwrap().client;
        World {
            emulator,
            resource: KubernetesJobResource::with_clients(clients),
            client,
            privates: std::sync::Mutex::default(),
            _dir: dir,
        }
    }

    /// The configuration value for `config` (JSON of the resource's
    /// attributes; absent ones are null).
    fn config(&self, config: serde_json::Value) -> Value {
        let ty = self.resource.schema().value_type();
        json::decode(config.to_string().as_bytes(), &ty).unwrap()
    }

    /// Plans `config` against `prior`, as Terraform would (computed values
    /// proposed from the prior state).
    /// Remembers the private state that goes with `state`.
    fn keep(&self, state: &Value, private: &[u8]) {
        if !state.is_null() {
            self.privates
                .lock()
                .unwrap()
                .push((state.clone(), private.to_vec()));
        }
    }

    /// The private state Terraform would hold with `state`.
    fn private_of(&self, state: &Value) -> Vec<u8> {
        self.privates
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(s, _)| s == state)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    async fn plan(&self, prior: &Value, config: &Value, private: &[u8]) -> PlanResponse {
        let private = if private.is_empty() {
            self.private_of(prior)
        } else {
            private.to_vec()
        };
        let mut proposed = config.clone();
        if let (Value::Object(p), Some(prior)) = (&mut proposed, prior.as_entries()) {
            for name in ["id", "outputs", "status", "objects", "drift"] {
                p.insert(
                    name.to_string(),
                    prior.get(name).cloned().unwrap_or_default(),
                );
            }
        }
        let resp = plan_resource_change(
            &self.resource,
            PlanInput {
                prior_state: prior.clone(),
                proposed_new_state: proposed,
                config: config.clone(),
                prior_private: private,
                capabilities: ClientCapabilities::default(),
            },
        )
        .await;
        assert!(!resp.diagnostics.has_error(), "{:?}", resp.diagnostics);
        resp
    }

    async fn apply(&self, prior: &Value, plan: &PlanResponse, config: &Value) -> ApplyResponse {
        self.apply_with(prior, plan, config, CancellationToken::new())
            .await
    }

    async fn apply_with(
        &self,
        prior: &Value,
        plan: &PlanResponse,
        config: &Value,
        cancel: CancellationToken,
    ) -> ApplyResponse {
        let resp = apply_resource_change(
            &self.resource,
            ApplyRequest {
                prior_state: prior.clone(),
                planned_state: plan.planned_state.clone(),
                config: config.clone(),
                planned_private: plan.planned_private.clone(),
                cancel,
            },
        )
        .await;
        self.keep(&resp.new_state, &resp.private);
        resp
    }

    /// Plans and applies `config` on top of `prior`; must succeed.
    async fn converge(&self, prior: &Value, config: &Value) -> Value {
        let plan = self.plan(prior, config, &[]).await;
        let resp = self.apply(prior, &plan, config).await;
        assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
        resp.new_state
    }

    async fn read(&self, state: &Value) -> ReadResponse {
        let resp = self
            .resource
            .read(ReadRequest {
                current_state: state.clone(),
                private: self.private_of(state),
                cancel: CancellationToken::new(),
            })
            .await;
        self.keep(&resp.new_state, &resp.private);
        resp
    }

    async fn destroy(&self, state: &Value) -> ApplyResponse {
        apply_resource_change(
            &self.resource,
            ApplyRequest {
                prior_state: state.clone(),
                planned_state: Value::Null,
                config: Value::Null,
                planned_private: self.private_of(state),
                cancel: CancellationToken::new(),
            },
        )
        .await
    }

    fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let uri = format!("/__emulator/{path}");
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .unwrap();
        self.client.request::<serde_json::Value>(req).await.unwrap()
    }
}

fn show(d: &Diagnostics) -> String {
    d.iter()
        .map(|x| format!("[{:?}] {}: {}", x.severity, x.summary, x.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A job: a ConfigMap mounted as a file, an env secret, a scratch volume.
fn job_config(ns: &str, name: &str, extra_env: serde_json::Value) -> serde_json::Value {
    let mut vars =
        json!({"REPORT_DAY": {"value": "yesterday"}, "EMULATOR_RUN_SECONDS": {"value": "0.2"}});
    for (k, v) in extra_env.as_object().unwrap() {
        vars[k] = json!({"value": v});
    }
    json!({
        "metadata": {"name": name, "org": "acme", "env": "dev"},
        "spec": {
            "namespace": {"value": ns},
            "create_namespace": true,
            "image": {"repo": "busybox", "tag": "1.36"},
            "command": ["/bin/sh", "-c", "cat /etc/report/report.yaml"],
            "env": {
                "variables": vars,
                "secrets": {"DB_PASSWORD": {"value": "hunter2"}}
            },
            "config_maps": {"report-config": "format: csv\n"},
            "volume_mounts": [
                {"name": "config", "mount_path": "/etc/report", "read_only": true,
                 "config_map": {"name": "report-config", "key": "report-config", "path": "report.yaml"}},
                {"name": "scratch", "mount_path": "/scratch", "empty_dir": {"size_limit": "64Mi"}}
            ],
            "backoff_limit": 2
        }
    })
}

fn labels_of(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

/// Create makes exactly the expected objects with Planton's labels, waits
/// for completion, and records every object; a refresh then plans nothing;
/// destroy removes everything including the namespace it created.
#[tokio::test]
async fn create_read_plan_destroy() {
    let w = World::new().await;
    let config = w.config(job_config("reports", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;

    assert_eq!(state.get("id"), &Value::string("reports/nightly"));
    assert_eq!(state.get("status").get("succeeded"), &Value::int(1));
    let kinds: Vec<String> = state
        .get("objects")
        .as_elements()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o.get("kind").as_str().unwrap(),
                o.get("name").as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace/reports",
            "ServiceAccount/nightly",
            "Secret/nightly-env-secrets",
            "ConfigMap/report-config",
            "Job/nightly"
        ]
    );
    let job = w.api::<Job>("reports").get("nightly").await.unwrap();
    let labels = labels_of(&job.metadata);
    assert_eq!(labels["planton.ai/resource"], "true");
    assert_eq!(labels["planton.ai/name"], "nightly");
    assert_eq!(labels["planton.ai/kind"], "KubernetesJob");
    assert_eq!(labels["planton.ai/organization"], "acme");
    assert_eq!(labels["planton.ai/environment"], "dev");
    let pod_spec = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod_spec.service_account_name.as_deref(), Some("nightly"));
    let env: Vec<String> = pod_spec.containers[0]
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        env,
        [
            "HOSTNAME",
            "K8S_POD_ID",
            "EMULATOR_RUN_SECONDS",
            "REPORT_DAY",
            "DB_PASSWORD"
        ]
    );
    let secret = w
        .api::<Secret>("reports")
        .get("nightly-env-secrets")
        .await
        .unwrap();
    assert_eq!(secret.data.unwrap()["DB_PASSWORD"].0, b"hunter2");
    let managers: Vec<String> = job
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"planton".to_string()), "{managers:?}");

    // Refresh after completion (server defaults and status filled in):
    // nothing to plan.
    let read = w.read(&state).await;
    assert!(read.diagnostics.is_empty(), "{}", show(&read.diagnostics));
    assert_eq!(read.new_state.get("drift"), &Value::List(vec![]));
    let plan = w.plan(&read.new_state, &config, &read.private).await;
    assert!(plan.requires_replace.is_empty());
    assert!(
        plan.planned_state.semantically_equal(&read.new_state),
        "a plan after apply shows changes"
    );

    let resp = w.destroy(&read.new_state).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    assert_eq!(resp.new_state, Value::Null);
    let namespaces = Api::<Namespace>::all(w.client.clone());
    assert!(namespaces.get_opt("reports").await.unwrap().is_none());
}

/// A failing job (exit 3, backoff limit 1) fails apply soon after its Failed
/// condition, with the reason, the exit code and the log tail; the state
/// returned still tracks every object (so Terraform taints it).
#[tokio::test]
async fn failing_job_reports_why() {
    let w = World::new().await;
    let mut cfg = job_config(
        "fail",
        "broken",
        json!({"EMULATOR_EXIT_CODE": "3", "EMULATOR_LOG_LINES": "starting\nconnecting to db\nerror: connection refused"}),
    );
    cfg["spec"]["backoff_limit"] = json!(1);
    let config = w.config(cfg);
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let started = Instant::now();
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let took = started.elapsed();
    assert!(resp.diagnostics.has_error());
    let text = show(&resp.diagnostics);
    assert!(text.contains("Kubernetes Job Failed"), "{text}");
    assert!(text.contains("BackoffLimitExceeded"), "{text}");
    assert!(text.contains("exited with code 3"), "{text}");
    assert!(text.contains("error: connection refused"), "{text}");
    assert!(!text.contains("hunter2"), "a secret value leaked: {text}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let objects = resp.new_state.get("objects").as_elements().unwrap().len();
    assert_eq!(objects, 5);
    assert!(
        resp.new_state
            .get("status")
            .get("failed")
            .as_number()
            .is_some()
    );
}

/// An object without this job's labels is never overwritten; neither is one
/// with them that another resource instance made (another state with the
/// same job, or an older provider version): the apply fails saying whose it
/// is, and removes what it created before it found out.
#[tokio::test]
async fn ownership_and_adoption() {
    let w = World::new().await;
    let ns = Api::<Namespace>::all(w.client.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "shared"}})).unwrap(),
    )
    .await
    .unwrap();
    // Someone else's ConfigMap with the name the job wants.
    w.api::<ConfigMap>("shared")
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "report-config"}, "data": {"x": "theirs"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let mut cfg = job_config("shared", "nightly", json!({}));
    cfg["spec"]["create_namespace"] = json!(false);
    let config = w.config(cfg);
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let text = show(&resp.diagnostics);
    assert!(
        text.contains("Kubernetes Object Not Managed By This Resource"),
        "{text}"
    );
    assert!(text.contains("ConfigMap shared/report-config"), "{text}");
    assert_eq!(resp.new_state, Value::Null);
    assert!(
        w.api::<Job>("shared")
            .get_opt("nightly")
            .await
            .unwrap()
            .is_none()
    );
    let theirs = w
        .api::<ConfigMap>("shared")
        .get("report-config")
        .await
        .unwrap();
    assert_eq!(theirs.data.unwrap()["x"], "theirs");

    // Labelled as this job's, but by no instance of this resource.
    w.api::<ConfigMap>("shared")
        .delete("report-config", &DeleteParams::default())
        .await
        .unwrap();
    let theirs = w
        .api::<ServiceAccount>("shared")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "nightly", "labels": {
                "planton.ai/resource": "true", "planton.ai/kind": "KubernetesJob", "planton.ai/name": "nightly"
            }}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let text = show(&resp.diagnostics);
    assert!(
        text.contains("Kubernetes Object Owned By Another Resource"),
        "{text}"
    );
    assert!(text.contains("ServiceAccount shared/nightly"), "{text}");
    assert!(text.contains("terraform import"), "{text}");
    assert_eq!(resp.new_state, Value::Null);
    // Nothing half made: what the apply created alongside is gone again.
    let cms = w
        .api::<ConfigMap>("shared")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        cms.items
            .iter()
            .all(|c| c.metadata.name.as_deref() != Some("report-config")),
        "{:?}",
        cms.items
    );
    assert!(
        w.api::<Secret>("shared")
            .get_opt("nightly-env-secrets")
            .await
            .unwrap()
            .is_none()
    );
    let still = w
        .api::<ServiceAccount>("shared")
        .get("nightly")
        .await
        .unwrap();
    assert_eq!(still.metadata.uid, theirs.metadata.uid);
    assert_eq!(
        still.metadata.resource_version,
        theirs.metadata.resource_version
    );
    assert!(ns.get_opt("shared").await.unwrap().is_some());
}

/// Two states declare the same job: the second apply fails naming the first
/// one's instance and leaves its objects as they were; destroying the
/// second changes nothing of the first.
#[tokio::test]
async fn two_states_never_share_a_job() {
    let w = World::new().await;
    let config = w.config(job_config("twins", "nightly", json!({})));
    let first = w.converge(&Value::Null, &config).await;
    let before = objects_in(&w, "twins").await;
    let instance = w
        .api::<Job>("twins")
        .get("nightly")
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap()["planton.ai/instance"]
        .clone();

    let plan = w.plan(&Value::Null, &config, &[]).await;
    let second = w.apply(&Value::Null, &plan, &config).await;
    let text = show(&second.diagnostics);
    assert!(
        second.diagnostics.has_error(),
        "the second state took the job over"
    );
    assert!(text.contains(&instance), "{text}");
    assert_eq!(objects_in(&w, "twins").await, before);

    // The second state keeps nothing, so its destroy touches nothing; and a
    // destroy of a stale copy of the first state's objects would refuse the
    // objects by UID anyway.
    let destroyed = w.destroy(&second.new_state).await;
    assert!(
        !destroyed.diagnostics.has_error(),
        "{}",
        show(&destroyed.diagnostics)
    );
    assert_eq!(objects_in(&w, "twins").await, before);
    let resp = w.destroy(&first).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
}

/// Every object of a namespace with its UID, resourceVersion and data, to
/// compare before and after.
async fn objects_in(w: &World, ns: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for cm in w
        .api::<ConfigMap>(ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.insert(
            format!("configmap/{}", cm.metadata.name.clone().unwrap_or_default()),
            format!(
                "{:?} {:?} {:?}",
                cm.metadata.uid, cm.metadata.resource_version, cm.data
            ),
        );
    }
    for s in w
        .api::<Secret>(ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.insert(
            format!("secret/{}", s.metadata.name.clone().unwrap_or_default()),
            format!(
                "{:?} {:?} {:?}",
                s.metadata.uid, s.metadata.resource_version, s.data
            ),
        );
    }
    for sa in w
        .api::<ServiceAccount>(ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.insert(
            format!(
                "serviceaccount/{}",
                sa.metadata.name.clone().unwrap_or_default()
            ),
            format!("{:?} {:?}", sa.metadata.uid, sa.metadata.resource_version),
        );
    }
    for j in w
        .api::<Job>(ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.insert(
            format!("job/{}", j.metadata.name.clone().unwrap_or_default()),
            format!("{:?} {:?}", j.metadata.uid, j.metadata.labels),
        );
    }
    out
}

/// An object of ours deleted and created again by someone else, labels and
/// all, is drift in the next refresh (not silently ours again), the apply
/// refuses to take it over, and destroy never deletes it.
#[tokio::test]
async fn a_recreated_object_is_drift_and_never_deleted() {
    let w = World::new().await;
    let config = w.config(job_config("recreated", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;
    let cms = w.api::<ConfigMap>("recreated");
    let ours = cms.get("report-config").await.unwrap();
    cms.delete("report-config", &DeleteParams::default())
        .await
        .unwrap();
    let mut copy = ours.clone();
    copy.metadata.uid = None;
    copy.metadata.resource_version = None;
    copy.metadata.managed_fields = None;
    copy.metadata.creation_timestamp = None;
    let theirs = cms.create(&PostParams::default(), &copy).await.unwrap();
    assert_ne!(theirs.metadata.uid, ours.metadata.uid);

    let read = w.read(&state).await;
    assert!(!read.diagnostics.has_error(), "{}", show(&read.diagnostics));
    let drift: Vec<String> = read
        .new_state
        .get("drift")
        .as_elements()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert!(
        drift
            .iter()
            .any(|d| d.contains("ConfigMap recreated/report-config")
                && d.contains("another object of the same name")),
        "{drift:?}"
    );
    let plan = w.plan(&read.new_state, &config, &read.private).await;
    let resp = w.apply(&read.new_state, &plan, &config).await;
    let text = show(&resp.diagnostics);
    assert!(text.contains("Replaced Outside Terraform"), "{text}");
    let resp = w.destroy(&read.new_state).await;
    assert!(!resp.diagnostics.has_error() || show(&resp.diagnostics).contains("report-config"));
    let left = cms.get("report-config").await.unwrap();
    assert_eq!(left.metadata.uid, theirs.metadata.uid);
}

/// Two jobs declare the same namespace with `create_namespace`: both apply,
/// the plans settle (no fight over the namespace's labels), destroying one
/// leaves the namespace and the other job, destroying the second removes it.
#[tokio::test]
async fn a_namespace_declared_by_two_jobs_is_shared() {
    let w = World::new().await;
    let a = w.config(job_config("team", "alpha", json!({})));
    let mut beta = job_config("team", "beta", json!({}));
    beta["spec"]["config_maps"] = json!({"beta-config": "format: csv\n"});
    beta["spec"]["volume_mounts"][0]["config_map"] =
        json!({"name": "beta-config", "key": "beta-config", "path": "report.yaml"});
    let b = w.config(beta);
    let state_a = w.converge(&Value::Null, &a).await;
    let state_b = w.converge(&Value::Null, &b).await;
    let namespaces = Api::<Namespace>::all(w.client.clone());
    let uid = namespaces.get("team").await.unwrap().metadata.uid;
    for (state, config) in [(&state_a, &a), (&state_b, &b)] {
        let read = w.read(state).await;
        assert!(!read.diagnostics.has_error(), "{}", show(&read.diagnostics));
        assert_eq!(
            read.new_state.get("drift"),
            &Value::List(Vec::new()),
            "the namespace's labels fight"
        );
        let plan = w.plan(&read.new_state, config, &read.private).await;
        assert!(plan.planned_state.semantically_equal(&read.new_state));
    }
    let resp = w.destroy(&state_a).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    assert_eq!(namespaces.get("team").await.unwrap().metadata.uid, uid);
    assert!(
        w.api::<Job>("team")
            .get_opt("beta")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        w.api::<Job>("team")
            .get_opt("alpha")
            .await
            .unwrap()
            .is_none()
    );
    let resp = w.destroy(&state_b).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    assert!(namespaces.get_opt("team").await.unwrap().is_none());
}

/// A namespace this resource created stays when something that is not the
/// job's lives in it, with a warning that says what.
#[tokio::test]
async fn a_namespace_with_foreign_objects_is_kept() {
    let w = World::new().await;
    let config = w.config(job_config("busy", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;
    w.api::<ConfigMap>("busy")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "someone-elses"}})).unwrap(),
        )
        .await
        .unwrap();
    let resp = w.destroy(&state).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let text = show(&resp.diagnostics);
    assert!(text.contains("Namespace Kept"), "{text}");
    assert!(text.contains("configmap/someone-elses"), "{text}");
    let namespaces = Api::<Namespace>::all(w.client.clone());
    assert!(namespaces.get_opt("busy").await.unwrap().is_some());
    assert!(
        w.api::<Job>("busy")
            .get_opt("nightly")
            .await
            .unwrap()
            .is_none()
    );
}

/// Out-of-band edits show in the next plan and apply restores them: changed
/// ConfigMap data (as a diff of `config_maps`), a deleted env Secret and a
/// removed Job label (in `drift`).
#[tokio::test]
async fn drift_is_planned_and_restored() {
    let w = World::new().await;
    let config = w.config(job_config("drift", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;
    let job_uid = w
        .api::<Job>("drift")
        .get("nightly")
        .await
        .unwrap()
        .metadata
        .uid;

    // As `kubectl edit` does: an update under a field manager of its own.
    let merge = PatchParams {
        field_manager: Some("kubectl-edit".to_string()),
        ..PatchParams::default()
    };
    w.api::<ConfigMap>("drift")
        .patch(
            "report-config",
            &merge,
            &Patch::Merge(json!({"data": {"report-config": "format: json\n"}})),
        )
        .await
        .unwrap();
    w.api::<Secret>("drift")
        .delete("nightly-env-secrets", &DeleteParams::default())
        .await
        .unwrap();
    w.api::<Job>("drift")
        .patch(
            "nightly",
            &merge,
            &Patch::Merge(json!({"metadata": {"labels": {"planton.ai/environment": null}}})),
        )
        .await
        .unwrap();

    let read = w.read(&state).await;
    assert!(!read.diagnostics.has_error(), "{}", show(&read.diagnostics));
    let refreshed = read.new_state.clone();
    assert_eq!(
        refreshed
            .get("spec")
            .get("config_maps")
            .get("report-config"),
        &Value::string("format: json\n")
    );
    let drift: Vec<&str> = refreshed
        .get("drift")
        .as_elements()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        drift.contains(&"Secret drift/nightly-env-secrets was deleted"),
        "{drift:?}"
    );
    assert!(
        drift.contains(&"Job drift/nightly: label planton.ai/environment was removed"),
        "{drift:?}"
    );

    let plan = w.plan(&refreshed, &config, &read.private).await;
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    assert!(!plan.planned_state.semantically_equal(&refreshed));
    let resp = w.apply(&refreshed, &plan, &config).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    // The edited field is taken back, and the apply says from whom.
    let text = show(&resp.diagnostics);
    assert!(text.contains("Kubernetes Fields Taken Back"), "{text}");
    assert!(text.contains("ConfigMap drift/report-config"), "{text}");
    assert!(text.contains("kubectl-edit"), "{text}");

    let cm = w
        .api::<ConfigMap>("drift")
        .get("report-config")
        .await
        .unwrap();
    assert_eq!(cm.data.unwrap()["report-config"], "format: csv\n");
    assert!(
        w.api::<Secret>("drift")
            .get_opt("nightly-env-secrets")
            .await
            .unwrap()
            .is_some()
    );
    let job = w.api::<Job>("drift").get("nightly").await.unwrap();
    assert_eq!(labels_of(&job.metadata)["planton.ai/environment"], "dev");
    assert_eq!(job.metadata.uid, job_uid, "the Job was replaced");

    let again = w.read(&resp.new_state).await;
    assert_eq!(again.new_state.get("drift"), &Value::List(vec![]));
    let plan = w.plan(&again.new_state, &config, &again.private).await;
    assert!(plan.planned_state.semantically_equal(&again.new_state));
}

/// In-place fields update the live Job without replacing it.
#[tokio::test]
async fn in_place_update_keeps_the_job() {
    let w = World::new().await;
    let mut cfg = job_config("inplace", "nightly", json!({}));
    cfg["spec"]["suspend"] = json!(true);
    let state = w.converge(&Value::Null, &w.config(cfg.clone())).await;
    let uid = w
        .api::<Job>("inplace")
        .get("nightly")
        .await
        .unwrap()
        .metadata
        .uid;
    for (field, value) in [
        ("parallelism", json!(2)),
        ("backoff_limit", json!(4)),
        ("active_deadline_seconds", json!(600)),
        ("ttl_seconds_after_finished", json!(3600)),
        ("suspend", json!(false)),
    ] {
        cfg["spec"][field] = value;
    }
    cfg["spec"]["config_maps"]["report-config"] = json!("format: json\n");
    let config = w.config(cfg);
    let plan = w.plan(&state, &config, &[]).await;
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    let resp = w.apply(&state, &plan, &config).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let job = w.api::<Job>("inplace").get("nightly").await.unwrap();
    assert_eq!(job.metadata.uid, uid);
    let spec = job.spec.unwrap();
    assert_eq!(spec.parallelism, Some(2));
    assert_eq!(spec.backoff_limit, Some(4));
    assert_eq!(spec.active_deadline_seconds, Some(600));
    assert_eq!(spec.ttl_seconds_after_finished, Some(3600));
    assert_eq!(spec.suspend, Some(false));
    // It was resumed and waited for.
    assert_eq!(
        resp.new_state.get("status").get("succeeded"),
        &Value::int(1)
    );
}

/// A Job deleted by its TTL after finishing: "keep" leaves the state as
/// finished with nothing to plan; "recreate" plans an update that creates
/// the Job again, and destroy still removes everything.
#[tokio::test]
async fn ttl_policies() {
    let w = World::new().await;
    for (policy, name) in [("keep", "kept"), ("recreate", "again")] {
        let ns = format!("ttl-{policy}");
        let mut cfg = job_config(&ns, name, json!({}));
        cfg["spec"]["ttl_seconds_after_finished"] = json!(1);
        cfg["after_ttl_deletion"] = json!(policy);
        let config = w.config(cfg);
        let state = w.converge(&Value::Null, &config).await;
        // Wait for the TTL controller.
        let jobs = w.api::<Job>(&ns);
        let deadline = Instant::now() + Duration::from_secs(10);
        while jobs.get_opt(name).await.unwrap().is_some() {
            assert!(
                Instant::now() < deadline,
                "the TTL controller did not delete {name}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let read = w.read(&state).await;
        assert!(!read.diagnostics.has_error(), "{}", show(&read.diagnostics));
        match policy {
            "keep" => {
                assert_eq!(read.new_state.get("status"), state.get("status"));
                let plan = w.plan(&read.new_state, &config, &read.private).await;
                assert!(plan.planned_state.semantically_equal(&read.new_state));
                // An in-place change does not bring the Job back.
                let mut changed = job_config(&ns, name, json!({}));
                changed["spec"]["ttl_seconds_after_finished"] = json!(1);
                changed["spec"]["backoff_limit"] = json!(5);
                let changed = w.config(changed);
                let plan = w.plan(&read.new_state, &changed, &read.private).await;
                let resp = w.apply(&read.new_state, &plan, &changed).await;
                assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
                assert!(jobs.get_opt(name).await.unwrap().is_none());
            }
            _ => {
                // The state stays (so destroy finds every object); the plan
                // is an update that creates the Job again.
                let drift = read.new_state.get("drift").as_elements().unwrap().to_vec();
                assert_eq!(drift.len(), 1, "{drift:?}");
                assert!(
                    drift[0]
                        .as_str()
                        .unwrap()
                        .contains("was deleted by its TTL")
                );
                let plan = w.plan(&read.new_state, &config, &read.private).await;
                assert!(plan.requires_replace.is_empty());
                let resp = w.apply(&read.new_state, &plan, &config).await;
                assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
                assert_eq!(
                    resp.new_state.get("status").get("succeeded"),
                    &Value::int(1)
                );
                let destroyed = w.destroy(&resp.new_state).await;
                assert!(
                    !destroyed.diagnostics.has_error(),
                    "{}",
                    show(&destroyed.diagnostics)
                );
                let namespaces = Api::<Namespace>::all(w.client.clone());
                assert!(namespaces.get_opt(&ns).await.unwrap().is_none());
            }
        }
    }
}

/// Cancelling (Terraform's StopProvider) ends a wait within a second.
#[tokio::test]
async fn cancel_ends_the_wait() {
    let w = World::new().await;
    let config = w.config(job_config(
        "cancel",
        "forever",
        json!({"EMULATOR_NEVER_EXIT": "1"}),
    ));
    // Cancelled once the wait's watch on the Job is open.
    let watch = json!({"pathPrefix": "/apis/batch/v1/namespaces/cancel/jobs", "watch": true});
    let (resp, after_cancel) =
        apply_cancelled_when(&w, &config, requests_arrived(&w, watch, 1)).await;
    assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    assert!(show(&resp.diagnostics).contains("Wait Interrupted"));
    assert_eq!(
        resp.new_state.get("objects").as_elements().unwrap().len(),
        5
    );
}

/// 429 and 503 answers during apply are retried; the apply succeeds and
/// creates each object once.
#[tokio::test]
async fn retries_through_faults() {
    let w = World::new().await;
    w.admin(
        "POST",
        "faults",
        Some(json!({"method": "PATCH", "pathPrefix": "/api/v1", "action": "status", "code": 429, "retryAfterSeconds": 1, "times": 2})),
    )
    .await;
    w.admin(
        "POST",
        "faults",
        Some(json!({"method": "PATCH", "pathPrefix": "/apis/batch", "action": "status", "code": 503, "times": 3})),
    )
    .await;
    let config = w.config(job_config("faults", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;
    assert_eq!(state.get("objects").as_elements().unwrap().len(), 5);
    let pods = w
        .api::<Pod>("faults")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 1, "one Job, one pod");
    let jobs = w
        .api::<Job>("faults")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(jobs.items.len(), 1);
}

/// Foreground propagation deletes the pods before the Job is gone.
#[tokio::test]
async fn foreground_delete_removes_pods() {
    let w = World::new().await;
    let mut cfg = job_config("fg", "nightly", json!({"EMULATOR_NEVER_EXIT": "1"}));
    cfg["wait_for_completion"] = json!(false);
    cfg["delete_propagation"] = json!("Foreground");
    cfg["spec"]["create_namespace"] = json!(false);
    Api::<Namespace>::all(w.client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "fg"}})).unwrap(),
        )
        .await
        .unwrap();
    let state = w.converge(&Value::Null, &w.config(cfg)).await;
    let pods = w.api::<Pod>("fg");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no pod started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = w.destroy(&state).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let left: Vec<_> = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    assert!(left.is_empty(), "pods left: {left:?}");
    drop(w.emulator);
}

/// Waiting returns within a second of the Job's Complete condition (as a
/// separate watcher sees it).
#[tokio::test]
async fn wait_returns_promptly_after_complete() {
    let w = World::new().await;
    let config = w.config(job_config(
        "prompt",
        "nightly",
        json!({"EMULATOR_RUN_SECONDS": "1.5"}),
    ));
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let jobs = w.api::<Job>("prompt");
    let watcher = tokio::spawn(async move {
        loop {
            if let Ok(Some(job)) = jobs.get_opt("nightly").await {
                let complete = job
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Complete" && c.status == "True");
                if complete {
                    return Instant::now();
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let returned = Instant::now();
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let complete = watcher.await.unwrap();
    let lag = returned.saturating_duration_since(complete);
    assert!(
        lag < Duration::from_secs(1),
        "apply returned {lag:?} after Complete"
    );
    eprintln!("apply returned {lag:?} after the Complete condition");
}

/// A Job deleted by someone else during the wait fails the apply (it is not
/// a success), and the state still tracks the objects.
#[tokio::test]
async fn job_deleted_during_wait_is_an_error() {
    let w = World::new().await;
    let config = w.config(job_config(
        "deleted",
        "nightly",
        json!({"EMULATOR_NEVER_EXIT": "1"}),
    ));
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let jobs = w.api::<Job>("deleted");
    // Deleted once the wait's watch on the Job is open.
    let watch = json!({"pathPrefix": "/apis/batch/v1/namespaces/deleted/jobs", "watch": true});
    let delete = async {
        requests_arrived(&w, watch, 1).await;
        jobs.delete("nightly", &DeleteParams::background())
            .await
            .unwrap();
    };
    let (resp, ()) = tokio::join!(w.apply(&Value::Null, &plan, &config), delete);
    let text = show(&resp.diagnostics);
    assert!(
        text.contains("Kubernetes Job Deleted During Apply"),
        "{text}"
    );
    assert_eq!(
        resp.new_state.get("objects").as_elements().unwrap().len(),
        5
    );
}

/// A pod that cannot pull its image makes the create time out with the
/// waiting reason; an OOM-killed container fails the Job with exit code 137
/// and OOMKilled.
#[tokio::test]
async fn pod_problems_are_reported() {
    let w = World::new().await;
    let mut cfg = job_config(
        "pull",
        "nightly",
        json!({"EMULATOR_IMAGE_PULL_FAILURE": "1"}),
    );
    cfg["timeouts"] = json!({"create": "2s"});
    let config = w.config(cfg);
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let started = Instant::now();
    let resp = w.apply(&Value::Null, &plan, &config).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = show(&resp.diagnostics);
    assert!(
        text.contains("Timed Out Waiting For Kubernetes Job"),
        "{text}"
    );
    assert!(
        text.contains("ImagePullBackOff") || text.contains("ErrImagePull"),
        "{text}"
    );

    let mut cfg = job_config("oom", "nightly", json!({"EMULATOR_OOM": "1"}));
    cfg["spec"]["backoff_limit"] = json!(0);
    let config = w.config(cfg);
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let text = show(&resp.diagnostics);
    assert!(text.contains("exited with code 137 (OOMKilled)"), "{text}");
}

/// `job_config` with `timeouts.create`.
fn timed_job(ns: &str, name: &str, create: &str, env: serde_json::Value) -> serde_json::Value {
    let mut cfg = job_config(ns, name, env);
    cfg["timeouts"] = json!({"create": create});
    cfg
}

/// Waits (on the emulator's counter, up to 30 s) until it has received
/// `count` requests matching `matcher` (`method`, `pathPrefix`, `watch`).
async fn requests_arrived(w: &World, mut matcher: serde_json::Value, count: u64) {
    matcher["count"] = json!(count);
    matcher["timeoutSeconds"] = json!(30);
    let got = w.admin("POST", "requests/wait", Some(matcher)).await;
    assert!(got["count"].as_u64().unwrap() >= count, "{got}");
}

/// Applies `config` (a create) with `cancel`, cancelling once `ready`
/// completes; returns the response and how long after the cancellation it
/// came.
async fn apply_cancelled_when(
    w: &World,
    config: &Value,
    ready: impl std::future::Future<Output = ()>,
) -> (ApplyResponse, Duration) {
    let plan = w.plan(&Value::Null, config, &[]).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let apply = w.apply_with(&Value::Null, &plan, config, cancel);
    let stop = async move {
        ready.await;
        trigger.cancel();
        Instant::now()
    };
    let (resp, cancelled_at) = tokio::join!(apply, stop);
    (resp, cancelled_at.elapsed())
}

/// A server that takes ten minutes over the Job's create fails the apply at
/// the create timeout, with an error that names the request, the cluster
/// and the timeout; every object made before it is recorded; once the
/// server answers again, the apply converges.
#[tokio::test]
async fn a_hung_job_create_fails_at_the_create_timeout() {
    let w = World::new().await;
    w.admin(
        "POST",
        "faults",
        Some(json!({"method": "POST", "pathPrefix": "/apis/batch/v1/namespaces/hung/jobs", "action": "latency", "latencyMs": 600_000})),
    )
    .await;
    let config = w.config(timed_job("hung", "nightly", "3s", json!({})));
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let started = Instant::now();
    let resp = w.apply(&Value::Null, &plan, &config).await;
    let took = started.elapsed();
    eprintln!("hung Job create: the apply failed {took:?} after it started (timeout 3s)");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let text = show(&resp.diagnostics);
    assert!(text.contains("Kubernetes Request Timed Out"), "{text}");
    assert!(
        text.contains("POST /apis/batch/v1/namespaces/hung/jobs to the provider-level cluster at http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("got no answer within `timeouts.create` (3s)"),
        "{text}"
    );
    let recorded: Vec<String> = resp
        .new_state
        .get("objects")
        .as_elements()
        .unwrap()
        .iter()
        .map(|o| o.get("kind").as_str().unwrap().to_string())
        .collect();
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert!(!recorded.contains(&"Job".to_string()), "{recorded:?}");

    // Terraform replaces the tainted create: destroy what it recorded,
    // then create again.
    w.admin("DELETE", "faults", None).await;
    let gone = w.destroy(&resp.new_state).await;
    assert!(!gone.diagnostics.has_error(), "{}", show(&gone.diagnostics));
    let state = w.converge(&Value::Null, &config).await;
    assert_eq!(state.get("objects").as_elements().unwrap().len(), 5);
}

/// Cancelling while the ownership check (reading an object that already
/// exists) gets no answer ends the apply within a second, naming the read.
#[tokio::test]
async fn cancel_ends_a_hung_ownership_check() {
    let w = World::new().await;
    let ns = Api::<Namespace>::all(w.client.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "owned"}})).unwrap(),
    )
    .await
    .unwrap();
    w.api::<ConfigMap>("owned")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "report-config"}})).unwrap(),
        )
        .await
        .unwrap();
    let read =
        json!({"method": "GET", "pathPrefix": "/api/v1/namespaces/owned/configmaps/report-config"});
    let mut fault = read.clone();
    fault["action"] = json!("silence");
    w.admin("POST", "faults", Some(fault)).await;
    let mut cfg = job_config("owned", "nightly", json!({}));
    cfg["spec"]["create_namespace"] = json!(false);
    let config = w.config(cfg);
    let (resp, after_cancel) =
        apply_cancelled_when(&w, &config, requests_arrived(&w, read, 1)).await;
    eprintln!("hung ownership check: the apply returned {after_cancel:?} after the cancellation");
    assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    let text = show(&resp.diagnostics);
    assert!(text.contains("Kubernetes Request Cancelled"), "{text}");
    assert!(
        text.contains("GET /api/v1/namespaces/owned/configmaps/report-config"),
        "{text}"
    );
}

/// Cancelling while the Job's create gets no answer ends the apply within
/// a second; the objects made before it are recorded.
#[tokio::test]
async fn cancel_ends_a_hung_apply() {
    let w = World::new().await;
    let create = json!({"method": "POST", "pathPrefix": "/apis/batch/v1/namespaces/stuck/jobs"});
    let mut fault = create.clone();
    fault["action"] = json!("latency");
    fault["latencyMs"] = json!(600_000);
    w.admin("POST", "faults", Some(fault)).await;
    let config = w.config(job_config("stuck", "nightly", json!({})));
    let (resp, after_cancel) =
        apply_cancelled_when(&w, &config, requests_arrived(&w, create, 1)).await;
    eprintln!("hung Job create: the apply returned {after_cancel:?} after the cancellation");
    assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    let text = show(&resp.diagnostics);
    assert!(text.contains("Kubernetes Request Cancelled"), "{text}");
    assert!(
        text.contains("POST /apis/batch/v1/namespaces/stuck/jobs"),
        "{text}"
    );
    assert_eq!(
        resp.new_state.get("objects").as_elements().unwrap().len(),
        4
    );
}

/// A server that goes silent while the apply waits for the Job (the watch
/// stays open, says nothing, never ends; every new request hangs) fails the
/// apply at the create timeout, not later; cancelling such a wait ends it
/// within a second.
#[tokio::test]
async fn a_silent_server_ends_the_wait_at_the_timeout_or_on_cancel() {
    let w = World::new().await;
    let watch = json!({"pathPrefix": "/apis/batch/v1/namespaces/quiet/jobs", "watch": true});
    let config = w.config(timed_job(
        "quiet",
        "forever",
        "4s",
        json!({"EMULATOR_NEVER_EXIT": "1"}),
    ));
    let plan = w.plan(&Value::Null, &config, &[]).await;
    let started = Instant::now();
    let silence = async {
        requests_arrived(&w, watch.clone(), 1).await;
        w.admin(
            "POST",
            "faults",
            Some(json!({"pathPrefix": "/api", "action": "silence"})),
        )
        .await;
    };
    let (resp, ()) = tokio::join!(w.apply(&Value::Null, &plan, &config), silence);
    let took = started.elapsed();
    eprintln!(
        "silent server during the wait: the apply failed {took:?} after it started (timeout 4s)"
    );
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let text = show(&resp.diagnostics);
    assert!(
        text.contains("Timed Out Waiting For Kubernetes Job"),
        "{text}"
    );
    assert_eq!(
        resp.new_state.get("objects").as_elements().unwrap().len(),
        5
    );

    // The same silence, cancelled instead.
    w.admin("DELETE", "faults", None).await;
    w.admin("DELETE", "requests", None).await;
    let config = w.config(job_config(
        "quiet2",
        "forever",
        json!({"EMULATOR_NEVER_EXIT": "1"}),
    ));
    let watch = json!({"pathPrefix": "/apis/batch/v1/namespaces/quiet2/jobs", "watch": true});
    let ready = async {
        requests_arrived(&w, watch, 1).await;
        w.admin(
            "POST",
            "faults",
            Some(json!({"pathPrefix": "/api", "action": "silence"})),
        )
        .await;
    };
    let (resp, after_cancel) = apply_cancelled_when(&w, &config, ready).await;
    eprintln!(
        "silent server during the wait: the apply returned {after_cancel:?} after the cancellation"
    );
    assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    assert!(
        show(&resp.diagnostics).contains("Wait Interrupted"),
        "{}",
        show(&resp.diagnostics)
    );
    w.admin("DELETE", "faults", None).await;
}

/// A job that joins a namespace another instance created (and whose claim
/// is gone) deletes it on destroy like its own.
#[tokio::test]
async fn a_joined_namespace_is_deleted_by_its_last_claimant() {
    let w = World::new().await;
    let a = w.config(job_config("joined", "alpha", json!({})));
    let state_a = w.converge(&Value::Null, &a).await;
    let namespaces = Api::<Namespace>::all(w.client.clone());
    let ns = namespaces.get("joined").await.unwrap();
    let claim = ns
        .metadata
        .labels
        .unwrap()
        .into_keys()
        .find(|k| k.starts_with("claims.planton.ai/"))
        .unwrap();
    // Alpha's state is lost: its objects and claim are removed by hand.
    for name in ["alpha"] {
        w.api::<Job>("joined")
            .delete(name, &DeleteParams::background())
            .await
            .unwrap();
        w.api::<ServiceAccount>("joined")
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    w.api::<ConfigMap>("joined")
        .delete("report-config", &DeleteParams::default())
        .await
        .unwrap();
    w.api::<Secret>("joined")
        .delete("alpha-env-secrets", &DeleteParams::default())
        .await
        .unwrap();
    namespaces
        .patch(
            "joined",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {claim.as_str(): null}}})),
        )
        .await
        .unwrap();
    let _ = state_a;
    let b = w.config(job_config("joined", "beta", json!({})));
    let state_b = w.converge(&Value::Null, &b).await;
    let resp = w.destroy(&state_b).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let left = namespaces.get_opt("joined").await.unwrap();
    assert!(left.is_none(), "{:?}", left.map(|n| n.metadata));
}

/// A destroy that stopped halfway leaves a state that tracks only some
/// objects; the next apply creates the others again (and plans so: the
/// status is read anew), instead of reporting a change it does not make.
#[tokio::test]
async fn objects_missing_from_state_are_created_again() {
    let w = World::new().await;
    let config = w.config(job_config("halfway", "nightly", json!({})));
    let state = w.converge(&Value::Null, &config).await;
    // As a destroy that deleted the Job and the ConfigMap, then failed.
    w.api::<Job>("halfway")
        .delete("nightly", &DeleteParams::background())
        .await
        .unwrap();
    w.api::<ConfigMap>("halfway")
        .delete("report-config", &DeleteParams::default())
        .await
        .unwrap();
    let mut partial = state.clone();
    if let Value::Object(o) = &mut partial
        && let Some(Value::List(objects)) = o.get_mut("objects")
    {
        objects.retain(|t| !matches!(t.get("kind").as_str(), Some("Job" | "ConfigMap")));
    }
    let private = w.private_of(&state);
    w.keep(&partial, &private);
    let plan = w.plan(&partial, &config, &[]).await;
    assert!(plan.planned_state.get("status").is_unknown());
    let resp = w.apply(&partial, &plan, &config).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    assert!(
        w.api::<Job>("halfway")
            .get_opt("nightly")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        w.api::<ConfigMap>("halfway")
            .get_opt("report-config")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        resp.new_state.get("objects").as_elements().unwrap().len(),
        5
    );
}

/// How many requests `method path` the emulator counted (the path without
/// its query string).
async fn requests_to(w: &World, method: &str, path: &str) -> u64 {
    let counters = w.admin("GET", "requests", None).await;
    counters
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["method"] == method && c["path"] == path)
        .map(|c| c["count"].as_u64().unwrap())
        .sum()
}

/// The `drift` entries of a refreshed state.
fn drift_of(state: &Value) -> Vec<String> {
    state
        .get("drift")
        .as_elements()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// A suspended job in `ns` that apply does not wait for.
fn listed_job(ns: &str, name: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name},
        "wait_for_completion": false,
        "spec": {
            "namespace": {"value": ns},
            "image": {"repo": "busybox", "tag": "1.36"},
            "suspend": true
        }
    })
}

/// The refresh of many jobs in one namespace reads their Jobs with one
/// shared LIST once the first `LIST_AFTER` have been read by name, and asks
/// by name for any Job the list does not hold: one deleted before the
/// refresh is reported deleted, one whose labels someone removed is still
/// found. A write by this process starts again, and a refused LIST leaves
/// every read to a GET.
#[tokio::test]
async fn refresh_shares_one_job_list_per_namespace() {
    let w = World::new().await;
    let ns = "shared";
    w.client
        .request::<serde_json::Value>(
            http::Request::post("/api/v1/namespaces")
                .header("content-type", "application/json")
                .body(json!({"metadata": {"name": ns}}).to_string().into_bytes())
                .unwrap(),
        )
        .await
        .unwrap();
    let count = LIST_AFTER + 4;
    let mut states = Vec::new();
    for i in 0..count {
        let config = w.config(listed_job(ns, &format!("job-{i}")));
        states.push(w.converge(&Value::Null, &config).await);
    }
    // The last two: one deleted, one relabelled, outside Terraform.
    let (deleted, relabelled) = (count - 2, count - 1);
    let jobs = w.api::<Job>(ns);
    jobs.delete(&format!("job-{deleted}"), &DeleteParams::background())
        .await
        .unwrap();
    jobs.patch(
        &format!("job-{relabelled}"),
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"planton.ai/resource": null}}})),
    )
    .await
    .unwrap();

    w.admin("DELETE", "requests", None).await;
    let reads = futures::future::join_all(states.iter().map(|s| w.read(s))).await;
    for r in &reads {
        assert!(!r.diagnostics.has_error(), "{}", show(&r.diagnostics));
    }
    let list = format!("/apis/batch/v1/namespaces/{ns}/jobs");
    let job_gets = |counts: Vec<u64>| counts.iter().sum::<u64>();
    let mut by_name = Vec::new();
    for i in 0..count {
        by_name.push(requests_to(&w, "GET", &format!("{list}/job-{i}")).await);
        // Every ServiceAccount is read by name.
        assert_eq!(
            requests_to(
                &w,
                "GET",
                &format!("/api/v1/namespaces/{ns}/serviceaccounts/job-{i}")
            )
            .await,
            1
        );
    }
    assert_eq!(requests_to(&w, "GET", &list).await, 1, "one LIST");
    assert!(by_name.iter().all(|n| *n <= 1), "{by_name:?}");
    // The first LIST_AFTER reads ask by name, and so do the two the list
    // cannot vouch for (when they are not among those first ones).
    let total = job_gets(by_name.clone());
    assert!(
        (LIST_AFTER as u64..=LIST_AFTER as u64 + 2).contains(&total),
        "{by_name:?}"
    );
    assert_eq!(by_name[deleted], 1);
    assert_eq!(by_name[relabelled], 1);
    for (i, r) in reads.iter().enumerate().take(deleted) {
        assert!(
            drift_of(&r.new_state).is_empty(),
            "job-{i}: {:?}",
            drift_of(&r.new_state)
        );
    }
    let gone = drift_of(&reads[deleted].new_state);
    assert!(
        gone.iter()
            .any(|d| d.contains(&format!("job-{deleted}")) && d.contains("was deleted")),
        "{gone:?}"
    );
    let unlabelled = drift_of(&reads[relabelled].new_state);
    assert!(
        !unlabelled.is_empty() && !unlabelled.iter().any(|d| d.contains("was deleted")),
        "the unlabelled Job is found, with its labels as drift: {unlabelled:?}"
    );

    // The list lives until this process writes: a read now needs nothing
    // new for job-0's Job.
    w.admin("DELETE", "requests", None).await;
    let again = w.read(&states[0]).await;
    assert!(
        !again.diagnostics.has_error(),
        "{}",
        show(&again.diagnostics)
    );
    assert_eq!(requests_to(&w, "GET", &list).await, 0);
    assert_eq!(requests_to(&w, "GET", &format!("{list}/job-0")).await, 0);

    // After a destroy, reads start again: by name first, then a new list.
    let gone = w.destroy(&states[deleted]).await;
    assert!(!gone.diagnostics.has_error(), "{}", show(&gone.diagnostics));
    let kept = &states[..LIST_AFTER + 1];
    w.admin("DELETE", "requests", None).await;
    let after_write = futures::future::join_all(kept.iter().map(|s| w.read(s))).await;
    assert!(after_write.iter().all(|r| !r.diagnostics.has_error()));
    assert_eq!(
        requests_to(&w, "GET", &list).await,
        1,
        "listed again after a write"
    );

    // A refused LIST: the read that would have used it asks by name, and
    // its refresh is the same.
    let gone = w.destroy(&states[relabelled]).await;
    assert!(!gone.diagnostics.has_error(), "{}", show(&gone.diagnostics));
    for r in futures::future::join_all(kept[..LIST_AFTER].iter().map(|s| w.read(s))).await {
        assert!(!r.diagnostics.has_error(), "{}", show(&r.diagnostics));
    }
    w.admin(
        "POST",
        "faults",
        Some(json!({"method": "GET", "pathPrefix": list, "action": "status", "code": 403, "times": 1})),
    )
    .await;
    w.admin("DELETE", "requests", None).await;
    let refused = w.read(&kept[LIST_AFTER]).await;
    assert!(
        !refused.diagnostics.has_error(),
        "{}",
        show(&refused.diagnostics)
    );
    assert!(drift_of(&refused.new_state).is_empty());
    assert_eq!(requests_to(&w, "GET", &list).await, 1);
    assert_eq!(
        requests_to(&w, "GET", &format!("{list}/job-{LIST_AFTER}")).await,
        1
    );
}

/// The Job hashicorp/kubernetes would have created from
/// `tests/fixtures/moved/kubernetes_job_v1.tfstate`, as it sends it.
fn hashicorp_made_job() -> Job {
    serde_json::from_str(include_str!("fixtures/moved/kubernetes_job_v1.job.json")).unwrap()
}

/// A Job moved from hashicorp/kubernetes's `kubernetes_job_v1` keeps what
/// its spec cannot express from the live Job once refreshed, so an
/// in-place update afterwards changes the Job it is (same UID) and leaves
/// its template alone.
#[tokio::test]
async fn a_moved_job_updates_in_place_after_its_first_refresh() {
    use planton_provider::kubernetes_job::adopt::private::ImportPrivate;
    use planton_provider::tf::resource::MoveRequest;

    let w = World::new().await;
    Api::<Namespace>::all(w.client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "payments"}})).unwrap(),
        )
        .await
        .unwrap();
    // What its pod needs to start, as the migration's module made it.
    w.api::<Secret>("payments")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "payments-db-credentials"}, "stringData": {"password": "s3cret"}})).unwrap(),
        )
        .await
        .unwrap();
    w.api::<ConfigMap>("payments")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "payments-migrations"}, "data": {"001.sql": "select 1;"}})).unwrap(),
        )
        .await
        .unwrap();
    let live = w
        .api::<Job>("payments")
        .create(&PostParams::default(), &hashicorp_made_job())
        .await
        .unwrap();
    let uid = live.metadata.uid.clone().unwrap();

    let file: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/moved/kubernetes_job_v1.tfstate")).unwrap();
    let mut attributes = file["resources"][0]["instances"][0]["attributes"].clone();
    attributes["metadata"][0]["uid"] = json!(uid);
    let moved = w
        .resource
        .move_state(MoveRequest {
            source_type_name: "kubernetes_job_v1".into(),
            source_provider_address: "registry.terraform.io/hashicorp/kubernetes".into(),
            source_schema_version: 1,
            source_state: serde_json::to_vec(&attributes).unwrap(),
            target_type_name: "planton_kubernetes_job".into(),
        })
        .await;
    assert!(
        !moved.diagnostics.has_error(),
        "{}",
        show(&moved.diagnostics)
    );
    let state = moved.state.unwrap();
    assert!(ImportPrivate::from_private(&moved.private).moved);
    w.keep(&state, &moved.private);

    let read = w.read(&state).await;
    assert!(!read.diagnostics.has_error(), "{}", show(&read.diagnostics));
    let carried = ImportPrivate::from_private(&read.private);
    assert!(!carried.moved, "the first refresh took the live template");
    assert!(carried.adopted.is_some());
    let state = read.new_state;

    // The configuration a user writes for the moved Job, with two fields
    // an in-place update changes.
    let ty = w.resource.schema().value_type();
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&json::encode(&state, &ty).unwrap()).unwrap();
    for computed in ["id", "outputs", "status", "objects", "drift"] {
        cfg[computed] = serde_json::Value::Null;
    }
    cfg["spec"]["backoff_limit"] = json!(4);
    cfg["spec"]["active_deadline_seconds"] = json!(900);
    let config = w.config(cfg);
    let plan = w.plan(&state, &config, &[]).await;
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    let resp = w.apply(&state, &plan, &config).await;
    assert!(!resp.diagnostics.has_error(), "{}", show(&resp.diagnostics));
    let job = w
        .api::<Job>("payments")
        .get("schema-migrate")
        .await
        .unwrap();
    assert_eq!(job.metadata.uid.as_deref(), Some(uid.as_str()));
    let spec = job.spec.unwrap();
    assert_eq!(spec.backoff_limit, Some(4));
    assert_eq!(spec.active_deadline_seconds, Some(900));
    let container = &spec.template.spec.unwrap().containers[0];
    assert_eq!(container.name, "migrate", "the template is the live one");
}
