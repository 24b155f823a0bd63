//! The typed model of a `planton_kubernetes_job` configuration, named after
//! Project Planton's messages (`KubernetesJobSpec` becomes [`JobSpec`], its
//! env message [`EnvSpec`], ...), with snake_case fields that match the
//! schema's attribute names.
//!
//! [`KubernetesJob::from_value`] only checks shape: every field keeps what
//! Terraform sent, so that validation can report bad input on its exact
//! path. A field is a [`Field`]: null, unknown (during plan) or known.
//! Once validation has passed and every value is known, rendering can read
//! the model with [`Field::known`] and the parsers here ([`RestartPolicy`],
//! [`CompletionMode`], ...) without failing.

use std::collections::BTreeMap;

use crate::tf::{AttributePath, Number, Value};

/// A configuration value as Terraform knows it at this point.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Not set.
    #[default]
    Null,
    /// Set, but known only after apply.
    Unknown,
    /// Set and known.
    Known(T),
}

impl<T> Field<T> {
    /// The value when it is known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the field is not set.
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// Whether the field is set but not yet known.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    /// Whether the field is set (known or not).
    pub fn is_set(&self) -> bool {
        !self.is_null()
    }
}

impl Field<String> {
    /// Protobuf reading of a string: null is the empty string; `None` while
    /// unknown.
    pub fn text(&self) -> Option<&str> {
        match self {
            Field::Null => Some(""),
            Field::Unknown => None,
            Field::Known(s) => Some(s),
        }
    }

    /// The string when it is known and not empty.
    pub fn non_empty(&self) -> Option<&str> {
        self.known().map(String::as_str).filter(|s| !s.is_empty())
    }
}

/// A list whose elements may each be null or unknown.
pub type FieldList<T> = Field<Vec<Field<T>>>;
/// A map whose values may each be null or unknown.
pub type FieldMap<T> = Field<BTreeMap<String, Field<T>>>;

/// A value whose shape does not match the schema. Terraform checks shapes
/// before calling the provider, so this means a bug on our side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the value at {path} is not {expected}")]
pub struct ShapeError {
    /// Where the value is.
    pub path: AttributePath,
    /// What the schema says it should be.
    pub expected: &'static str,
}

type Result<T> = std::result::Result<T, ShapeError>;

/// The whole resource configuration (or planned state).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KubernetesJob {
    /// `id`: `<namespace>/<name>` once created.
    pub id: Field<String>,
    /// `metadata`.
    pub metadata: Field<CloudResourceMetadata>,
    /// `spec`.
    pub spec: Field<JobSpec>,
}

/// `metadata`: Planton's `CloudResourceMetadata`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudResourceMetadata {
    /// The Job's name.
    pub name: Field<String>,
    /// Planton slug.
    pub slug: Field<String>,
    /// Planton resource id (label `planton.ai/id`).
    pub id: Field<String>,
    /// Organization (label `planton.ai/organization`).
    pub org: Field<String>,
    /// Environment (label `planton.ai/environment`).
    pub env: Field<String>,
    /// Planton labels.
    pub labels: FieldMap<String>,
    /// Planton annotations.
    pub annotations: FieldMap<String>,
    /// Planton tags.
    pub tags: FieldList<String>,
    /// DAG grouping path.
    pub group: Field<String>,
    /// Relationships to other Planton resources.
    pub relationships: FieldList<CloudResourceRelationship>,
}

/// `metadata.relationships[*]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudResourceRelationship {
    /// CloudResourceKind name.
    pub kind: Field<String>,
    /// Environment of the related resource.
    pub env: Field<String>,
    /// Name of the related resource.
    pub name: Field<String>,
    /// Relationship type name ([`RelationshipType`]).
    pub r#type: Field<String>,
}

