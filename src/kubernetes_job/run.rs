//! The action `planton_kubernetes_job_run`: runs a Job this provider
//! manages once more, now, without touching the managed resource.
//!
//! Like `kubectl create job --from`, a run is a new Job made from the
//! managed Job's pod template: its own name (the managed name, `-run-` and
//! five random characters, within Kubernetes's 63), the managed Job's
//! labels plus [`LABEL_RUN_OF`] (but not `planton.ai/resource`, so that a
//! run is never taken for a managed Job by refresh, import or `terraform
//! query`), an owner reference to the managed Job (deleting it deletes its
//! runs), and a TTL so that runs do not pile up. `env` and `args` change
//! the job container of this run only.
//!
//! Its plan checks that the Job exists and is one this provider manages;
//! its invocation creates the run and, unless `wait = false`, watches it to
//! the end, reporting progress as the counts of its pods change, and
//! failing with the resource's own failure report (reason, exit code, log
//! tail, secret values masked). A stop leaves the run running and says how
//! to find it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{EnvVar, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::time::Instant;

use crate::kube::budget::{Budget, format_duration};
use crate::kube::clusters::{ClusterRef, Clusters};
use crate::kube::watch::{Seen, WatchError, watch_object};
use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::adopt::identity::ImportId;
use crate::kubernetes_job::adopt::kept::GENERATED_LABELS;
use crate::kubernetes_job::lifecycle::wait::{self, Verdict};
use crate::kubernetes_job::model::names::env_name_problem;
use crate::kubernetes_job::model::options::{DEFAULT_CREATE_TIMEOUT, parse_duration};
use crate::kubernetes_job::render::{self, CONTAINER_NAME, LABEL_KIND, LABEL_NAME, LABEL_RESOURCE};
use crate::tf::action::{
    Action, InvokeActionRequest, PlanActionRequest, PlanActionResponse, Progress,
};
use crate::tf::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

/// The action's type name.
pub const TYPE_NAME: &str = "planton_kubernetes_job_run";
/// The label a run carries: the name of the managed Job it ran from.
pub const LABEL_RUN_OF: &str = "planton.ai/run-of";
/// Seconds a finished run is kept when the managed Job sets no TTL.
pub const RUN_TTL_SECONDS: i32 = 3600;
/// Characters of a run name's random suffix.
const SUFFIX_LEN: usize = 5;
/// The longest Job name whose pods can carry it as a label value.
const MAX_JOB_NAME: usize = 63;

/// The action, using the provider's clients.
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobRun {
    clients: Arc<Clusters>,
}

impl KubernetesJobRun {
    /// The action, using the provider's clients.
    pub fn with_clients(clients: Arc<Clusters>) -> Self {
        KubernetesJobRun { clients }
    }
}

/// The schema of an `action "planton_kubernetes_job_run"` block's `config`.
pub fn schema() -> Schema {
    Schema::new(Block::new(
        vec![
            Attribute::required("job", Type::String, JOB),
            Attribute::optional("cluster", Type::String, CLUSTER),
            Attribute::optional("wait", Type::Bool, WAIT),
            Attribute::optional("timeout", Type::String, TIMEOUT),
            Attribute::optional("env", Type::Map(Box::new(Type::String)), ENV),
            Attribute::optional("args", Type::List(Box::new(Type::String)), ARGS),
        ],
        DESCRIPTION,
    ))
}

const DESCRIPTION: &str = "Runs a Job that a `planton_kubernetes_job` manages once more, now: a new Job \
from the managed Job's pod template, as `kubectl create job --from` makes one, watched to the end with its \
progress in Terraform's output. The managed resource and its plan are not touched. Invoke it with \
`terraform apply -invoke=action.planton_kubernetes_job_run.NAME`, or from a resource's \
`lifecycle { action_trigger { ... } }`. Needs Terraform 1.14 or later.";

const JOB: &str = "The managed Job to run, as `NAMESPACE/NAME`: the `id` of its \
`planton_kubernetes_job` (`planton_kubernetes_job.migrate.id`). `CLUSTER:NAMESPACE/NAME` names a Job in one \
of the provider's `clusters`.";

const CLUSTER: &str = "Name of the provider's `clusters` entry the Job is in; the provider-level cluster \
when not set. The same as a `CLUSTER:` prefix of `job`.";

