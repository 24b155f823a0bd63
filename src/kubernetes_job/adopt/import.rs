//! Import: bringing an existing Job under management, by ID
//! (`NAMESPACE/NAME`, `CLUSTER:NAMESPACE/NAME`) or by resource identity
//! (`{ cluster, namespace, name }`).
//!
//! Import reads the Job and the objects that belong to it, found by
//! Planton's names and `planton.ai/*` labels (the env Secret
//! `<name>-env-secrets`, the pull Secret `<name>-image-pull-secret`, the
//! ServiceAccount `<name>`, the Namespace, and the ConfigMaps labelled as
//! this Job's), and maps them back to `metadata` and `spec` ([`reverse`]),
//! so that a Job this provider created imports to the configuration that
//! created it. Anything the spec cannot express (a Job made by kubectl or
//! Helm: its container name, extra labels, fields outside Planton's spec)
//! is kept in private state ([`super::kept`]) and applied back, so the
//! plan after an import replaces nothing the user did not change; what
//! the spec cannot say is named in a warning.
//!
//! Some attributes live only in Terraform (`rerun_triggers`, the Planton
//! metadata that is not rendered, `target_cluster.cluster_kind`): import
//! cannot read them back, so the first plan after an import sets them from
//! the configuration without replacing anything ([`before_plan`]).

use std::collections::BTreeMap;

use futures::future::join;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, EnvVar, Namespace, ResourceRequirements, Secret, ServiceAccount, Volume,
    VolumeMount as K8sVolumeMount,
};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J, json};

use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::adopt::kept::{self, Adopted};
use crate::kubernetes_job::cluster::{self, GetError, Live};
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::ownership::{self, Instance};
use crate::kubernetes_job::model::quantity::Quantity;
use crate::kubernetes_job::model::schema::{
    DEFAULT_LIMIT_CPU, DEFAULT_LIMIT_MEMORY, DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY,
};
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::model::state::{self, Tracked};
use crate::kubernetes_job::render::{self, Rendered};
use crate::tf::resource::{PlanRequest, PlanResponse};
use crate::tf::schema::{IdentityAttribute, IdentitySchema};
use crate::tf::{AttributePath, Diagnostics, Type, Value};

/// The ID forms `terraform import` accepts, for messages and docs.
pub const ACCEPTED_FORMS: &str = "`NAMESPACE/NAME` (for example `batch/nightly-report`), or \
`CLUSTER:NAMESPACE/NAME` for a Job in one of the provider's named `clusters` (for example \
`prod:batch/nightly-report`)";

// ---------------------------------------------------------------------------
// IDs and identity

/// Which Job to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportId {
    /// The provider's named cluster, or `None` for the provider-level one.
    pub cluster: Option<String>,
    /// The Job's namespace.
    pub namespace: String,
    /// The Job's name.
    pub name: String,
}

/// Why an import ID or identity names no Job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportIdError {
    /// Not one of the accepted forms.
    #[error("the import ID {id:?} is not in a form this resource accepts")]
    Malformed {
        /// What was given.
        id: String,
    },
    /// A part is not a valid Kubernetes name.
    #[error("the {part} {value:?} in the import ID {id:?} is not valid: {problem}")]
    InvalidPart {
        /// What was given.
        id: String,
        /// `namespace`, `name` or `cluster`.
        part: &'static str,
        /// The part's text.
        value: String,
        /// Why it is not valid.
        problem: String,
    },
    /// An identity attribute is missing or not valid.
    #[error("the identity's {part} is {problem}")]
    InvalidIdentity {
        /// `namespace`, `name` or `cluster`.
        part: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl ImportIdError {
    /// The error as a diagnostic that shows the accepted forms.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut d = Diagnostics::new();
        match self {
            ImportIdError::Malformed { id } => d.error(
                "Invalid Import ID",
                format!(
                    "The import ID {id:?} does not name a Job. planton_kubernetes_job accepts {ACCEPTED_FORMS}. \
                     With an `import` block, `identity = {{ namespace = \"...\", name = \"...\" }}` (and \
                     optionally `cluster`) works as well."
                ),
            ),
            ImportIdError::InvalidPart { .. } => d.error(
                "Invalid Import ID",
                format!("{self}. planton_kubernetes_job accepts {ACCEPTED_FORMS}."),
            ),
            ImportIdError::InvalidIdentity { .. } => d.error(
                "Invalid Import Identity",
                format!(
                    "{self}. An identity names the Job with `namespace` and `name` (both required) and, for a \
                     Job in one of the provider's named `clusters`, `cluster`."
                ),
            ),
        }
        d
    }
}

