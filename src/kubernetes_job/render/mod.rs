//! Rendering: a fully known `planton_kubernetes_job` to the Kubernetes
//! objects it manages, as typed k8s-openapi values. Pure: no I/O, so every
//! rendering is pinned by fixtures (`tests/fixtures/render/`).
//!
//! The objects follow Project Planton's Pulumi module (research (c)):
//!
//! | object | when | name |
//! |---|---|---|
//! | Namespace | `spec.create_namespace` | `spec.namespace.value` |
//! | ServiceAccount | always (as Planton's Terraform module does) | `metadata.name` |
//! | Secret (Opaque) | some `env.secrets` entry has a `value` | `<name>-env-secrets` |
//! | Secret (dockerconfigjson) | `docker_config_json` is set | `<name>-image-pull-secret` |
//! | ConfigMap | one per `spec.config_maps` entry | the entry's key |
//! | Job | always | `metadata.name` |
//!
//! Every object and the pod template carry the `planton.ai/*` labels. The
//! container is `job-container`; its env starts with `HOSTNAME` (the pod IP,
//! as Planton sets it) and `K8S_POD_ID`, then the variables sorted by name,
//! then the secrets sorted by name. Two deliberate differences from the
//! Pulumi module, both documented surprises there (research (f) 4, 5, 9):
//! an empty `value` is rendered (an empty variable is still a variable), and
//! `image.pull_secret_name` is honoured.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::{Job, JobSpec as K8sJobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource as K8sConfigMapSource, Container, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HostPathVolumeSource, KeyToPath, LocalObjectReference, Namespace,
    ObjectFieldSelector, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec,
    ResourceRequirements, Secret, SecretKeySelector, SecretVolumeSource as K8sSecretSource,
    ServiceAccount, Volume, VolumeMount as K8sVolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::kube::ObjectRef;
use crate::kubernetes_job::model::names::INJECTED_ENV;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::ownership::{Instance, LABEL_INSTANCE};
use crate::kubernetes_job::model::spec::{
    ConfigMapVolumeSource, CpuMemory, Field, JobSpec, KubernetesJob, VolumeMount,
};
use crate::kubernetes_job::model::write_only::{self, WriteOnly};
use crate::tf::{AttributePath, Number, Value};

/// Label: every object this resource manages.
pub const LABEL_RESOURCE: &str = "planton.ai/resource";
/// Label: `metadata.name`.
pub const LABEL_NAME: &str = "planton.ai/name";
/// Label: the Planton kind, always [`KIND`].
pub const LABEL_KIND: &str = "planton.ai/kind";
/// Label: `metadata.id`, when set.
pub const LABEL_ID: &str = "planton.ai/id";
/// Label: `metadata.org`, when set.
pub const LABEL_ORGANIZATION: &str = "planton.ai/organization";
/// Label: `metadata.env`, when set.
pub const LABEL_ENVIRONMENT: &str = "planton.ai/environment";
/// The Planton kind.
pub const KIND: &str = "KubernetesJob";
/// The one container of the pod.
pub const CONTAINER_NAME: &str = "job-container";
/// Data key of the image pull Secret.
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";
/// Type of the image pull Secret.
pub const DOCKER_CONFIG_TYPE: &str = "kubernetes.io/dockerconfigjson";

/// The Job's `spec` attributes whose 0 means "unset", as in Planton's
/// modules: a 0 is not rendered, and Kubernetes' own default applies.
/// (`backoff_limit` is not among them: Planton renders its 0, no retries.)
pub const ZERO_MEANS_UNSET: [&str; 4] = [
    "parallelism",
    "completions",
    "active_deadline_seconds",
    "ttl_seconds_after_finished",
];

/// Name of the Secret holding the literal `env.secrets` values.
pub fn env_secret_name(job_name: &str) -> String {
    format!("{job_name}-env-secrets")
}

/// Name of the image pull Secret made from `docker_config_json`.
pub fn pull_secret_name(job_name: &str) -> String {
    format!("{job_name}-image-pull-secret")
}

/// One object to apply, in its typed form.
#[derive(Clone, PartialEq)]
pub enum Object {
    /// The namespace (only when `create_namespace`).
    Namespace(Namespace),
    /// The pod's ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// The env Secret or the image pull Secret.
    Secret(Secret),
    /// One `config_maps` entry.
    ConfigMap(ConfigMap),
    /// The Job.
    Job(Box<Job>),
}