const WAIT: &str =
    "Whether to wait for the run to finish and fail when it fails. Defaults to `true`.";

const TIMEOUT: &str = "How long to wait for the run, as a duration (`\"90s\"`, `\"10m\"`, `\"1h\"`). \
Defaults to 10 minutes. The run keeps going in the cluster when the time is up.";

const ENV: &str = "Environment variables of the job container for this run only: each replaces the \
variable of that name, or is added.";

const ARGS: &str =
    "Arguments of the job container for this run only, in place of the managed Job's.";

/// The `config` block, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunConfig {
    job: ImportId,
    wait: bool,
    timeout: Duration,
    env: BTreeMap<String, String>,
    args: Option<Vec<String>>,
}

/// Reads the `config` block; `Ok(None)` while something it needs is
/// unknown (a reference to a Job the same apply creates).
fn read_config(config: &Value) -> Result<Option<RunConfig>, Diagnostics> {
    let mut d = Diagnostics::new();
    let job = config.get("job");
    let cluster = config.get("cluster");
    if job.is_unknown() || cluster.is_unknown() {
        return Ok(None);
    }
    let mut id = match job.as_str().map(ImportId::parse) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => {
            d.attribute_error(
                AttributePath::root("job"),
                "Invalid Job Reference",
                format!("`job` names no Job: {e}. Write it as `NAMESPACE/NAME`, the `id` of a planton_kubernetes_job."),
            );
            None
        }
        None => None,
    };
    if let (Some(id), Some(named)) = (id.as_mut(), cluster.as_str()) {
        match &id.cluster {
            Some(prefix) if prefix != named => d.attribute_error(
                AttributePath::root("cluster"),
                "Conflicting Clusters",
                format!(
                    "`job` names the cluster {prefix:?} and `cluster` names {named:?}; name it once, in either."
                ),
            ),
            _ => id.cluster = Some(named.to_string()),
        }
    }
    let timeout = match config.get("timeout") {
        Value::Null => DEFAULT_CREATE_TIMEOUT,
        v if v.is_unknown() => return Ok(None),
        v => match v.as_str().map(parse_duration) {
            Some(Ok(t)) if !t.is_zero() => t,
            Some(Ok(_)) => {
                d.attribute_error(
                    AttributePath::root("timeout"),
                    "Invalid Timeout",
                    "`timeout` is zero; leave it out for the default of 10 minutes.",
                );
                DEFAULT_CREATE_TIMEOUT
            }
            Some(Err(e)) => {
                d.attribute_error(
                    AttributePath::root("timeout"),
                    "Invalid Timeout",
                    format!("`timeout` is not a duration: {e}. Write it as `\"90s\"`, `\"10m\"` or `\"1h30m\"`."),
                );
                DEFAULT_CREATE_TIMEOUT
            }
            None => DEFAULT_CREATE_TIMEOUT,
        },
    };
    let mut env = BTreeMap::new();
    let env_value = config.get("env");
    if !env_value.is_wholly_known() {
        return Ok(None);
    }
    for (name, value) in env_value.as_entries().into_iter().flatten() {
        if let Some(problem) = env_name_problem(name) {
            d.attribute_error(
                AttributePath::root("env").key(name),
                "Invalid Environment Variable Name",
                format!("{name:?} cannot name an environment variable: {problem}."),
            );
        }
        env.insert(name.clone(), value.as_str().unwrap_or_default().to_string());
    }
    let args_value = config.get("args");
    if !args_value.is_wholly_known() {
        return Ok(None);
    }
    let args = args_value.as_elements().map(|items| {
        items
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    });
    if d.has_error() {
        return Err(d);
    }
    let Some(job) = id else {
        return Ok(None);
    };
    Ok(Some(RunConfig {
        job,
        wait: config.get("wait").as_bool().unwrap_or(true),
        timeout,
        env,
        args,
    }))
}

/// Whether `job` is one a `planton_kubernetes_job` manages.
fn is_managed(job: &Job) -> bool {
    let name = job.metadata.name.clone().unwrap_or_default();
    render::is_owned_by(job.metadata.labels.as_ref(), &name)
}