impl ImportId {
    /// Parses `NAMESPACE/NAME` or `CLUSTER:NAMESPACE/NAME`.
    pub fn parse(id: &str) -> Result<ImportId, ImportIdError> {
        let malformed = || ImportIdError::Malformed { id: id.to_string() };
        let (cluster, rest) = match id.split_once(':') {
            Some((cluster, rest)) => (Some(cluster), rest),
            None => (None, id),
        };
        let (namespace, name) = rest.split_once('/').ok_or_else(malformed)?;
        if name.contains('/') || rest.contains(':') {
            return Err(malformed());
        }
        let check = |part: &'static str, value: &str| {
            label_problem(value).map_or(Ok(()), |problem| {
                Err(ImportIdError::InvalidPart {
                    id: id.to_string(),
                    part,
                    value: value.to_string(),
                    problem,
                })
            })
        };
        if let Some(c) = cluster
            && (c.trim().is_empty() || c != c.trim())
        {
            return Err(ImportIdError::InvalidPart {
                id: id.to_string(),
                part: "cluster",
                value: c.to_string(),
                problem: "a cluster name is not empty and has no surrounding spaces".into(),
            });
        }
        check("namespace", namespace)?;
        check("name", name)?;
        Ok(ImportId {
            cluster: cluster.map(str::to_string),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// Reads an identity value (`{ cluster, namespace, name }`).
    pub fn from_identity(identity: &Value) -> Result<ImportId, ImportIdError> {
        let text = |part: &'static str| -> Result<Option<String>, ImportIdError> {
            match identity.get(part) {
                Value::Null => Ok(None),
                v => match v.as_str() {
                    Some(s) => Ok(Some(s.to_string())),
                    None => Err(ImportIdError::InvalidIdentity {
                        part,
                        problem: "not a known string".into(),
                    }),
                },
            }
        };
        let required = |part: &'static str| -> Result<String, ImportIdError> {
            let value = text(part)?.ok_or(ImportIdError::InvalidIdentity {
                part,
                problem: "missing".into(),
            })?;
            match label_problem(&value) {
                Some(problem) => Err(ImportIdError::InvalidIdentity {
                    part,
                    problem: format!("{value:?}, which is not a valid Kubernetes name: {problem}"),
                }),
                None => Ok(value),
            }
        };
        Ok(ImportId {
            namespace: required("namespace")?,
            name: required("name")?,
            cluster: text("cluster")?.filter(|c| !c.is_empty()),
        })
    }

    /// The identity value of this Job.
    pub fn identity(&self) -> Value {
        Value::object([
            (
                "cluster",
                self.cluster.clone().map(Value::String).unwrap_or_default(),
            ),
            ("namespace", Value::string(&self.namespace)),
            ("name", Value::string(&self.name)),
        ])
    }

    /// The Job.
    pub fn job_ref(&self) -> ObjectRef {
        ObjectRef::of::<Job>(&self.namespace, &self.name)
    }
}

impl std::fmt::Display for ImportId {
    /// The ID form: `ns/name` or `cluster:ns/name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.cluster {
            write!(f, "{c}:")?;
        }
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Why `s` is not a DNS-1123 label (Job and namespace names), if it is not.
fn label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 63 {
        return Some(format!("it has {} characters (at most 63)", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "it contains {c:?}; only lowercase letters, digits and '-' are allowed"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("it starts or ends with '-'".into());
    }
    None
}

/// The resource identity schema: `cluster` (optional), `namespace` and
/// `name` (required for import).
pub fn identity_schema() -> IdentitySchema {
    let attr = |name: &str, required: bool, description: &str| IdentityAttribute {
        name: name.to_string(),
        ty: Type::String,
        required_for_import: required,
        optional_for_import: !required,
        description: description.to_string(),
    };
    IdentitySchema {
        version: 0,
        attributes: vec![
            attr(
                "cluster",
                false,
                "Name of the provider's `clusters` entry the Job runs in (`spec.target_cluster.cluster_name`); \
                 null for the provider-level cluster.",
            ),
            attr("namespace", true, "Namespace of the Job."),
            attr("name", true, "Name of the Job (`metadata.name`)."),
        ],
    }
}

/// The identity of the Job a state describes; `None` until its namespace
/// and name are known. Both replace the Job when they change, and so does
/// the cluster, so the identity never changes over a Job's life.
pub fn identity_of_state(state: &Value) -> Option<Value> {
    let namespace = state.get("spec").get("namespace").get("value").as_str()?;
    let name = state.get("metadata").get("name").as_str()?;
    let cluster = state
        .get("spec")
        .get("target_cluster")
        .get("cluster_name")
        .as_str()
        .filter(|c| !c.is_empty());
    Some(Value::object([
        ("cluster", cluster.map(Value::string).unwrap_or_default()),
        ("namespace", Value::string(namespace)),
        ("name", Value::string(name)),
    ]))
}

// ---------------------------------------------------------------------------
// Finding the objects

/// A Job and the objects that belong to it (labelled as its own).
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The Job.
    pub job: Job,
    /// Its namespace, when this resource created it.
    pub namespace: Option<Namespace>,
    /// The ServiceAccount named after it.
    pub service_account: Option<ServiceAccount>,
    /// The env Secret `<name>-env-secrets`.
    pub env_secret: Option<Secret>,
    /// The pull Secret `<name>-image-pull-secret`.
    pub pull_secret: Option<Secret>,
    /// The ConfigMaps labelled as its own, by name.
    pub config_maps: Vec<ConfigMap>,
}

/// The label selector that finds every object a `planton_kubernetes_job`
/// created.
pub fn planton_selector() -> String {
    format!(
        "{}=true,{}={}",
        render::LABEL_RESOURCE,
        render::LABEL_KIND,
        render::KIND
    )
}