/// A Secret with its data values replaced, for `Debug`: the data holds
/// the job's secrets.
fn redacted(secret: &Secret) -> Secret {
    let mut s = secret.clone();
    for data in [s.data.as_mut()].into_iter().flatten() {
        for v in data.values_mut() {
            *v = ByteString(b"<redacted>".to_vec());
        }
    }
    for data in [s.string_data.as_mut()].into_iter().flatten() {
        for v in data.values_mut() {
            *v = "<redacted>".to_string();
        }
    }
    s
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Namespace(o) => f.debug_tuple("Namespace").field(o).finish(),
            Object::ServiceAccount(o) => f.debug_tuple("ServiceAccount").field(o).finish(),
            Object::Secret(o) => f.debug_tuple("Secret").field(&redacted(o)).finish(),
            Object::ConfigMap(o) => f.debug_tuple("ConfigMap").field(o).finish(),
            Object::Job(o) => f.debug_tuple("Job").field(o).finish(),
        }
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("namespace", &self.namespace)
            .field("service_account", &self.service_account)
            .field("env_secret", &self.env_secret.as_ref().map(redacted))
            .field("pull_secret", &self.pull_secret.as_ref().map(redacted))
            .field("config_maps", &self.config_maps)
            .field("job", &self.job)
            .field("env_origins", &self.env_origins)
            .finish()
    }
}

impl Object {
    /// Which object this is.
    pub fn object_ref(&self) -> ObjectRef {
        let (meta, r) = match self {
            Object::Namespace(o) => (&o.metadata, ObjectRef::of::<Namespace>("", "")),
            Object::ServiceAccount(o) => (&o.metadata, ObjectRef::of::<ServiceAccount>("", "")),
            Object::Secret(o) => (&o.metadata, ObjectRef::of::<Secret>("", "")),
            Object::ConfigMap(o) => (&o.metadata, ObjectRef::of::<ConfigMap>("", "")),
            Object::Job(o) => (&o.metadata, ObjectRef::of::<Job>("", "")),
        };
        ObjectRef {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            ..r
        }
    }

    /// The object as JSON, as it is sent to the API server.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Object::Namespace(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ConfigMap(o) => serde_json::to_value(o),
            Object::Job(o) => serde_json::to_value(o),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// Where one entry of the container's env came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOrigin {
    /// `HOSTNAME` or `K8S_POD_ID`.
    Injected,
    /// `spec.env.variables[key]`.
    Variable(String),
    /// `spec.env.secrets[key]`.
    Secret(String),
    /// `env_secrets_wo[key]`.
    WriteOnly(String),
}

/// Everything one resource manages, in apply order.
#[derive(Clone, PartialEq)]
pub struct Rendered {
    /// The Namespace, when this resource creates it.
    pub namespace: Option<Namespace>,
    /// The pod's ServiceAccount.
    pub service_account: ServiceAccount,
    /// The Secret with the literal secret values, when there are any.
    pub env_secret: Option<Secret>,
    /// The image pull Secret, when `docker_config_json` is set.
    pub pull_secret: Option<Secret>,
    /// One ConfigMap per `config_maps` entry, sorted by name.
    pub config_maps: Vec<ConfigMap>,
    /// The Job.
    pub job: Job,
    /// The origin of each container env entry, by index.
    pub env_origins: Vec<EnvOrigin>,
}

impl Rendered {
    /// The objects in dependency order: Namespace, ServiceAccount, Secrets,
    /// ConfigMaps, Job.
    pub fn objects(&self) -> Vec<Object> {
        let mut out = Vec::new();
        if let Some(ns) = &self.namespace {
            out.push(Object::Namespace(ns.clone()));
        }
        out.push(Object::ServiceAccount(self.service_account.clone()));
        if let Some(s) = &self.env_secret {
            out.push(Object::Secret(s.clone()));
        }
        if let Some(s) = &self.pull_secret {
            out.push(Object::Secret(s.clone()));
        }
        out.extend(self.config_maps.iter().cloned().map(Object::ConfigMap));
        out.push(Object::Job(Box::new(self.job.clone())));
        out
    }

    /// Marks the objects as `instance`'s ([`super::ownership`]): the label
    /// `planton.ai/instance` on each object (not on the pod template, which
    /// would change the pods), and on the Namespace, which several jobs may
    /// share, this job's claim in place of its own labels.
    pub fn stamp(&mut self, instance: &Instance) {
        let label = |meta: &mut ObjectMeta| {
            meta.labels
                .get_or_insert_with(BTreeMap::new)
                .insert(LABEL_INSTANCE.to_string(), instance.as_str().to_string());
        };
        label(&mut self.service_account.metadata);
        for secret in [&mut self.env_secret, &mut self.pull_secret]
            .into_iter()
            .flatten()
        {
            label(&mut secret.metadata);
        }
        for cm in &mut self.config_maps {
            label(&mut cm.metadata);
        }
        label(&mut self.job.metadata);
        if let Some(ns) = &mut self.namespace {
            let job_name = self.job.metadata.name.clone().unwrap_or_default();
            ns.metadata.labels = Some(BTreeMap::from([
                (LABEL_RESOURCE.to_string(), "true".to_string()),
                (LABEL_KIND.to_string(), KIND.to_string()),
                (instance.claim_label(), job_name),
            ]));
        }
    }