/// The managed Job `id` names, or the error at `job` saying why there is
/// none to run.
async fn managed_job(client: &Client, id: &ImportId) -> Result<Job, Diagnostics> {
    let api: Api<Job> = Api::namespaced(client.clone(), &id.namespace);
    let r = ObjectRef::of::<Job>(&id.namespace, &id.name);
    let mut d = Diagnostics::new();
    match api.get_opt(&id.name).await {
        Ok(Some(job)) if is_managed(&job) => return Ok(job),
        Ok(Some(_)) => d.attribute_error(
            AttributePath::root("job"),
            "Job Not Managed By planton_kubernetes_job",
            format!(
                "The Job {id} exists but no planton_kubernetes_job manages it (it lacks the `{LABEL_RESOURCE}`, \
                 `{LABEL_KIND}` and `{LABEL_NAME}` labels one gives its Job), so this action does not run it. \
                 Import it first (see the guide on adopting existing Jobs), or run it with kubectl."
            ),
        ),
        Ok(None) => d.attribute_error(
            AttributePath::root("job"),
            "Job Not Found",
            format!(
                "There is no Job {id}. `job` must name a Job that a planton_kubernetes_job manages; refer to its \
                 `id` (for example `planton_kubernetes_job.migrate.id`) so that Terraform creates it first."
            ),
        ),
        Err(e) => d.extend(errors::diagnostics("reading", &r, &e, &errors::no_fields)),
    }
    Err(d)
}

/// A run's name: the managed name, cut to fit, `-run-`, and `suffix`.
fn run_name(managed: &str, suffix: &str) -> String {
    let room = MAX_JOB_NAME - "-run-".len() - suffix.len();
    let base: String = managed.chars().take(room).collect();
    format!("{}-run-{suffix}", base.trim_end_matches(['-', '.']))
}