impl Found {
    /// Picks, among candidates, the objects that belong to `job`: Planton's
    /// names and this Job's `planton.ai/*` labels, in its namespace.
    pub fn assemble(
        job: Job,
        namespaces: &[Namespace],
        service_accounts: &[ServiceAccount],
        secrets: &[Secret],
        config_maps: &[ConfigMap],
    ) -> Found {
        let name = job.metadata.name.clone().unwrap_or_default();
        let ns = job.metadata.namespace.clone().unwrap_or_default();
        // Objects of the same resource instance as the Job (when it has one,
        // see ownership.rs): another instance's objects are not this Job's.
        let instance = Instance::of(job.metadata.labels.as_ref());
        let same_instance = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            instance.is_none() || Instance::of(meta.labels.as_ref()) == instance
        };
        let ours = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                    object_name: &str| {
            meta.name.as_deref() == Some(object_name)
                && meta.namespace.as_deref() == Some(ns.as_str())
                && render::is_owned_by(meta.labels.as_ref(), &name)
                && same_instance(meta)
        };
        // A namespace the job created carries its claim (or, from before
        // claims existed, the job's own labels).
        let claimed = |n: &&Namespace| {
            n.metadata.name.as_deref() == Some(ns.as_str())
                && match &instance {
                    Some(i) => {
                        ownership::claims(n.metadata.labels.as_ref()).get(i.as_str()) == Some(&name)
                    }
                    None => render::is_owned_by(n.metadata.labels.as_ref(), &name),
                }
        };
        let secret = |object_name: &str| {
            secrets
                .iter()
                .find(|s| ours(&s.metadata, object_name))
                .cloned()
        };
        let mut cms: Vec<ConfigMap> = config_maps
            .iter()
            .filter(|c| {
                c.metadata.namespace.as_deref() == Some(ns.as_str())
                    && render::is_owned_by(c.metadata.labels.as_ref(), &name)
                    && same_instance(&c.metadata)
            })
            .cloned()
            .collect();
        cms.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Found {
            namespace: namespaces.iter().find(claimed).cloned(),
            service_account: service_accounts
                .iter()
                .find(|s| ours(&s.metadata, &name))
                .cloned(),
            env_secret: secret(&render::env_secret_name(&name)),
            pull_secret: secret(&render::pull_secret_name(&name)),
            config_maps: cms,
            job,
        }
    }
}

/// Reads the Job `id` names and its objects. One clear error when the Job
/// cannot be read: it does not exist, or the credentials may not read it.
pub async fn fetch(client: &Client, id: &ImportId) -> Result<(Found, Diagnostics), Diagnostics> {
    let job_ref = id.job_ref();
    let job = match cluster::get(client, &job_ref).await {
        Ok(Some(Live::Job(job))) => *job,
        Ok(_) => return Err(not_found(id)),
        Err(GetError::Api(e)) if crate::kube::is_not_found(&e) => return Err(not_found(id)),
        Err(GetError::Api(e)) => {
            return Err(errors::diagnostics(
                "importing",
                &job_ref,
                &e,
                &errors::no_fields,
            ));
        }
        Err(GetError::Kind(e)) => {
            let mut d = Diagnostics::new();
            d.error("Unexpected Object Kind", e.to_string());
            return Err(d);
        }
    };
    let mut warnings = Diagnostics::new();
    let ns = id.namespace.as_str();
    let name = id.name.as_str();
    let by_name = [
        ObjectRef::of::<Namespace>("", ns),
        ObjectRef::of::<ServiceAccount>(ns, name),
        ObjectRef::of::<Secret>(ns, &render::env_secret_name(name)),
        ObjectRef::of::<Secret>(ns, &render::pull_secret_name(name)),
    ];
    let selector = format!("{},{}={name}", planton_selector(), render::LABEL_NAME);
    let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let params = ListParams::default().labels(&selector);
    let (gets, cms) = join(
        futures::future::join_all(by_name.iter().map(|r| cluster::get(client, r))),
        cm_api.list(&params),
    )
    .await;
    let mut errors_found = Diagnostics::new();
    let mut namespaces = Vec::new();
    let mut service_accounts = Vec::new();
    let mut secrets = Vec::new();
    for (r, got) in by_name.iter().zip(gets) {
        match got {
            Ok(Some(Live::Namespace(n))) => namespaces.push(n),
            Ok(Some(Live::ServiceAccount(s))) => service_accounts.push(s),
            Ok(Some(Live::Secret(s))) => secrets.push(s),
            Ok(_) => {}
            // Namespaces are cluster-scoped; credentials limited to one
            // namespace often may not read them. Assume it was not ours.
            Err(GetError::Api(e)) if r.kind == "Namespace" && is_forbidden(&e) => warnings
                .warning(
                    "Namespace Not Readable",
                    format!(
                        "The provider's credentials may not read the Namespace {}, so import cannot tell whether \
                         a planton_kubernetes_job created it: `spec.create_namespace` is imported as false. \
                         Destroying the resource then leaves the namespace in place.",
                        r.name
                    ),
                ),
            Err(GetError::Api(e)) => {
                errors_found.extend(errors::diagnostics("importing", r, &e, &errors::no_fields))
            }
            Err(GetError::Kind(e)) => errors_found.error("Unexpected Object Kind", e.to_string()),
        }
    }
    let config_maps = match cms {
        Ok(list) => list.items,
        Err(e) => {
            let r = ObjectRef::of::<ConfigMap>(ns, &format!("(labelled {selector})"));
            errors_found.extend(errors::diagnostics("importing", &r, &e, &errors::no_fields));
            Vec::new()
        }
    };
    if errors_found.has_error() {
        return Err(errors_found);
    }
    Ok((
        Found::assemble(job, &namespaces, &service_accounts, &secrets, &config_maps),
        warnings,
    ))
}

fn is_forbidden(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 403)
}