    /// Adds the write-only values of the configuration ([`write_only`]):
    /// each env secret into the env Secret (made when the spec has no
    /// literal secrets) and into the container's env, among the other
    /// secrets in name order; the image pull Secret from
    /// `docker_config_json_wo`. Apply passes the values; refresh passes the
    /// recorded names with empty values, to compare labels.
    pub fn add_write_only(&mut self, wo: &WriteOnly) {
        let job_name = self.job.metadata.name.clone().unwrap_or_default();
        let meta = |name: String| ObjectMeta {
            name: Some(name),
            ..self.service_account.metadata.clone()
        };
        if !wo.env.is_empty() {
            let secret = self.env_secret.get_or_insert_with(|| Secret {
                metadata: meta(env_secret_name(&job_name)),
                type_: Some("Opaque".to_string()),
                data: Some(BTreeMap::new()),
                ..Secret::default()
            });
            let data = secret.data.get_or_insert_with(BTreeMap::new);
            for (k, v) in &wo.env {
                data.insert(k.clone(), ByteString(v.clone().into_bytes()));
            }
        }
        if let Some(json) = &wo.docker_config_json {
            let name = pull_secret_name(&job_name);
            self.pull_secret = Some(Secret {
                metadata: meta(name.clone()),
                type_: Some(DOCKER_CONFIG_TYPE.to_string()),
                data: Some(BTreeMap::from([(
                    DOCKER_CONFIG_KEY.to_string(),
                    ByteString(json.clone().into_bytes()),
                )])),
                ..Secret::default()
            });
            if let Some(pod) = self
                .job
                .spec
                .as_mut()
                .and_then(|s| s.template.spec.as_mut())
            {
                let refs = pod.image_pull_secrets.get_or_insert_with(Vec::new);
                if !refs.iter().any(|r| r.name == name) {
                    refs.insert(0, LocalObjectReference { name });
                }
            }
        }
        let Some(container) = self
            .job
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .and_then(|p| p.containers.first_mut())
        else {
            return;
        };
        let env = container.env.get_or_insert_with(Vec::new);
        let mut entries: Vec<(EnvVar, EnvOrigin)> =
            env.drain(..).zip(self.env_origins.drain(..)).collect();
        for k in wo.env.keys() {
            entries.push((
                EnvVar {
                    name: k.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: env_secret_name(&job_name),
                            key: k.clone(),
                            optional: None,
                        }),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                },
                EnvOrigin::WriteOnly(k.clone()),
            ));
        }
        // Injected, then variables, then all secrets, each group by name.
        let group = |o: &EnvOrigin| match o {
            EnvOrigin::Injected => 0,
            EnvOrigin::Variable(_) => 1,
            EnvOrigin::Secret(_) | EnvOrigin::WriteOnly(_) => 2,
        };
        entries.sort_by(|(a, ao), (b, bo)| {
            group(ao).cmp(&group(bo)).then_with(|| match group(ao) {
                0 => std::cmp::Ordering::Equal,
                _ => a.name.cmp(&b.name),
            })
        });
        for (var, origin) in entries {
            env.push(var);
            self.env_origins.push(origin);
        }
    }

    /// The references of [`Rendered::objects`].
    pub fn refs(&self) -> Vec<ObjectRef> {
        self.objects().iter().map(Object::object_ref).collect()
    }

    /// The attribute behind a field the API server names in a 422 cause for
    /// `object`, where there is one.
    pub fn attribute_for(&self, object: &ObjectRef, field: &str) -> Option<AttributePath> {
        let spec = AttributePath::root("spec");
        match object.kind.as_str() {
            "Namespace" => Some(spec.attr("namespace").attr("value")),
            "ConfigMap" => Some(spec.attr("config_maps").key(object.name.clone())),
            "Secret"
                if self
                    .pull_secret
                    .as_ref()
                    .and_then(|s| s.metadata.name.as_deref())
                    == Some(object.name.as_str()) =>
            {
                Some(AttributePath::root("docker_config_json"))
            }
            "Secret" => {
                let key = bracketed(field.strip_prefix("data")?)?;
                Some(spec.attr("env").attr("secrets").key(key).attr("value"))
            }
            "ServiceAccount" => Some(AttributePath::root("metadata").attr("name")),
            "Job" => self.job_attribute(field),
            _ => None,
        }
    }

    fn job_attribute(&self, field: &str) -> Option<AttributePath> {
        let spec = AttributePath::root("spec");
        let simple = [
            (
                "metadata.name",
                AttributePath::root("metadata").attr("name"),
            ),
            ("metadata.namespace", spec.attr("namespace").attr("value")),
            ("spec.parallelism", spec.attr("parallelism")),
            ("spec.completions", spec.attr("completions")),
            ("spec.backoffLimit", spec.attr("backoff_limit")),
            (
                "spec.activeDeadlineSeconds",
                spec.attr("active_deadline_seconds"),
            ),
            (
                "spec.ttlSecondsAfterFinished",
                spec.attr("ttl_seconds_after_finished"),
            ),
            ("spec.completionMode", spec.attr("completion_mode")),
            ("spec.suspend", spec.attr("suspend")),
            (
                "spec.template.spec.restartPolicy",
                spec.attr("restart_policy"),
            ),
        ];
        if let Some((_, path)) = simple.iter().find(|(f, _)| *f == field) {
            return Some(path.clone());
        }
        if let Some(rest) = field.strip_prefix("spec.template.spec.containers[0].") {
            let (head, tail) = split_index(rest);
            return match head {
                "image" => Some(spec.attr("image").attr("repo")),
                "command" | "args" => Some(match tail.and_then(|(i, _)| i) {
                    Some(i) => spec.attr(head).index(i),
                    None => spec.attr(head),
                }),
                "resources.limits" | "resources.requests" => {
                    let side = &head["resources.".len()..];
                    let base = spec.attr("resources").attr(side);
                    // `resources.limits[cpu]`
                    let which = rest.strip_prefix(head).and_then(bracketed);
                    Some(match which {
                        Some(which) => base.attr(which),
                        None => base,
                    })
                }
                "env" => {
                    let i = tail.and_then(|(i, _)| i)?;
                    Some(match self.env_origins.get(i)? {
                        EnvOrigin::Injected => spec.attr("env"),
                        EnvOrigin::Variable(k) => spec.attr("env").attr("variables").key(k.clone()),
                        EnvOrigin::Secret(k) => spec.attr("env").attr("secrets").key(k.clone()),
                        EnvOrigin::WriteOnly(k) => {
                            AttributePath::root(write_only::ENV_SECRETS).key(k.clone())
                        }
                    })
                }
                "volumeMounts" => {
                    let (i, rest) = tail?;
                    let mount = spec.attr("volume_mounts").index(i?);
                    Some(match rest.trim_start_matches('.') {
                        "mountPath" => mount.attr("mount_path"),
                        "subPath" => mount.attr("sub_path"),
                        "name" => mount.attr("name"),
                        _ => mount,
                    })
                }
                _ => Some(spec.clone()),
            };
        }
        if let Some(rest) = field.strip_prefix("spec.template.spec.volumes") {
            let (_, tail) = split_index(rest);
            let (i, _) = tail?;
            return Some(spec.attr("volume_mounts").index(i?));
        }
        if field.starts_with("spec.template.spec.imagePullSecrets") {
            return Some(spec.attr("image").attr("pull_secret_name"));
        }
        None
    }
}