/// `spec`: Planton's `KubernetesJobSpec`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobSpec {
    /// Which Planton cluster the Job targets.
    pub target_cluster: Field<KubernetesClusterSelector>,
    /// The namespace, by value or (Planton only) by reference.
    pub namespace: Field<StringValueOrRef>,
    /// Whether to create the namespace.
    pub create_namespace: Field<bool>,
    /// The container image.
    pub image: Field<ContainerImage>,
    /// CPU and memory limits and requests.
    pub resources: Field<ContainerResources>,
    /// Environment variables and secrets.
    pub env: Field<EnvSpec>,
    /// Job `parallelism`.
    pub parallelism: Field<Number>,
    /// Job `completions`.
    pub completions: Field<Number>,
    /// Job `backoffLimit`.
    pub backoff_limit: Field<Number>,
    /// Job `activeDeadlineSeconds`.
    pub active_deadline_seconds: Field<Number>,
    /// Job `ttlSecondsAfterFinished`.
    pub ttl_seconds_after_finished: Field<Number>,
    /// Job `completionMode` ([`CompletionMode`]).
    pub completion_mode: Field<String>,
    /// Pod `restartPolicy` ([`RestartPolicy`]).
    pub restart_policy: Field<String>,
    /// Container `command`.
    pub command: FieldList<String>,
    /// Container `args`.
    pub args: FieldList<String>,
    /// ConfigMaps to create: name to content.
    pub config_maps: FieldMap<String>,
    /// Volumes and where to mount them.
    pub volume_mounts: FieldList<VolumeMount>,
    /// Job `suspend`.
    pub suspend: Field<bool>,
}

/// `spec.target_cluster`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KubernetesClusterSelector {
    /// Cluster kind name ([`ClusterKind`]).
    pub cluster_kind: Field<String>,
    /// Cluster slug.
    pub cluster_name: Field<String>,
}

/// A literal string or a reference to another Planton resource's field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringValueOrRef {
    /// The literal value.
    pub value: Field<String>,
    /// A reference that Planton's orchestrator would resolve.
    pub value_from: Field<ValueFromRef>,
}

/// Planton's `ValueFromRef`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueFromRef {
    /// CloudResourceKind name of the referenced resource.
    pub kind: Field<String>,
    /// Its environment.
    pub env: Field<String>,
    /// Its name.
    pub name: Field<String>,
    /// The field to read, e.g. `status.outputs.host`.
    pub field_path: Field<String>,
}

/// `spec.image`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerImage {
    /// Repository, e.g. `ghcr.io/acme/migrate`.
    pub repo: Field<String>,
    /// Tag.
    pub tag: Field<String>,
    /// Existing image pull Secret.
    pub pull_secret_name: Field<String>,
}

/// `spec.resources`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerResources {
    /// Limits.
    pub limits: Field<CpuMemory>,
    /// Requests.
    pub requests: Field<CpuMemory>,
}

/// CPU and memory quantities.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CpuMemory {
    /// CPU quantity.
    pub cpu: Field<String>,
    /// Memory quantity.
    pub memory: Field<String>,
}

/// `spec.env`: Planton's `KubernetesJobContainerAppEnv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnvSpec {
    /// Plain variables by name.
    pub variables: FieldMap<StringValueOrRef>,
    /// Secret variables by name.
    pub secrets: FieldMap<KubernetesSensitiveValue>,
}

/// A secret value or a reference to an existing Secret key.
#[derive(Clone, PartialEq, Default)]
pub struct KubernetesSensitiveValue {
    /// The literal (sensitive) value.
    pub value: Field<String>,
    /// An existing Secret key.
    pub secret_ref: Field<KubernetesSecretKeyRef>,
}

impl std::fmt::Debug for KubernetesSensitiveValue {
    // The value is a secret: whether it is set, never what it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match &self.value {
            Field::Null => "null",
            Field::Unknown => "unknown",
            Field::Known(_) => "<redacted>",
        };
        f.debug_struct("KubernetesSensitiveValue")
            .field("value", &value)
            .field("secret_ref", &self.secret_ref)
            .finish()
    }
}

/// A key of an existing Secret.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KubernetesSecretKeyRef {
    /// The Secret's namespace (must be the Job's).
    pub namespace: Field<String>,
    /// The Secret's name.
    pub name: Field<String>,
    /// The key inside the Secret.
    pub key: Field<String>,
}

/// `spec.volume_mounts[*]`: a pod volume and its mount in the container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeMount {
    /// Volume name (also the mount's).
    pub name: Field<String>,
    /// Absolute path in the container.
    pub mount_path: Field<String>,
    /// Mount read-only.
    pub read_only: Field<bool>,
    /// Sub-path of the volume to mount.
    pub sub_path: Field<String>,
    /// ConfigMap source.
    pub config_map: Field<ConfigMapVolumeSource>,
    /// Secret source.
    pub secret: Field<SecretVolumeSource>,
    /// Host path source.
    pub host_path: Field<HostPathVolumeSource>,
    /// emptyDir source.
    pub empty_dir: Field<EmptyDirVolumeSource>,
    /// PersistentVolumeClaim source.
    pub pvc: Field<PvcVolumeSource>,
}