fn not_found(id: &ImportId) -> Diagnostics {
    let mut d = Diagnostics::new();
    let cluster = match &id.cluster {
        Some(c) => format!(" in the cluster {c:?}"),
        None => String::new(),
    };
    d.error(
        "Kubernetes Job Not Found",
        format!(
            "Cannot import {id}: there is no Job named {:?} in the namespace {:?}{cluster} (or the namespace \
             does not exist). Check the ID (`kubectl get jobs -n {}` lists the Jobs there); the accepted forms \
             are {ACCEPTED_FORMS}.",
            id.name, id.namespace, id.namespace
        ),
    );
    d
}

// ---------------------------------------------------------------------------
// Private state

/// What import learned that the state cannot hold, kept in private state
/// under its own key, next to (and unseen by) [`state::Private`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPrivate {
    /// The state came from an import and has not been applied since: the
    /// attributes import cannot read back are taken from the configuration
    /// without replacing anything ([`before_plan`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
    /// For a Job this provider did not create: what its spec cannot express.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

/// The key of [`ImportPrivate`] in the private state's JSON object.
const PRIVATE_KEY: &str = "import";

impl ImportPrivate {
    /// Reads it from private bytes; anything else means "nothing".
    pub fn from_private(bytes: &[u8]) -> ImportPrivate {
        serde_json::from_slice::<J>(bytes)
            .ok()
            .and_then(|mut j| j.get_mut(PRIVATE_KEY).map(J::take))
            .and_then(|j| serde_json::from_value(j).ok())
            .unwrap_or_default()
    }

    /// Writes it into private bytes (a JSON object, or empty), keeping
    /// every other key.
    pub fn merge_into(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut object = match serde_json::from_slice::<J>(&bytes) {
            Ok(J::Object(m)) => m,
            _ if bytes.is_empty() => Map::new(),
            // Not ours to interpret; leave it untouched.
            _ => return bytes,
        };
        if *self == ImportPrivate::default() {
            object.remove(PRIVATE_KEY);
        } else {
            match serde_json::to_value(self) {
                Ok(v) => {
                    object.insert(PRIVATE_KEY.to_string(), v);
                }
                Err(_) => return bytes,
            }
        }
        if object.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&J::Object(object)).unwrap_or(bytes)
    }
}

// ---------------------------------------------------------------------------
// The reverse mapping

/// The outcome of [`reverse`].
#[derive(Debug, Clone)]
pub struct Imported {
    /// The state (a full value of the resource's type).
    pub state: Value,
    /// What goes into private state.
    pub private: ImportPrivate,
    /// Warnings: what the spec cannot express.
    pub diagnostics: Diagnostics,
}