/// `"[key]..."` to `key`.
fn bracketed(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].to_string())
}

/// `"env[3].name"` to `("env", Some((Some(3), ".name")))`.
fn split_index(text: &str) -> (&str, Option<(Option<usize>, &str)>) {
    match text.find('[') {
        None => (text, None),
        Some(open) => {
            let head = &text[..open];
            let after = &text[open + 1..];
            match after.find(']') {
                Some(close) => (
                    head,
                    Some((after[..close].parse().ok(), &after[close + 1..])),
                ),
                None => (head, None),
            }
        }
    }
}

/// A value rendering needs was not known, not set, or out of range. The
/// plan and validation rule these out, so this is a provider bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} is {problem}")]
pub struct RenderError {
    /// The attribute.
    pub path: AttributePath,
    /// What is wrong with it.
    pub problem: &'static str,
}

type Result<T> = std::result::Result<T, RenderError>;

fn need<T>(field: &Field<T>, path: impl FnOnce() -> AttributePath) -> Result<&T> {
    match field {
        Field::Known(v) => Ok(v),
        Field::Unknown => Err(RenderError {
            path: path(),
            problem: "not known yet",
        }),
        Field::Null => Err(RenderError {
            path: path(),
            problem: "not set",
        }),
    }
}

/// A known value, `None` when null; unknown is an error.
fn opt<T>(field: &Field<T>, path: impl FnOnce() -> AttributePath) -> Result<Option<&T>> {
    match field {
        Field::Known(v) => Ok(Some(v)),
        Field::Null => Ok(None),
        Field::Unknown => Err(RenderError {
            path: path(),
            problem: "not known yet",
        }),
    }
}