/// Five random characters a Kubernetes name may hold.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut bytes = [0u8; SUFFIX_LEN];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The clock's nanoseconds are unique enough for a name the server
        // refuses to duplicate anyway.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes().repeat(2)[..SUFFIX_LEN]
            .try_into()
            .unwrap_or_default();
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// The Job that runs `managed` once more, named `name`.
fn run_job(managed: &Job, name: &str, config: &RunConfig) -> Job {
    let managed_name = managed.metadata.name.clone().unwrap_or_default();
    let mut labels = managed.metadata.labels.clone().unwrap_or_default();
    labels.retain(|k, _| !GENERATED_LABELS.contains(&k.as_str()) && k != LABEL_RESOURCE);
    labels.insert(LABEL_RUN_OF.to_string(), managed_name.clone());
    let spec = managed.spec.clone().unwrap_or_default();
    let mut template = spec.template.clone();
    if let Some(meta) = template.metadata.as_mut()
        && let Some(l) = meta.labels.as_mut()
    {
        l.retain(|k, _| !GENERATED_LABELS.contains(&k.as_str()));
    }
    if let Some(pod) = template.spec.as_mut() {
        let index = pod
            .containers
            .iter()
            .position(|c| c.name == CONTAINER_NAME)
            .unwrap_or(0);
        if let Some(container) = pod.containers.get_mut(index) {
            if let Some(args) = &config.args {
                container.args = Some(args.clone());
            }
            let env = container.env.get_or_insert_with(Vec::new);
            for (key, value) in &config.env {
                let var = EnvVar {
                    name: key.clone(),
                    value: Some(value.clone()),
                    value_from: None,
                };
                match env.iter_mut().find(|e| &e.name == key) {
                    Some(existing) => *existing = var,
                    None => env.push(var),
                }
            }
        }
    }
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: managed.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: None,
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: managed_name,
                uid: managed.metadata.uid.clone().unwrap_or_default(),
                controller: None,
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            template,
            active_deadline_seconds: spec.active_deadline_seconds,
            backoff_limit: spec.backoff_limit,
            backoff_limit_per_index: spec.backoff_limit_per_index,
            completion_mode: spec.completion_mode,
            completions: spec.completions,
            max_failed_indexes: spec.max_failed_indexes,
            parallelism: spec.parallelism,
            pod_failure_policy: spec.pod_failure_policy,
            pod_replacement_policy: spec.pod_replacement_policy,
            success_policy: spec.success_policy,
            ttl_seconds_after_finished: Some(
                spec.ttl_seconds_after_finished.unwrap_or(RUN_TTL_SECONDS),
            ),
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// The counts of a run's pods, as one progress line.
fn counts(job: &Job) -> String {
    let s = job.status.clone().unwrap_or_default();
    format!(
        "{} active, {} ready, {} succeeded, {} failed",
        s.active.unwrap_or(0),
        s.ready.unwrap_or(0),
        s.succeeded.unwrap_or(0),
        s.failed.unwrap_or(0)
    )
}

/// Where a run is, for messages: `namespace/name` and the kubectl command
/// that shows it.
fn find_it(job: &Job) -> String {
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    format!("`kubectl -n {ns} get job {name}` (or `kubectl -n {ns} logs job/{name}`)")
}

/// The values of the managed Job's env Secret, to mask in logs.
async fn secret_values(client: &Client, id: &ImportId) -> Vec<String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace);
    match api.get_opt(&render::env_secret_name(&id.name)).await {
        Ok(Some(s)) => s
            .data
            .unwrap_or_default()
            .into_values()
            .filter_map(|b| String::from_utf8(b.0).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// Creates the run and, when asked, watches it to the end.
async fn invoke(
    client: &Client,
    config: &RunConfig,
    budget: &Budget,
    progress: &Progress,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    let managed = match managed_job(client, &config.job).await {
        Ok(job) => job,
        Err(d) => return d,
    };
    let name = run_name(&config.job.name, &random_suffix());
    let wanted = run_job(&managed, &name, config);
    let api: Api<Job> = Api::namespaced(client.clone(), &config.job.namespace);
    let created = match api.create(&PostParams::default(), &wanted).await {
        Ok(job) => job,
        Err(e) => {
            let object = ObjectRef::of::<Job>(&config.job.namespace, &name);
            d.extend(errors::diagnostics(
                "creating",
                &object,
                &e,
                &errors::no_fields,
            ));
            return d;
        }
    };
    let r = format!("{}/{name}", config.job.namespace);
    progress.say(format!("Started Job {r} from {}", config.job));
    if !config.wait {
        progress.say(format!(
            "Not waiting for it; see it with {}",
            find_it(&created)
        ));
        return d;
    }
    let started = Instant::now();
    let mut last_counts = String::new();
    let uid = created.metadata.uid.clone();
    let outcome = watch_object(
        &api,
        &name,
        Some(&created),
        budget.deadline(),
        budget.cancel(),
        |seen| match seen {
            Seen::Exists(job) if job.metadata.uid != uid => Some(Err(None)),
            Seen::Exists(job) => {
                let now = counts(job);
                // Nothing to say until the job controller counts a pod.
                if now != last_counts
                    && job.status.as_ref().is_some_and(|s| {
                        s.active.is_some() || s.succeeded.is_some() || s.failed.is_some()
                    })
                {
                    progress.say(format!("{r}: {now}"));
                    last_counts = now;
                }
                match wait::verdict(job) {
                    Some(Verdict::Suspended) | None => None,
                    Some(v) => Some(Ok((v, job.clone()))),
                }
            }
            Seen::Deleted(last) => Some(Err(last.cloned())),
        },
    )
    .await;
    let elapsed = format_duration(started.elapsed());
    match outcome {
        Ok(Ok((Verdict::Complete, _))) => {
            progress.say(format!("{r} completed after {elapsed}"));
        }
        Ok(Ok((Verdict::Failed { reason, message }, job))) => {
            let pods = wait::pod_reports(client, &job, true).await;
            let secrets = secret_values(client, &config.job).await;
            let why = [reason, message]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            let detail = format!(
                "The run {r} of {} failed after {elapsed}: {}.{}",
                config.job,
                if why.is_empty() { "no reason given" } else { &why },
                wait::describe_pods(&pods)
            );
            d.error("Kubernetes Job Run Failed", wait::mask(&detail, &secrets));
        }
        Ok(Ok((Verdict::Suspended, _))) | Ok(Err(_)) => d.error(
            "Kubernetes Job Run Deleted",
            format!(
                "The run {r} of {} was deleted by someone else before it finished; its outcome is unknown.",
                config.job
            ),
        ),
        Err(WatchError::TimedOut) => d.error(
            "Timed Out Waiting For Kubernetes Job Run",
            format!(
                "The run {r} of {} did not finish within {} ({}). It keeps running in the cluster: see it with {}. \
                 Raise `timeout`, or set `wait = false` to not wait.",
                config.job,
                format_duration(config.timeout),
                last_counts,
                find_it(&created)
            ),
        ),
        Err(WatchError::Cancelled) => d.error(
            "Kubernetes Job Run Interrupted",
            format!(
                "Terraform asked the provider to stop while it waited for the run {r} of {}. The run keeps going \
                 in the cluster: see it with {}.",
                config.job,
                find_it(&created)
            ),
        ),
        Err(e) => d.error(
            "Kubernetes Job Run Not Watched",
            format!(
                "Watching the run {r} of {} failed: {e}. It keeps going in the cluster: see it with {}.",
                config.job,
                find_it(&created)
            ),
        ),
    }
    d
}

#[async_trait]
impl Action for KubernetesJobRun {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        read_config(config).err().unwrap_or_default()
    }

    async fn plan(&self, req: PlanActionRequest) -> PlanActionResponse {
        let config = match read_config(&req.config) {
            Ok(Some(c)) => c,
            Ok(None) => return PlanActionResponse::default(),
            Err(diagnostics) => {
                return PlanActionResponse {
                    diagnostics,
                    ..PlanActionResponse::default()
                };
            }
        };
        let cluster = cluster_of(&config.job);
        if self.clients.is_unknown(&cluster) {
            return PlanActionResponse {
                deferred: self.clients.read_deferral(&cluster),
                ..PlanActionResponse::default()
            };
        }
        let budget = crate::kubernetes_job::model::options::read_budget(
            tokio_util::sync::CancellationToken::new(),
        );
        let diagnostics = budget
            .run(async {
                match self.clients.connect(&cluster).await {
                    Ok(c) => managed_job(&c.client, &config.job)
                        .await
                        .err()
                        .unwrap_or_default(),
                    Err(d) => d,
                }
            })
            .await;
        PlanActionResponse {
            diagnostics,
            ..PlanActionResponse::default()
        }
    }

    async fn invoke(&self, req: InvokeActionRequest, progress: &Progress) -> Diagnostics {
        let config = match read_config(&req.config) {
            Ok(Some(c)) => c,
            Ok(None) => {
                let mut d = Diagnostics::new();
                d.error(
                    "Action Configuration Unknown",
                    "The action's `job`, `env` or `args` is still unknown when Terraform runs it, so there is \
                     nothing to run. Invoke it after the Job it names has been applied.",
                );
                return d;
            }
            Err(d) => return d,
        };
        let budget = Budget::new(
            format!("the run's `timeout` ({})", format_duration(config.timeout)),
            config.timeout,
            req.cancel.clone(),
        );
        let cluster = cluster_of(&config.job);
        budget
            .clone()
            .run(async {
                match self.clients.connect(&cluster).await {
                    Ok(c) => invoke(&c.client, &config, &budget, progress).await,
                    Err(d) => d,
                }
            })
            .await
    }
}

fn cluster_of(id: &ImportId) -> ClusterRef {
    match &id.cluster {
        Some(c) => ClusterRef::Named(c.clone()),
        None => ClusterRef::Provider,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::kubernetes_job::render::KIND;

    fn config(j: serde_json::Value) -> Value {
        let ty = schema().value_type();
        crate::tf::value::json::decode(j.to_string().as_bytes(), &ty).unwrap()
    }

    /// Run names stay within 63 characters, end in the suffix, and never
    /// put a dash before `-run-`.
    #[test]
    fn run_names_fit() {
        assert_eq!(run_name("migrate", "x7k2p"), "migrate-run-x7k2p");
        let long = format!("{}-tail", "a".repeat(60));
        let name = run_name(&long, "x7k2p");
        assert_eq!(name.len(), 63, "{name}");
        assert!(name.ends_with("-run-x7k2p"));
        let dashed = format!("{}-b", "a".repeat(52));
        assert_eq!(
            run_name(&dashed, "x7k2p"),
            format!("{}-run-x7k2p", "a".repeat(52))
        );
        let s = random_suffix();
        assert_eq!(s.len(), SUFFIX_LEN);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    /// The config is read with its defaults; what is unknown waits for
    /// the apply; mistakes are errors at their attribute.
    #[test]
    fn config_is_read_and_checked() {
        let c = read_config(&config(json!({"job": "payments/migrate"})))
            .unwrap()
            .unwrap();
        assert_eq!(c.job.namespace, "payments");
        assert!(c.wait);
        assert_eq!(c.timeout, DEFAULT_CREATE_TIMEOUT);
        let c = read_config(&config(json!({
            "job": "payments/migrate", "cluster": "prod", "wait": false, "timeout": "90s",
            "env": {"MODE": "dry-run"}, "args": ["--all"],
        })))
        .unwrap()
        .unwrap();
        assert_eq!(c.job.cluster.as_deref(), Some("prod"));
        assert!(!c.wait);
        assert_eq!(c.timeout, Duration::from_secs(90));
        assert_eq!(c.env.get("MODE").map(String::as_str), Some("dry-run"));
        assert_eq!(c.args, Some(vec!["--all".to_string()]));

        let mut unknown = config(json!({"job": "x/y"}));
        crate::kubernetes_job::model::state::set(&mut unknown, "job", Value::UNKNOWN);
        assert_eq!(read_config(&unknown).unwrap(), None);

        for (bad, path) in [
            (json!({"job": "no-slash"}), "job"),
            (json!({"job": "a:x/y", "cluster": "b"}), "cluster"),
            (json!({"job": "x/y", "timeout": "soon"}), "timeout"),
            (json!({"job": "x/y", "env": {"A=B": "1"}}), "env"),
        ] {
            let d = read_config(&config(bad.clone())).unwrap_err();
            assert_eq!(d.0.len(), 1, "{bad}: {d:?}");
            let at = format!("{:?}", d.0[0].path);
            assert!(at.contains(path), "{bad}: {at}");
        }
    }

    /// A run is the managed Job's template under its own name and labels,
    /// owned by the managed Job, with a TTL, and this run's env and args.
    #[test]
    fn a_run_is_made_from_the_managed_job() {
        let managed: Job = serde_json::from_value(json!({
            "metadata": {
                "name": "migrate", "namespace": "payments", "uid": "u-1",
                "labels": {"planton.ai/resource": "true", "planton.ai/kind": KIND, "planton.ai/name": "migrate", "team": "db"},
            },
            "spec": {
                "backoffLimit": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
                "suspend": true,
                "template": {
                    "metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u-1", "job-name": "migrate", "team": "db"}},
                    "spec": {"restartPolicy": "Never", "containers": [
                        {"name": "sidecar", "image": "s"},
                        {"name": CONTAINER_NAME, "image": "m:1", "args": ["up"], "env": [{"name": "MODE", "value": "full"}, {"name": "K", "value": "v"}]},
                    ]},
                },
            },
        }))
        .unwrap();
        let cfg = read_config(&config(json!({"job": "payments/migrate", "env": {"MODE": "dry-run", "NEW": "1"}, "args": ["status"]})))
            .unwrap()
            .unwrap();
        let run = run_job(&managed, "migrate-run-x7k2p", &cfg);
        let labels = run.metadata.labels.clone().unwrap();
        assert_eq!(
            labels.get(LABEL_RUN_OF).map(String::as_str),
            Some("migrate")
        );
        assert_eq!(labels.get("team").map(String::as_str), Some("db"));
        assert!(
            !labels.contains_key(LABEL_RESOURCE),
            "a run is not a managed Job"
        );
        let owner = &run.metadata.owner_references.clone().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Job", "migrate", "u-1")
        );
        let spec = run.spec.unwrap();
        assert_eq!(spec.selector, None);
        assert_eq!(spec.suspend, None, "a run runs");
        assert_eq!(spec.ttl_seconds_after_finished, Some(RUN_TTL_SECONDS));
        assert_eq!(spec.backoff_limit, Some(1));
        let template_labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(template_labels.len(), 1, "{template_labels:?}");
        let pod = spec.template.spec.unwrap();
        let c = &pod.containers[1];
        assert_eq!(c.args, Some(vec!["status".to_string()]));
        let env: Vec<(String, String)> = c
            .env
            .clone()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value.unwrap_or_default()))
            .collect();
        assert_eq!(
            env,
            vec![
                ("MODE".into(), "dry-run".into()),
                ("K".into(), "v".into()),
                ("NEW".into(), "1".into())
            ]
        );
        assert_eq!(
            pod.containers[0].args, None,
            "other containers are left alone"
        );
    }
}