/// Maps a Job and its objects back to the resource's state: `metadata` and
/// `spec` as a configuration would set them, the settings outside the spec
/// at their defaults, and the computed attributes as apply records them.
pub fn reverse(id: &ImportId, found: &Found, schema_type: &Type) -> Imported {
    let job = &found.job;
    let name = id.name.clone();
    let labels = job.metadata.labels.clone().unwrap_or_default();
    let mut unexpressed = Vec::new();

    let label = |key: &str| labels.get(key).cloned().map(J::String).unwrap_or(J::Null);
    let metadata = json!({
        "name": name,
        "id": label(render::LABEL_ID),
        "org": label(render::LABEL_ORGANIZATION),
        "env": label(render::LABEL_ENVIRONMENT),
    });

    let job_spec = job.spec.clone().unwrap_or_default();
    let pod = job_spec.template.spec.clone().unwrap_or_default();
    let base = "spec.template.spec";
    let (index, container) = pick_container(&pod.containers);
    let cpath = format!("{base}.containers[{index}]");

    let pull_secret_name = render::pull_secret_name(&name);
    let ours_pull = found.pull_secret.is_some();
    let extra_pull: Vec<String> = pod
        .image_pull_secrets
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.name)
        .filter(|n| !(ours_pull && *n == pull_secret_name))
        .collect();
    if extra_pull.len() > 1 {
        unexpressed.push(format!("{base}.imagePullSecrets"));
    }
    let (repo, tag) = split_image(container.image.as_deref().unwrap_or_default());
    let mut spec = Map::new();
    if let Some(cluster) = &id.cluster {
        spec.insert("target_cluster".into(), json!({ "cluster_name": cluster }));
    }
    spec.insert("namespace".into(), json!({ "value": id.namespace }));
    spec.insert(
        "create_namespace".into(),
        J::Bool(found.namespace.is_some()),
    );
    spec.insert(
        "image".into(),
        json!({ "repo": repo, "tag": tag, "pull_secret_name": extra_pull.first() }),
    );
    spec.insert(
        "resources".into(),
        resources(container.resources.as_ref(), &cpath, &mut unexpressed),
    );
    spec.insert(
        "env".into(),
        env(
            container.env.as_deref().unwrap_or_default(),
            &name,
            found.env_secret.as_ref(),
            &cpath,
            &mut unexpressed,
        ),
    );
    let int = |v: Option<i32>| v.map(|n| json!(n)).unwrap_or(J::Null);
    spec.insert("parallelism".into(), int(job_spec.parallelism));
    // A work-queue Job leaves `completions` unset: 0 says so (as in Planton).
    spec.insert(
        "completions".into(),
        json!(job_spec.completions.unwrap_or(0)),
    );
    spec.insert("backoff_limit".into(), int(job_spec.backoff_limit));
    spec.insert(
        "active_deadline_seconds".into(),
        job_spec
            .active_deadline_seconds
            .map(|n| json!(n))
            .unwrap_or(J::Null),
    );
    spec.insert(
        "ttl_seconds_after_finished".into(),
        int(job_spec.ttl_seconds_after_finished),
    );
    spec.insert(
        "completion_mode".into(),
        json!(job_spec.completion_mode.clone()),
    );
    spec.insert("restart_policy".into(), json!(pod.restart_policy.clone()));
    spec.insert("command".into(), json!(container.command.clone()));
    spec.insert("args".into(), json!(container.args.clone()));
    let config_maps: Map<String, J> = found
        .config_maps
        .iter()
        .filter_map(|cm| {
            let cm_name = cm.metadata.name.clone()?;
            let data = cm.data.as_ref().and_then(|d| d.get(&cm_name)).cloned()?;
            Some((cm_name, J::String(data)))
        })
        .collect();
    if !config_maps.is_empty() {
        spec.insert("config_maps".into(), J::Object(config_maps));
    }
    spec.insert(
        "volume_mounts".into(),
        volume_mounts(
            container.volume_mounts.as_deref().unwrap_or_default(),
            pod.volumes.as_deref().unwrap_or_default(),
            &cpath,
            base,
            &mut unexpressed,
        ),
    );
    spec.insert("suspend".into(), json!(job_spec.suspend));

    let docker_config_json = found
        .pull_secret
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.get(render::DOCKER_CONFIG_KEY))
        .and_then(|b| String::from_utf8(b.0.clone()).ok());

    let config = json!({
        "metadata": metadata,
        "spec": J::Object(spec),
        "docker_config_json": docker_config_json,
        "wait_for_completion": true,
        "after_ttl_deletion": "keep",
        "delete_propagation": "Background",
    });
    let mut diagnostics = Diagnostics::new();
    let mut value = match crate::tf::value::json::decode(config.to_string().as_bytes(), schema_type)
    {
        Ok(v) => v,
        Err(e) => {
            diagnostics.error(
                "Import Failed",
                format!(
                    "While mapping the Job {id} to planton_kubernetes_job: {e}. This is a bug in the provider; \
                     please report it with TF_LOG=debug output."
                ),
            );
            return Imported {
                state: Value::Null,
                private: ImportPrivate::default(),
                diagnostics,
            };
        }
    };

    // Computed attributes, as apply records them.
    let tracked = tracked(found);
    state::set(
        &mut value,
        "id",
        Value::string(format!("{}/{}", id.namespace, id.name)),
    );
    state::set(
        &mut value,
        "outputs",
        state::outputs_value(&Value::string(&id.namespace), &Value::string(&name)),
    );
    state::set(&mut value, "status", state::status_value(job));
    state::set(&mut value, "objects", state::objects_value(&tracked));
    state::set(&mut value, "drift", Value::List(Vec::new()));

    // What rendering the imported spec would not reproduce.
    let model = KubernetesJob::from_value(&value).unwrap_or_default();
    let options = Options::from_value(&value);
    let rendered: Option<Rendered> = render::render(&model, &options).ok().map(|mut r| {
        if let Some(instance) = Instance::of(job.metadata.labels.as_ref()) {
            r.stamp(&instance);
        }
        r
    });
    let differences = match &rendered {
        Some(r) => kept::differences(&r.job, job),
        None => vec!["spec.template".to_string()],
    };
    let adopted = (!differences.is_empty()).then(|| Adopted::from_live(job, found));
    let mut all: Vec<String> = differences;
    all.extend(unexpressed);
    all.sort();
    all.dedup();
    if !all.is_empty() {
        diagnostics.warning(
            "Job Fields Outside planton_kubernetes_job",
            format!(
                "The Job {id} has fields that planton_kubernetes_job's spec cannot express (it was probably \
                 created by another tool):\n  - {}\n\nThey are kept as they are, in the resource's private state, \
                 for as long as this Job exists, and in-place updates leave them alone. A change that replaces \
                 the Job creates it from the spec alone, without them.",
                all.join("\n  - ")
            ),
        );
    }
    Imported {
        state: value,
        private: ImportPrivate {
            imported: true,
            adopted,
        },
        diagnostics,
    }
}

/// The objects import tracks, in apply order.
fn tracked(found: &Found) -> Vec<Tracked> {
    let uid = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.uid.clone().unwrap_or_default()
    };
    let ns = found.job.metadata.namespace.clone().unwrap_or_default();
    let name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.clone().unwrap_or_default()
    };
    let mut out = Vec::new();
    if let Some(n) = &found.namespace {
        out.push(Tracked {
            object: ObjectRef::of::<Namespace>("", &name(&n.metadata)),
            uid: uid(&n.metadata),
        });
    }
    if let Some(s) = &found.service_account {
        out.push(Tracked {
            object: ObjectRef::of::<ServiceAccount>(&ns, &name(&s.metadata)),
            uid: uid(&s.metadata),
        });
    }
    for s in found.env_secret.iter().chain(found.pull_secret.iter()) {
        out.push(Tracked {
            object: ObjectRef::of::<Secret>(&ns, &name(&s.metadata)),
            uid: uid(&s.metadata),
        });
    }
    for c in &found.config_maps {
        let has_entry = c
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key(&name(&c.metadata)));
        if has_entry {
            out.push(Tracked {
                object: ObjectRef::of::<ConfigMap>(&ns, &name(&c.metadata)),
                uid: uid(&c.metadata),
            });
        }
    }
    out.push(Tracked {
        object: ObjectRef::of::<Job>(&ns, &name(&found.job.metadata)),
        uid: uid(&found.job.metadata),
    });
    out
}