fn int32(n: &Number, path: impl FnOnce() -> AttributePath) -> Result<i32> {
    n.as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| RenderError {
            path: path(),
            problem: "not a 32-bit whole number",
        })
}

fn sp() -> AttributePath {
    AttributePath::root("spec")
}

/// The `planton.ai/*` labels of every object (Planton's `locals.go`).
pub fn labels(job: &KubernetesJob) -> Result<BTreeMap<String, String>> {
    let meta = need(&job.metadata, || AttributePath::root("metadata"))?;
    let mp = || AttributePath::root("metadata");
    let mut labels = BTreeMap::new();
    labels.insert(LABEL_RESOURCE.to_string(), "true".to_string());
    labels.insert(
        LABEL_NAME.to_string(),
        need(&meta.name, || mp().attr("name"))?.clone(),
    );
    labels.insert(LABEL_KIND.to_string(), KIND.to_string());
    for (key, field, attr) in [
        (LABEL_ID, &meta.id, "id"),
        (LABEL_ORGANIZATION, &meta.org, "org"),
        (LABEL_ENVIRONMENT, &meta.env, "env"),
    ] {
        if let Some(v) = opt(field, || mp().attr(attr))?.filter(|v| !v.is_empty()) {
            labels.insert(key.to_string(), v.clone());
        }
    }
    Ok(labels)
}

/// Whether an existing object's labels say it belongs to the job `name`
/// (so an apply may adopt it).
pub fn is_owned_by(labels: Option<&BTreeMap<String, String>>, name: &str) -> bool {
    let Some(labels) = labels else {
        return false;
    };
    labels.get(LABEL_RESOURCE).map(String::as_str) == Some("true")
        && labels.get(LABEL_KIND).map(String::as_str) == Some(KIND)
        && labels.get(LABEL_NAME).map(String::as_str) == Some(name)
}

/// The image reference: `repo:tag`, or `repo` alone when the tag is empty.
pub fn image_reference(repo: &str, tag: &str) -> String {
    if tag.is_empty() {
        repo.to_string()
    } else {
        format!("{repo}:{tag}")
    }
}