/// The five volume sources, in Planton's precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeSourceKind {
    /// `config_map`
    ConfigMap,
    /// `secret`
    Secret,
    /// `host_path`
    HostPath,
    /// `empty_dir`
    EmptyDir,
    /// `pvc`
    Pvc,
}

impl VolumeSourceKind {
    /// The attribute name.
    pub fn attribute(self) -> &'static str {
        match self {
            VolumeSourceKind::ConfigMap => "config_map",
            VolumeSourceKind::Secret => "secret",
            VolumeSourceKind::HostPath => "host_path",
            VolumeSourceKind::EmptyDir => "empty_dir",
            VolumeSourceKind::Pvc => "pvc",
        }
    }
}

impl VolumeMount {
    /// Each source with whether it is null, unknown or known.
    pub fn sources(&self) -> [(VolumeSourceKind, SourcePresence); 5] {
        fn presence<T>(f: &Field<T>) -> SourcePresence {
            match f {
                Field::Null => SourcePresence::Absent,
                Field::Unknown => SourcePresence::Unknown,
                Field::Known(_) => SourcePresence::Present,
            }
        }
        [
            (VolumeSourceKind::ConfigMap, presence(&self.config_map)),
            (VolumeSourceKind::Secret, presence(&self.secret)),
            (VolumeSourceKind::HostPath, presence(&self.host_path)),
            (VolumeSourceKind::EmptyDir, presence(&self.empty_dir)),
            (VolumeSourceKind::Pvc, presence(&self.pvc)),
        ]
    }
}

/// Whether a volume source is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePresence {
    /// Null.
    Absent,
    /// Not known yet.
    Unknown,
    /// Set.
    Present,
}

/// A ConfigMap (or Secret) projected into a volume, whole or one key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigMapVolumeSource {
    /// The ConfigMap's (or Secret's) name.
    pub name: Field<String>,
    /// Mount only this key.
    pub key: Field<String>,
    /// File name for `key` (defaults to the key).
    pub path: Field<String>,
    /// File mode bits (0..=0o777).
    pub default_mode: Field<Number>,
}

/// Planton's `SecretVolumeSource` has the same shape as its ConfigMap one.
pub type SecretVolumeSource = ConfigMapVolumeSource;

/// A path on the node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostPathVolumeSource {
    /// Path on the node.
    pub path: Field<String>,
    /// hostPath type ([`HostPathType`]).
    pub r#type: Field<String>,
}

/// A scratch directory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmptyDirVolumeSource {
    /// `""` or `Memory` ([`StorageMedium`]).
    pub medium: Field<String>,
    /// Size limit quantity.
    pub size_limit: Field<String>,
}

/// An existing PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PvcVolumeSource {
    /// The claim's name.
    pub claim_name: Field<String>,
    /// Mount read-only.
    pub read_only: Field<bool>,
}