/// The container the spec describes: `job-container`, else the first.
fn pick_container(containers: &[Container]) -> (usize, Container) {
    containers
        .iter()
        .position(|c| c.name == render::CONTAINER_NAME)
        .or((!containers.is_empty()).then_some(0))
        .map(|i| (i, containers[i].clone()))
        .unwrap_or_default()
}

/// `repo[:tag]` to repo and tag; a digest stays in the repo.
pub fn split_image(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_string(), None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => {
            let at = name_start + i;
            (image[..at].to_string(), Some(image[at + 1..].to_string()))
        }
        None => (image.to_string(), None),
    }
}

/// `spec.resources` from the container's; Planton's default spelling where
/// the value is the default (the server stores `1000m` as `1`).
fn resources(r: Option<&ResourceRequirements>, cpath: &str, unexpressed: &mut Vec<String>) -> J {
    let side = |map: Option<
        &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
                which: &str,
                defaults: (&str, &str),
                unexpressed: &mut Vec<String>| {
        let Some(map) = map else { return J::Null };
        let mut out = Map::new();
        for (key, q) in map {
            let default = match key.as_str() {
                "cpu" => defaults.0,
                "memory" => defaults.1,
                _ => {
                    unexpressed.push(format!("{cpath}.resources.{which}[{key}]"));
                    continue;
                }
            };
            let text = if same_quantity(&q.0, default) {
                default.to_string()
            } else {
                q.0.clone()
            };
            out.insert(key.clone(), J::String(text));
        }
        if out.is_empty() {
            J::Null
        } else {
            J::Object(out)
        }
    };
    let Some(r) = r else {
        return json!({});
    };
    if r.claims.as_ref().is_some_and(|c| !c.is_empty()) {
        unexpressed.push(format!("{cpath}.resources.claims"));
    }
    json!({
        "limits": side(r.limits.as_ref(), "limits", (DEFAULT_LIMIT_CPU, DEFAULT_LIMIT_MEMORY), unexpressed),
        "requests": side(r.requests.as_ref(), "requests", (DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY), unexpressed),
    })
}

/// Whether two quantity strings stand for the same value.
pub fn same_quantity(a: &str, b: &str) -> bool {
    a == b || matches!((Quantity::parse(a), Quantity::parse(b)), (Ok(x), Ok(y)) if x == y)
}

/// Whether `e` is one of the variables the provider puts first.
fn is_injected(e: &EnvVar) -> bool {
    let field = e
        .value_from
        .as_ref()
        .and_then(|v| v.field_ref.as_ref())
        .map(|f| f.field_path.as_str());
    e.value.is_none()
        && matches!(
            (e.name.as_str(), field),
            ("HOSTNAME", Some("status.podIP")) | ("K8S_POD_ID", Some("metadata.name"))
        )
}

/// `spec.env` from the container's env.
fn env(
    vars: &[EnvVar],
    job_name: &str,
    env_secret: Option<&Secret>,
    cpath: &str,
    unexpressed: &mut Vec<String>,
) -> J {
    let secret_data: BTreeMap<String, String> = env_secret
        .and_then(|s| s.data.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, String::from_utf8(v.0).ok()?)))
        .collect();
    let env_secret_name = render::env_secret_name(job_name);
    let mut variables = Map::new();
    let mut secrets = Map::new();
    for e in vars {
        if is_injected(e) {
            continue;
        }
        let here = format!("{cpath}.env[{}]", e.name);
        if variables.contains_key(&e.name) || secrets.contains_key(&e.name) {
            unexpressed.push(here);
            continue;
        }
        let secret_ref = e.value_from.as_ref().and_then(|v| {
            let only_secret = v.config_map_key_ref.is_none()
                && v.field_ref.is_none()
                && v.resource_field_ref.is_none();
            v.secret_key_ref.as_ref().filter(|_| only_secret)
        });
        match (&e.value_from, secret_ref) {
            (None, _) => {
                variables.insert(
                    e.name.clone(),
                    json!({ "value": e.value.clone().unwrap_or_default() }),
                );
            }
            (Some(_), Some(r)) => {
                if r.optional == Some(true) {
                    unexpressed.push(format!("{here}.valueFrom.secretKeyRef.optional"));
                }
                let literal =
                    (env_secret.is_some() && r.name == env_secret_name && r.key == e.name)
                        .then(|| secret_data.get(&e.name))
                        .flatten();
                let entry = match literal {
                    Some(value) => json!({ "value": value }),
                    None => json!({ "secret_ref": { "name": r.name, "key": r.key } }),
                };
                secrets.insert(e.name.clone(), entry);
            }
            (Some(_), None) => unexpressed.push(here),
        }
    }
    if variables.is_empty() && secrets.is_empty() {
        return J::Null;
    }
    let or_null = |m: Map<String, J>| if m.is_empty() { J::Null } else { J::Object(m) };
    json!({ "variables": or_null(variables), "secrets": or_null(secrets) })
}