/// Renders every object of a fully known job.
pub fn render(job: &KubernetesJob, options: &Options) -> Result<Rendered> {
    let meta = need(&job.metadata, || AttributePath::root("metadata"))?;
    let name = need(&meta.name, || AttributePath::root("metadata").attr("name"))?.clone();
    let spec = need(&job.spec, sp)?;
    let ns_value = need(&spec.namespace, || sp().attr("namespace"))?;
    let namespace = need(&ns_value.value, || sp().attr("namespace").attr("value"))?.clone();
    let labels = labels(job)?;
    let object_meta = |object_name: &str, in_namespace: bool| ObjectMeta {
        name: Some(object_name.to_string()),
        namespace: in_namespace.then(|| namespace.clone()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };

    let create_namespace = opt(&spec.create_namespace, || sp().attr("create_namespace"))?
        .copied()
        .unwrap_or(false);
    let namespace_object = create_namespace.then(|| Namespace {
        metadata: object_meta(&namespace, false),
        ..Namespace::default()
    });

    let service_account = ServiceAccount {
        metadata: object_meta(&name, true),
        ..ServiceAccount::default()
    };

    // Literal secret values, by name (sorted: BTreeMap).
    let mut literal_secrets = BTreeMap::new();
    if let Some(env) = opt(&spec.env, || sp().attr("env"))?
        && let Some(secrets) = opt(&env.secrets, || sp().attr("env").attr("secrets"))?
    {
        for (key, secret) in secrets {
            let p = || sp().attr("env").attr("secrets").key(key.clone());
            let Some(secret) = opt(secret, p)? else {
                continue;
            };
            if let Some(value) = opt(&secret.value, || p().attr("value"))? {
                literal_secrets.insert(key.clone(), ByteString(value.clone().into_bytes()));
            }
        }
    }
    let env_secret = (!literal_secrets.is_empty()).then(|| Secret {
        metadata: object_meta(&env_secret_name(&name), true),
        type_: Some("Opaque".to_string()),
        data: Some(literal_secrets),
        ..Secret::default()
    });

    let pull_secret = options.docker_config_json.as_ref().map(|json| Secret {
        metadata: object_meta(&pull_secret_name(&name), true),
        type_: Some(DOCKER_CONFIG_TYPE.to_string()),
        data: Some(BTreeMap::from([(
            DOCKER_CONFIG_KEY.to_string(),
            ByteString(json.clone().into_bytes()),
        )])),
        ..Secret::default()
    });

    let mut config_maps = Vec::new();
    if let Some(entries) = opt(&spec.config_maps, || sp().attr("config_maps"))? {
        for (key, data) in entries {
            let data = need(data, || sp().attr("config_maps").key(key.clone()))?;
            config_maps.push(ConfigMap {
                metadata: object_meta(key, true),
                data: Some(BTreeMap::from([(key.clone(), data.clone())])),
                ..ConfigMap::default()
            });
        }
    }

    let (container, env_origins) = container(spec, &name)?;
    let mut pull_secrets = Vec::new();
    if let Some(s) = &pull_secret
        && let Some(n) = &s.metadata.name
    {
        pull_secrets.push(LocalObjectReference { name: n.clone() });
    }
    let image = need(&spec.image, || sp().attr("image"))?;
    if let Some(extra) = opt(&image.pull_secret_name, || {
        sp().attr("image").attr("pull_secret_name")
    })?
    .filter(|n| !n.is_empty())
        && !pull_secrets.iter().any(|r| &r.name == extra)
    {
        pull_secrets.push(LocalObjectReference {
            name: extra.clone(),
        });
    }

    let volumes = volumes(spec)?;
    let pod = PodSpec {
        containers: vec![container],
        restart_policy: Some(need(&spec.restart_policy, || sp().attr("restart_policy"))?.clone()),
        service_account_name: Some(name.clone()),
        image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..PodSpec::default()
    };

    let number = |field: &Field<Number>, attr: &'static str| -> Result<Option<i32>> {
        opt(field, || sp().attr(attr))?
            .map(|n| int32(n, || sp().attr(attr)))
            .transpose()
    };
    // Planton's modules leave these out when they are 0 (zero means unset),
    // so Kubernetes' own defaults apply; `backoff_limit` of 0 is kept.
    let unless_zero = |field: &Field<Number>, attr: &'static str| -> Result<Option<i32>> {
        Ok(number(field, attr)?.filter(|n| *n != 0))
    };
    let active_deadline_seconds = opt(&spec.active_deadline_seconds, || {
        sp().attr("active_deadline_seconds")
    })?
    .map(|n| {
        n.as_i64().ok_or_else(|| RenderError {
            path: sp().attr("active_deadline_seconds"),
            problem: "not a 64-bit whole number",
        })
    })
    .transpose()?
    .filter(|n| *n != 0);
    let job_object = Job {
        metadata: object_meta(&name, true),
        spec: Some(K8sJobSpec {
            parallelism: unless_zero(&spec.parallelism, "parallelism")?,
            completions: unless_zero(&spec.completions, "completions")?,
            backoff_limit: number(&spec.backoff_limit, "backoff_limit")?,
            active_deadline_seconds,
            ttl_seconds_after_finished: unless_zero(
                &spec.ttl_seconds_after_finished,
                "ttl_seconds_after_finished",
            )?,
            completion_mode: opt(&spec.completion_mode, || sp().attr("completion_mode"))?.cloned(),
            suspend: opt(&spec.suspend, || sp().attr("suspend"))?.copied(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..K8sJobSpec::default()
        }),
        status: None,
    };

    Ok(Rendered {
        namespace: namespace_object,
        service_account,
        env_secret,
        pull_secret,
        config_maps,
        job: job_object,
        env_origins,
    })
}