/// Declares a closed set of names that must match exactly.
macro_rules! name_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident = $name:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $ty {
            $($(#[$vdoc])* $variant),+
        }

        impl $ty {
            /// Every accepted name, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The value with exactly this name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }

            /// The name as written in configuration.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }
    };
}

name_enum! {
    /// Pod `restartPolicy` values a Job accepts (Planton and Kubernetes both
    /// refuse `Always`).
    RestartPolicy {
        /// Restart the container in the same pod.
        OnFailure = "OnFailure",
        /// A failed pod is replaced by a new pod.
        Never = "Never",
    }
}

name_enum! {
    /// Job `completionMode`.
    CompletionMode {
        /// Pods are interchangeable.
        NonIndexed = "NonIndexed",
        /// Each pod gets a completion index.
        Indexed = "Indexed",
    }
}

name_enum! {
    /// The cluster kinds `target_cluster.cluster_kind` accepts.
    ClusterKind {
        /// Azure AKS.
        AzureAksCluster = "AzureAksCluster",
        /// AWS EKS.
        AwsEksCluster = "AwsEksCluster",
        /// Google GKE.
        GcpGkeCluster = "GcpGkeCluster",
        /// DigitalOcean Kubernetes.
        DigitalOceanKubernetesCluster = "DigitalOceanKubernetesCluster",
        /// Civo Kubernetes.
        CivoKubernetesCluster = "CivoKubernetesCluster",
    }
}

name_enum! {
    /// Planton relationship types.
    RelationshipType {
        /// Must exist first.
        DependsOn = "depends_on",
        /// Runs on the related resource.
        RunsOn = "runs_on",
        /// Managed by the related resource.
        ManagedBy = "managed_by",
        /// Uses the related resource.
        Uses = "uses",
    }
}

name_enum! {
    /// hostPath `type` values (the empty string means "no check").
    HostPathType {
        /// No check before mounting.
        Unchecked = "",
        /// Create an empty directory if missing.
        DirectoryOrCreate = "DirectoryOrCreate",
        /// A directory must exist.
        Directory = "Directory",
        /// Create an empty file if missing.
        FileOrCreate = "FileOrCreate",
        /// A file must exist.
        File = "File",
        /// A Unix socket must exist.
        Socket = "Socket",
        /// A character device must exist.
        CharDevice = "CharDevice",
        /// A block device must exist.
        BlockDevice = "BlockDevice",
    }
}

name_enum! {
    /// emptyDir `medium` values.
    StorageMedium {
        /// The node's default storage.
        Default = "",
        /// tmpfs (RAM).
        Memory = "Memory",
    }
}

// ---------------------------------------------------------------------------
// Conversion from tf::Value. Only shape is checked here.

impl KubernetesJob {
    /// Reads a configuration, plan or state of `planton_kubernetes_job`.
    pub fn from_value(value: &Value) -> Result<KubernetesJob> {
        let root = AttributePath::empty();
        object(value, &root, |v, p| {
            Ok(KubernetesJob {
                id: string(v, p, "id")?,
                metadata: object(v.get("metadata"), &p.attr("metadata"), metadata)?,
                spec: object(v.get("spec"), &p.attr("spec"), JobSpec::read)?,
            })
        })
        .map(|job| match job {
            Field::Known(job) => job,
            // A null or unknown root has nothing in it to check.
            Field::Null | Field::Unknown => KubernetesJob::default(),
        })
    }
}

impl JobSpec {
    /// Reads the `spec` object (`path` is where it sits, for errors).
    pub fn from_value(value: &Value, path: &AttributePath) -> Result<Field<JobSpec>> {
        object(value, path, JobSpec::read)
    }

    fn read(v: &Value, p: &AttributePath) -> Result<JobSpec> {
        Ok(JobSpec {
            target_cluster: object(
                v.get("target_cluster"),
                &p.attr("target_cluster"),
                |v, p| {
                    Ok(KubernetesClusterSelector {
                        cluster_kind: string(v, p, "cluster_kind")?,
                        cluster_name: string(v, p, "cluster_name")?,
                    })
                },
            )?,
            namespace: object(v.get("namespace"), &p.attr("namespace"), value_or_ref)?,
            create_namespace: boolean(v, p, "create_namespace")?,
            image: object(v.get("image"), &p.attr("image"), |v, p| {
                Ok(ContainerImage {
                    repo: string(v, p, "repo")?,
                    tag: string(v, p, "tag")?,
                    pull_secret_name: string(v, p, "pull_secret_name")?,
                })
            })?,
            resources: object(v.get("resources"), &p.attr("resources"), |v, p| {
                Ok(ContainerResources {
                    limits: object(v.get("limits"), &p.attr("limits"), cpu_memory)?,
                    requests: object(v.get("requests"), &p.attr("requests"), cpu_memory)?,
                })
            })?,
            env: object(v.get("env"), &p.attr("env"), |v, p| {
                Ok(EnvSpec {
                    variables: map(v.get("variables"), &p.attr("variables"), |v, p| {
                        object(v, p, value_or_ref)
                    })?,
                    secrets: map(v.get("secrets"), &p.attr("secrets"), |v, p| {
                        object(v, p, sensitive_value)
                    })?,
                })
            })?,
            parallelism: number(v, p, "parallelism")?,
            completions: number(v, p, "completions")?,
            backoff_limit: number(v, p, "backoff_limit")?,
            active_deadline_seconds: number(v, p, "active_deadline_seconds")?,
            ttl_seconds_after_finished: number(v, p, "ttl_seconds_after_finished")?,
            completion_mode: string(v, p, "completion_mode")?,
            restart_policy: string(v, p, "restart_policy")?,
            command: list(v.get("command"), &p.attr("command"), scalar_string)?,
            args: list(v.get("args"), &p.attr("args"), scalar_string)?,
            config_maps: map(v.get("config_maps"), &p.attr("config_maps"), scalar_string)?,
            volume_mounts: list(v.get("volume_mounts"), &p.attr("volume_mounts"), |v, p| {
                object(v, p, volume_mount)
            })?,
            suspend: boolean(v, p, "suspend")?,
        })
    }
}

fn metadata(v: &Value, p: &AttributePath) -> Result<CloudResourceMetadata> {
    Ok(CloudResourceMetadata {
        name: string(v, p, "name")?,
        slug: string(v, p, "slug")?,
        id: string(v, p, "id")?,
        org: string(v, p, "org")?,
        env: string(v, p, "env")?,
        labels: map(v.get("labels"), &p.attr("labels"), scalar_string)?,
        annotations: map(v.get("annotations"), &p.attr("annotations"), scalar_string)?,
        tags: list(v.get("tags"), &p.attr("tags"), scalar_string)?,
        group: string(v, p, "group")?,
        relationships: list(v.get("relationships"), &p.attr("relationships"), |v, p| {
            object(v, p, |v, p| {
                Ok(CloudResourceRelationship {
                    kind: string(v, p, "kind")?,
                    env: string(v, p, "env")?,
                    name: string(v, p, "name")?,
                    r#type: string(v, p, "type")?,
                })
            })
        })?,
    })
}

fn value_or_ref(v: &Value, p: &AttributePath) -> Result<StringValueOrRef> {
    Ok(StringValueOrRef {
        value: string(v, p, "value")?,
        value_from: object(v.get("value_from"), &p.attr("value_from"), |v, p| {
            Ok(ValueFromRef {
                kind: string(v, p, "kind")?,
                env: string(v, p, "env")?,
                name: string(v, p, "name")?,
                field_path: string(v, p, "field_path")?,
            })
        })?,
    })
}

fn sensitive_value(v: &Value, p: &AttributePath) -> Result<KubernetesSensitiveValue> {
    Ok(KubernetesSensitiveValue {
        value: string(v, p, "value")?,
        secret_ref: object(v.get("secret_ref"), &p.attr("secret_ref"), |v, p| {
            Ok(KubernetesSecretKeyRef {
                namespace: string(v, p, "namespace")?,
                name: string(v, p, "name")?,
                key: string(v, p, "key")?,
            })
        })?,
    })
}

fn cpu_memory(v: &Value, p: &AttributePath) -> Result<CpuMemory> {
    Ok(CpuMemory {
        cpu: string(v, p, "cpu")?,
        memory: string(v, p, "memory")?,
    })
}

fn volume_mount(v: &Value, p: &AttributePath) -> Result<VolumeMount> {
    Ok(VolumeMount {
        name: string(v, p, "name")?,
        mount_path: string(v, p, "mount_path")?,
        read_only: boolean(v, p, "read_only")?,
        sub_path: string(v, p, "sub_path")?,
        config_map: object(v.get("config_map"), &p.attr("config_map"), keyed_source)?,
        secret: object(v.get("secret"), &p.attr("secret"), keyed_source)?,
        host_path: object(v.get("host_path"), &p.attr("host_path"), |v, p| {
            Ok(HostPathVolumeSource {
                path: string(v, p, "path")?,
                r#type: string(v, p, "type")?,
            })
        })?,
        empty_dir: object(v.get("empty_dir"), &p.attr("empty_dir"), |v, p| {
            Ok(EmptyDirVolumeSource {
                medium: string(v, p, "medium")?,
                size_limit: string(v, p, "size_limit")?,
            })
        })?,
        pvc: object(v.get("pvc"), &p.attr("pvc"), |v, p| {
            Ok(PvcVolumeSource {
                claim_name: string(v, p, "claim_name")?,
                read_only: boolean(v, p, "read_only")?,
            })
        })?,
    })
}

fn keyed_source(v: &Value, p: &AttributePath) -> Result<ConfigMapVolumeSource> {
    Ok(ConfigMapVolumeSource {
        name: string(v, p, "name")?,
        key: string(v, p, "key")?,
        path: string(v, p, "path")?,
        default_mode: number(v, p, "default_mode")?,
    })
}

/// Null and unknown map to their [`Field`]; anything else goes to `known`.
fn field<T>(
    value: &Value,
    path: &AttributePath,
    known: impl FnOnce(&Value, &AttributePath) -> Result<T>,
) -> Result<Field<T>> {
    match value {
        Value::Null => Ok(Field::Null),
        Value::Unknown(_) => Ok(Field::Unknown),
        Value::Dynamic(_, inner) => field(inner, path, known),
        v => known(v, path).map(Field::Known),
    }
}

fn mismatch<T>(path: &AttributePath, expected: &'static str) -> Result<T> {
    Err(ShapeError {
        path: path.clone(),
        expected,
    })
}

fn object<T>(
    value: &Value,
    path: &AttributePath,
    read: impl FnOnce(&Value, &AttributePath) -> Result<T>,
) -> Result<Field<T>> {
    field(value, path, |v, p| match v {
        Value::Object(_) => read(v, p),
        _ => mismatch(p, "an object"),
    })
}

fn list<T>(
    value: &Value,
    path: &AttributePath,
    elem: impl Fn(&Value, &AttributePath) -> Result<Field<T>>,
) -> Result<FieldList<T>> {
    field(value, path, |v, p| match v.as_elements() {
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| elem(item, &p.index(i)))
            .collect(),
        None => mismatch(p, "a list"),
    })
}