/// `spec.volume_mounts` from the container's mounts and the pod's volumes.
fn volume_mounts(
    mounts: &[K8sVolumeMount],
    volumes: &[Volume],
    cpath: &str,
    base: &str,
    unexpressed: &mut Vec<String>,
) -> J {
    let mut out = Vec::new();
    let mut used = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        let here = format!("{cpath}.volumeMounts[{i}]");
        let Some((vi, v)) = volumes.iter().enumerate().find(|(_, v)| v.name == m.name) else {
            unexpressed.push(here);
            continue;
        };
        let vpath = format!("{base}.volumes[{vi}]");
        if used.contains(&vi) {
            // One volume mounted twice: the spec pairs volumes and mounts.
            unexpressed.push(here);
            continue;
        }
        if m.mount_propagation.is_some()
            || m.sub_path_expr.is_some()
            || m.recursive_read_only.is_some()
        {
            unexpressed.push(here.clone());
        }
        let mut entry = Map::new();
        entry.insert("name".into(), J::String(m.name.clone()));
        entry.insert("mount_path".into(), J::String(m.mount_path.clone()));
        if m.read_only == Some(true) {
            entry.insert("read_only".into(), J::Bool(true));
        }
        if let Some(sp) = m.sub_path.as_ref().filter(|s| !s.is_empty()) {
            entry.insert("sub_path".into(), J::String(sp.clone()));
        }
        let keyed = |name: &str,
                     items: Option<&Vec<k8s_openapi::api::core::v1::KeyToPath>>,
                     mode: Option<i32>,
                     optional: Option<bool>,
                     path: String,
                     unexpressed: &mut Vec<String>| {
            let mut src = Map::new();
            src.insert("name".into(), J::String(name.to_string()));
            match items.map(Vec::as_slice).unwrap_or_default() {
                [] => {}
                [item] => {
                    src.insert("key".into(), J::String(item.key.clone()));
                    if item.path != item.key {
                        src.insert("path".into(), J::String(item.path.clone()));
                    }
                    if item.mode.is_some() {
                        unexpressed.push(format!("{path}.items[0].mode"));
                    }
                }
                _ => unexpressed.push(format!("{path}.items")),
            }
            // 420 (0644) is what the server fills in when nothing is set.
            if let Some(mode) = mode.filter(|m| *m != 420) {
                src.insert("default_mode".into(), json!(mode));
            }
            if optional.is_some() {
                unexpressed.push(format!("{path}.optional"));
            }
            J::Object(src)
        };
        if let Some(cm) = &v.config_map {
            let src = keyed(
                &cm.name,
                cm.items.as_ref(),
                cm.default_mode,
                cm.optional,
                format!("{vpath}.configMap"),
                unexpressed,
            );
            entry.insert("config_map".into(), src);
        } else if let Some(s) = &v.secret {
            let src = keyed(
                s.secret_name.as_deref().unwrap_or_default(),
                s.items.as_ref(),
                s.default_mode,
                s.optional,
                format!("{vpath}.secret"),
                unexpressed,
            );
            entry.insert("secret".into(), src);
        } else if let Some(h) = &v.host_path {
            entry.insert(
                "host_path".into(),
                json!({ "path": h.path, "type": h.type_.clone().filter(|t| !t.is_empty()) }),
            );
        } else if let Some(e) = &v.empty_dir {
            entry.insert(
                "empty_dir".into(),
                json!({
                    "medium": e.medium.clone().filter(|m| !m.is_empty()),
                    "size_limit": e.size_limit.as_ref().map(|q| q.0.clone()),
                }),
            );
        } else if let Some(c) = &v.persistent_volume_claim {
            let mut pvc = Map::new();
            pvc.insert("claim_name".into(), J::String(c.claim_name.clone()));
            if c.read_only == Some(true) {
                pvc.insert("read_only".into(), J::Bool(true));
            }
            entry.insert("pvc".into(), J::Object(pvc));
        } else {
            unexpressed.push(vpath);
            continue;
        }
        used.push(vi);
        out.push(J::Object(entry));
    }
    for (vi, _) in volumes.iter().enumerate() {
        if !used.contains(&vi) {
            unexpressed.push(format!("{base}.volumes[{vi}]"));
        }
    }
    if out.is_empty() {
        J::Null
    } else {
        J::Array(out)
    }
}

// ---------------------------------------------------------------------------
// The plan after an import

/// Runs before the resource's plan (`buckets`): keeps the prior spelling of
/// quantities the configuration writes differently (the server stores
/// `1000m` as `1`), and after an import lets the attributes import cannot
/// read back, and values that render the same objects, be taken from the
/// configuration without replacing the Job. Returns the prior state the
/// plan should classify the change against, when it differs from the real
/// one.
pub fn before_plan(req: &PlanRequest, resp: &mut PlanResponse) -> Option<Value> {
    let prior = &req.prior_state;
    if prior.is_null() || resp.planned_state.is_null() {
        return None;
    }
    keep_quantity_spelling(prior, &mut resp.planned_state);
    let private = ImportPrivate::from_private(&req.prior_private);
    if !private.imported {
        return None;
    }
    let planned = &resp.planned_state;
    // Prior as the configuration says it wherever the difference would
    // change nothing in the cluster, attribute by attribute; and
    // `rerun_triggers`, which import cannot read, from the configuration.
    let mut adjusted = prior.clone();
    let mut changed = false;
    if prior.get("rerun_triggers").is_null() && !planned.get("rerun_triggers").is_null() {
        state::set(
            &mut adjusted,
            "rerun_triggers",
            planned.get("rerun_triggers").clone(),
        );
        changed = true;
    }
    let mut candidates: Vec<Vec<&str>> = vec![vec!["docker_config_json"]];
    for parent in ["metadata", "spec"] {
        for name in planned
            .get(parent)
            .as_entries()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            // The cluster is the identity's; never taken over.
            if name != "target_cluster" {
                candidates.push(vec![parent, name.as_str()]);
            }
        }
    }
    for path in candidates {
        let want = path.iter().fold(planned, |v, s| v.get(s));
        let have = path.iter().fold(&adjusted, |v, s| v.get(s));
        if want.semantically_equal(have) {
            continue;
        }
        let mut candidate = adjusted.clone();
        let Some(slot) = state::get_mut(&mut candidate, &path) else {
            continue;
        };
        *slot = want.clone();
        if renders_the_same(prior, &candidate) {
            adjusted = candidate;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    // The framework's replace triggers, against the adjusted prior: those
    // whose value now agrees would change nothing in the cluster.
    resp.requires_replace
        .retain(|p| !at_path(&adjusted, p).semantically_equal(at_path(planned, p)));
    Some(adjusted)
}

/// The value at `path` (attribute steps only; other steps give null).
fn at_path<'a>(v: &'a Value, path: &AttributePath) -> &'a Value {
    static NULL: Value = Value::Null;
    let mut current = v;
    for step in &path.0 {
        current = match step {
            crate::tf::PathStep::Attribute(name) => current.get(name),
            crate::tf::PathStep::Key(key) => current.get(key),
            crate::tf::PathStep::Index(i) => match usize::try_from(*i)
                .ok()
                .and_then(|i| current.as_elements().and_then(|e| e.get(i)))
            {
                Some(x) => x,
                None => &NULL,
            },
        };
    }
    current
}