fn container(spec: &JobSpec, name: &str) -> Result<(Container, Vec<EnvOrigin>)> {
    let image = need(&spec.image, || sp().attr("image"))?;
    let repo = need(&image.repo, || sp().attr("image").attr("repo"))?;
    let tag = opt(&image.tag, || sp().attr("image").attr("tag"))?
        .map(String::as_str)
        .unwrap_or("");

    let mut env = vec![
        EnvVar {
            name: INJECTED_ENV[0].to_string(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: None,
                    field_path: "status.podIP".to_string(),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: INJECTED_ENV[1].to_string(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: Some("v1".to_string()),
                    field_path: "metadata.name".to_string(),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
    ];
    let mut origins = vec![EnvOrigin::Injected, EnvOrigin::Injected];
    if let Some(e) = opt(&spec.env, || sp().attr("env"))? {
        let ep = || sp().attr("env");
        if let Some(vars) = opt(&e.variables, || ep().attr("variables"))? {
            for (key, var) in vars {
                let p = || ep().attr("variables").key(key.clone());
                let var = need(var, p)?;
                let value = need(&var.value, || p().attr("value"))?;
                env.push(EnvVar {
                    name: key.clone(),
                    value: Some(value.clone()),
                    ..EnvVar::default()
                });
                origins.push(EnvOrigin::Variable(key.clone()));
            }
        }
        if let Some(secrets) = opt(&e.secrets, || ep().attr("secrets"))? {
            for (key, secret) in secrets {
                let p = || ep().attr("secrets").key(key.clone());
                let secret = need(secret, p)?;
                let selector = match opt(&secret.secret_ref, || p().attr("secret_ref"))? {
                    Some(r) => SecretKeySelector {
                        name: need(&r.name, || p().attr("secret_ref").attr("name"))?.clone(),
                        key: need(&r.key, || p().attr("secret_ref").attr("key"))?.clone(),
                        optional: None,
                    },
                    None => {
                        need(&secret.value, || p().attr("value"))?;
                        SecretKeySelector {
                            name: env_secret_name(name),
                            key: key.clone(),
                            optional: None,
                        }
                    }
                };
                env.push(EnvVar {
                    name: key.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(selector),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                });
                origins.push(EnvOrigin::Secret(key.clone()));
            }
        }
    }

    let strings = |field: &crate::kubernetes_job::model::spec::FieldList<String>,
                   attr: &'static str|
     -> Result<Option<Vec<String>>> {
        let Some(items) = opt(field, || sp().attr(attr))? else {
            return Ok(None);
        };
        let items = items
            .iter()
            .enumerate()
            .map(|(i, s)| need(s, || sp().attr(attr).index(i)).cloned())
            .collect::<Result<Vec<_>>>()?;
        Ok((!items.is_empty()).then_some(items))
    };

    let resources = match opt(&spec.resources, || sp().attr("resources"))? {
        None => None,
        Some(r) => {
            let side = |f: &Field<CpuMemory>,
                        attr: &'static str|
             -> Result<Option<BTreeMap<String, Quantity>>> {
                let p = || sp().attr("resources").attr(attr);
                let Some(cm) = opt(f, p)? else {
                    return Ok(None);
                };
                let mut m = BTreeMap::new();
                if let Some(cpu) = opt(&cm.cpu, || p().attr("cpu"))?.filter(|s| !s.is_empty()) {
                    m.insert("cpu".to_string(), Quantity(cpu.clone()));
                }
                if let Some(mem) = opt(&cm.memory, || p().attr("memory"))?.filter(|s| !s.is_empty())
                {
                    m.insert("memory".to_string(), Quantity(mem.clone()));
                }
                Ok((!m.is_empty()).then_some(m))
            };
            let limits = side(&r.limits, "limits")?;
            let requests = side(&r.requests, "requests")?;
            (limits.is_some() || requests.is_some()).then_some(ResourceRequirements {
                limits,
                requests,
                ..ResourceRequirements::default()
            })
        }
    };

    let mut mounts = Vec::new();
    if let Some(items) = opt(&spec.volume_mounts, || sp().attr("volume_mounts"))? {
        for (i, m) in items.iter().enumerate() {
            let p = || sp().attr("volume_mounts").index(i);
            let m = need(m, p)?;
            mounts.push(K8sVolumeMount {
                name: need(&m.name, || p().attr("name"))?.clone(),
                mount_path: need(&m.mount_path, || p().attr("mount_path"))?.clone(),
                read_only: Some(
                    opt(&m.read_only, || p().attr("read_only"))?
                        .copied()
                        .unwrap_or(false),
                ),
                sub_path: opt(&m.sub_path, || p().attr("sub_path"))?
                    .filter(|s| !s.is_empty())
                    .cloned(),
                ..K8sVolumeMount::default()
            });
        }
    }

    let container = Container {
        name: CONTAINER_NAME.to_string(),
        image: Some(image_reference(repo, tag)),
        command: strings(&spec.command, "command")?,
        args: strings(&spec.args, "args")?,
        env: Some(env),
        resources,
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    };
    Ok((container, origins))
}

fn volumes(spec: &JobSpec) -> Result<Vec<Volume>> {
    let mut out = Vec::new();
    let Some(items) = opt(&spec.volume_mounts, || sp().attr("volume_mounts"))? else {
        return Ok(out);
    };
    for (i, m) in items.iter().enumerate() {
        let p = || sp().attr("volume_mounts").index(i);
        let m: &VolumeMount = need(m, p)?;
        let mut volume = Volume {
            name: need(&m.name, || p().attr("name"))?.clone(),
            ..Volume::default()
        };
        // Validation guarantees exactly one source; Planton's precedence
        // decides should that ever not hold.
        if let Some(cm) = opt(&m.config_map, || p().attr("config_map"))? {
            let (name, items, mode) = keyed(cm, &|| p().attr("config_map"))?;
            volume.config_map = Some(K8sConfigMapSource {
                name,
                items,
                default_mode: mode,
                ..K8sConfigMapSource::default()
            });
        } else if let Some(s) = opt(&m.secret, || p().attr("secret"))? {
            let (name, items, mode) = keyed(s, &|| p().attr("secret"))?;
            volume.secret = Some(K8sSecretSource {
                secret_name: Some(name),
                items,
                default_mode: mode,
                ..K8sSecretSource::default()
            });
        } else if let Some(h) = opt(&m.host_path, || p().attr("host_path"))? {
            volume.host_path = Some(HostPathVolumeSource {
                path: need(&h.path, || p().attr("host_path").attr("path"))?.clone(),
                type_: opt(&h.r#type, || p().attr("host_path").attr("type"))?
                    .filter(|t| !t.is_empty())
                    .cloned(),
            });
        } else if let Some(e) = opt(&m.empty_dir, || p().attr("empty_dir"))? {
            volume.empty_dir = Some(EmptyDirVolumeSource {
                medium: opt(&e.medium, || p().attr("empty_dir").attr("medium"))?
                    .filter(|t| !t.is_empty())
                    .cloned(),
                size_limit: opt(&e.size_limit, || p().attr("empty_dir").attr("size_limit"))?
                    .filter(|t| !t.is_empty())
                    .map(|s| Quantity(s.clone())),
                ..EmptyDirVolumeSource::default()
            });
        } else if let Some(c) = opt(&m.pvc, || p().attr("pvc"))? {
            volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: need(&c.claim_name, || p().attr("pvc").attr("claim_name"))?.clone(),
                read_only: Some(
                    opt(&c.read_only, || p().attr("pvc").attr("read_only"))?
                        .copied()
                        .unwrap_or(false),
                ),
            });
        }
        out.push(volume);
    }
    Ok(out)
}

type Keyed = (String, Option<Vec<KeyToPath>>, Option<i32>);

fn keyed(source: &ConfigMapVolumeSource, p: &dyn Fn() -> AttributePath) -> Result<Keyed> {
    let name = need(&source.name, || p().attr("name"))?.clone();
    let key = opt(&source.key, || p().attr("key"))?.filter(|k| !k.is_empty());
    let path = opt(&source.path, || p().attr("path"))?.filter(|k| !k.is_empty());
    let items = key.map(|k| {
        vec![KeyToPath {
            key: k.clone(),
            path: path.unwrap_or(k).clone(),
            ..KeyToPath::default()
        }]
    });
    // As in Planton, 0 leaves the volume's default mode (0644).
    let mode = opt(&source.default_mode, || p().attr("default_mode"))?
        .map(|n| int32(n, || p().attr("default_mode")))
        .transpose()?
        .filter(|m| *m != 0);
    Ok((name, items, mode))
}

/// The objects a (possibly partly unknown) planned job will manage, when
/// that can be known: the plan uses this to decide whether `objects`
/// changes. `None` when a value that decides it is unknown.
pub fn planned_refs(
    job: &KubernetesJob,
    docker_config_json: &Value,
    wo: &WriteOnly,
) -> Option<Vec<ObjectRef>> {
    if wo.env_unknown || wo.docker_unknown {
        return None;
    }
    let meta = job.metadata.known()?;
    let name = meta.name.known()?;
    let spec = job.spec.known()?;
    let namespace = spec.namespace.known()?.value.known()?;
    let mut refs = Vec::new();
    match &spec.create_namespace {
        Field::Known(true) => refs.push(ObjectRef::of::<Namespace>("", namespace)),
        Field::Known(false) | Field::Null => {}
        Field::Unknown => return None,
    }
    refs.push(ObjectRef::of::<ServiceAccount>(namespace, name));
    let has_literal = match &spec.env {
        Field::Null => false,
        Field::Unknown => return None,
        Field::Known(env) => match &env.secrets {
            Field::Null => false,
            Field::Unknown => return None,
            Field::Known(secrets) => {
                let mut any = false;
                for s in secrets.values() {
                    match s {
                        Field::Known(s) => any |= s.value.is_set(),
                        Field::Null => {}
                        Field::Unknown => return None,
                    }
                }
                any
            }
        },
    };
    if has_literal || !wo.env.is_empty() {
        refs.push(ObjectRef::of::<Secret>(namespace, &env_secret_name(name)));
    }
    let has_pull_secret = match docker_config_json {
        Value::Unknown(_) => return None,
        v => v.as_str().is_some_and(|s| !s.is_empty()),
    };
    if has_pull_secret || wo.docker_config_json.is_some() {
        refs.push(ObjectRef::of::<Secret>(namespace, &pull_secret_name(name)));
    }
    match &spec.config_maps {
        Field::Null => {}
        Field::Unknown => return None,
        Field::Known(m) => {
            for key in m.keys() {
                refs.push(ObjectRef::of::<ConfigMap>(namespace, key));
            }
        }
    }
    refs.push(ObjectRef::of::<Job>(namespace, name));
    Some(refs)
}

#[cfg(test)]
mod tests;