fn map<T>(
    value: &Value,
    path: &AttributePath,
    elem: impl Fn(&Value, &AttributePath) -> Result<Field<T>>,
) -> Result<FieldMap<T>> {
    field(value, path, |v, p| match v {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, item)| Ok((k.clone(), elem(item, &p.key(k.clone()))?)))
            .collect(),
        _ => mismatch(p, "a map"),
    })
}

fn scalar_string(value: &Value, path: &AttributePath) -> Result<Field<String>> {
    field(value, path, |v, p| match v.as_str() {
        Some(s) => Ok(s.to_string()),
        None => mismatch(p, "a string"),
    })
}

fn string(object: &Value, path: &AttributePath, name: &str) -> Result<Field<String>> {
    scalar_string(object.get(name), &path.attr(name))
}

fn number(object: &Value, path: &AttributePath, name: &str) -> Result<Field<Number>> {
    field(object.get(name), &path.attr(name), |v, p| {
        match v.as_number() {
            Some(n) => Ok(n.clone()),
            None => mismatch(p, "a number"),
        }
    })
}

fn boolean(object: &Value, path: &AttributePath, name: &str) -> Result<Field<bool>> {
    field(object.get(name), &path.attr(name), |v, p| {
        match v.as_bool() {
            Some(b) => Ok(b),
            None => mismatch(p, "a bool"),
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Null, unknown and known values land in the matching `Field`, and map
    /// keys and list indices survive.
    #[test]
    fn reads_fields_with_unknowns() {
        let config = Value::object([
            (
                "metadata",
                Value::object([("name", Value::string("nightly"))]),
            ),
            (
                "spec",
                Value::object([
                    ("image", Value::UNKNOWN),
                    ("parallelism", Value::int(3)),
                    (
                        "env",
                        Value::object([(
                            "variables",
                            Value::Map(
                                [("A".to_string(), Value::object([("value", Value::UNKNOWN)]))]
                                    .into(),
                            ),
                        )]),
                    ),
                    (
                        "command",
                        Value::List(vec![Value::string("sh"), Value::Null]),
                    ),
                ]),
            ),
        ]);
        let job = KubernetesJob::from_value(&config).unwrap();
        let meta = job.metadata.known().unwrap();
        assert_eq!(meta.name, Field::Known("nightly".to_string()));
        assert_eq!(meta.slug, Field::Null);
        let spec = job.spec.known().unwrap();
        assert!(spec.image.is_unknown());
        assert_eq!(spec.parallelism.known().and_then(Number::as_i64), Some(3));
        let vars = spec.env.known().unwrap().variables.known().unwrap();
        assert!(vars["A"].known().unwrap().value.is_unknown());
        assert_eq!(
            spec.command,
            Field::Known(vec![Field::Known("sh".to_string()), Field::Null])
        );
    }

    /// A value of the wrong type is reported with its path, not a panic.
    #[test]
    fn shape_errors_carry_the_path() {
        let config = Value::object([(
            "spec",
            Value::object([("image", Value::object([("repo", Value::int(1))]))]),
        )]);
        let err = KubernetesJob::from_value(&config).unwrap_err();
        assert_eq!(err.path.to_string(), "spec.image.repo");
        assert_eq!(err.expected, "a string");
    }

    /// Names match exactly; nothing is case-folded.
    #[test]
    fn names_are_exact() {
        assert_eq!(
            RestartPolicy::from_name("Never"),
            Some(RestartPolicy::Never)
        );
        assert_eq!(RestartPolicy::from_name("never"), None);
        assert_eq!(RestartPolicy::from_name("Always"), None);
        assert_eq!(HostPathType::from_name(""), Some(HostPathType::Unchecked));
        assert_eq!(ClusterKind::NAMES.len(), 5);
        assert_eq!(RelationshipType::DependsOn.name(), "depends_on");
    }
}