/// Whether two fully known states render the same Kubernetes objects
/// (quantities compared by value, server-filled defaults ignored).
fn renders_the_same(a: &Value, b: &Value) -> bool {
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    let render = |v: &Value| {
        let model = KubernetesJob::from_value(v).ok()?;
        render::render(&model, &Options::from_value(v)).ok()
    };
    match (render(a), render(b)) {
        (Some(x), Some(y)) => {
            let objects = |r: &Rendered| {
                r.objects()
                    .iter()
                    .map(|o| kept::normalized(o.to_json()))
                    .collect::<Vec<_>>()
            };
            objects(&x) == objects(&y)
        }
        _ => false,
    }
}

/// Quantity attributes: where the configuration writes the value the prior
/// state holds in another spelling, the plan keeps the prior spelling
/// (Terraform accepts the prior value for an equivalent configuration).
fn keep_quantity_spelling(prior: &Value, planned: &mut Value) {
    for side in ["limits", "requests"] {
        for q in ["cpu", "memory"] {
            let path = ["spec", "resources", side, q];
            let before = path.iter().fold(prior, |v, s| v.get(s));
            if let (Some(b), Some(slot)) = (before.as_str(), state::get_mut(planned, &path))
                && let Some(a) = slot.as_str()
                && a != b
                && same_quantity(a, b)
            {
                *slot = Value::string(b);
            }
        }
    }
    let prior_mounts = prior
        .get("spec")
        .get("volume_mounts")
        .as_elements()
        .unwrap_or_default();
    if let Some(Value::List(mounts)) = state::get_mut(planned, &["spec", "volume_mounts"]) {
        for (m, before) in mounts.iter_mut().zip(prior_mounts) {
            let b = before.get("empty_dir").get("size_limit");
            if let (Some(b), Some(slot)) =
                (b.as_str(), state::get_mut(m, &["empty_dir", "size_limit"]))
                && let Some(a) = slot.as_str()
                && a != b
                && same_quantity(a, b)
            {
                *slot = Value::string(b);
            }
        }
    }
}

/// Runs after the resource's plan: an adopted Job keeps its own pod
/// template, so (a) the objects it does not have (a ServiceAccount it does
/// not use) are not planned, and (b) a change of the `planton.ai/*` labels,
/// which live on the template, replaces it.
pub fn after_plan(req: &PlanRequest, resp: &mut PlanResponse) {
    let prior = &req.prior_state;
    if prior.is_null() || resp.planned_state.is_null() {
        return;
    }
    let Some(adopted) = ImportPrivate::from_private(&req.prior_private).adopted else {
        return;
    };
    let planned = &mut resp.planned_state;
    for attr in ["id", "org", "env"] {
        let (b, a) = (
            prior.get("metadata").get(attr),
            planned.get("metadata").get(attr),
        );
        if !a.is_wholly_known() || !b.semantically_equal(a) {
            resp.requires_replace
                .push(AttributePath::root("metadata").attr(attr));
        }
    }
    resp.requires_replace.sort();
    resp.requires_replace.dedup();
    if !resp.requires_replace.is_empty() {
        // As the plan marks any replacement: new objects, new status.
        state::set_new_objects_unknown(planned);
        return;
    }
    if !planned.get("objects").is_unknown() {
        return;
    }
    let private = state::Private::from_bytes(&req.prior_private);
    if !private.missing.is_empty() {
        return;
    }
    let Ok(model) = KubernetesJob::from_value(planned) else {
        return;
    };
    let wo = crate::kubernetes_job::model::write_only::WriteOnly::from_config(&req.config);
    let Some(mut want) = render::planned_refs(&model, planned.get("docker_config_json"), &wo)
    else {
        return;
    };
    want.retain(|r| adopted.manages_ref(r));
    let prior_objects = state::objects_from_value(prior.get("objects"));
    let mut have: Vec<ObjectRef> = prior_objects.iter().map(|t| t.object.clone()).collect();
    want.sort();
    have.sort();
    if want == have {
        state::set(planned, "objects", prior.get("objects").clone());
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
