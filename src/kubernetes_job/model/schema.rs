//! The schema of `planton_kubernetes_job`: Project Planton's KubernetesJob
//! manifest as nested attributes, with the Markdown descriptions the docs are
//! generated from.
//!
//! The shape is agreed in the project's schema plan and checked by an
//! expected-tree test; change both together.

use crate::kubernetes_job::model::attr;
use crate::tf::{Attribute, Block, Nesting, Schema, Type, Value};

/// Planton's default container resources, planned when `spec.resources` is
/// not configured.
pub const DEFAULT_LIMIT_CPU: &str = "1000m";
/// See [`DEFAULT_LIMIT_CPU`].
pub const DEFAULT_LIMIT_MEMORY: &str = "1Gi";
/// See [`DEFAULT_LIMIT_CPU`].
pub const DEFAULT_REQUEST_CPU: &str = "50m";
/// See [`DEFAULT_LIMIT_CPU`].
pub const DEFAULT_REQUEST_MEMORY: &str = "100Mi";

/// Planton's default for `spec.parallelism`.
pub const DEFAULT_PARALLELISM: i64 = 1;
/// Planton's default for `spec.completions`.
pub const DEFAULT_COMPLETIONS: i64 = 1;
/// Planton's default for `spec.backoff_limit`.
pub const DEFAULT_BACKOFF_LIMIT: i64 = 6;
/// Planton's default for `spec.completion_mode`.
pub const DEFAULT_COMPLETION_MODE: &str = "NonIndexed";
/// Planton's default for `spec.restart_policy`.
pub const DEFAULT_RESTART_POLICY: &str = "Never";

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new(Block::new(
        [
            vec![
                Attribute::computed(attr::ID, Type::String, ID).use_state_for_unknown(),
                metadata(),
                spec(),
            ],
            crate::kubernetes_job::model::options::attributes(),
            crate::kubernetes_job::model::write_only::attributes(),
            crate::kubernetes_job::model::state::attributes(),
        ]
        .concat(),
        RESOURCE,
    ))
}

const RESOURCE: &str = "Runs a batch workload as a Kubernetes Job, described the way Project Planton's \
`KubernetesJob` manifest describes it: `metadata` and `spec` have the manifest's fields, in snake_case, with \
Planton's defaults, and the same spec renders the same Job as Planton's Pulumi module, except where the guide \
\"Coming from Project Planton\" lists a deliberate difference (for example, `value_from` references are not \
resolved, and a ServiceAccount is created). The provider functions `kubernetes_job_from_manifest` and \
`kubernetes_job_manifest` turn a Planton manifest into `metadata` and `spec` and back.

One resource manages the Job and what it needs: the namespace (when `spec.create_namespace` is true), a Secret \
`<name>-env-secrets` holding the literal values of `spec.env.secrets`, one ConfigMap per `spec.config_maps` entry, \
a ServiceAccount named after the Job, and an image pull Secret when `docker_config_json` is set. The pod runs a \
single container named `job-container`. Objects are created in dependency order (a create never overwrites an \
existing object), then kept up to date with server-side apply (field manager `planton`) by their recorded UIDs, \
and listed in `objects`. Each resource instance labels its objects with an identity of its own \
(`planton.ai/instance`): an object another resource or tool made, even with the same name and labels, is never \
taken over or deleted, and the apply fails saying whose it is (guide \"Which objects belong to a job\").

Configuration problems that Planton's validation rules or Kubernetes would reject are reported by \
`terraform validate` and `terraform plan`, on the attribute they concern. Each attribute's description says \
whether changing it updates the objects in place or replaces the Job (which runs it again); `terraform apply` \
waits for the Job to finish unless `wait_for_completion = false`.";

const ID: &str = "The Job's identifier, `<namespace>/<name>`, known once the Job has been created.";

fn metadata() -> Attribute {
    Attribute::nested(
        attr::METADATA,
        Nesting::Single,
        vec![
            Attribute::required("name", Type::String, META_NAME).requires_replace(),
            Attribute::optional("slug", Type::String, META_SLUG),
            Attribute::optional("id", Type::String, META_ID),
            Attribute::optional("org", Type::String, META_ORG),
            Attribute::optional("env", Type::String, META_ENV),
            Attribute::optional("labels", Type::map(Type::String), META_LABELS),
            Attribute::optional("annotations", Type::map(Type::String), META_ANNOTATIONS),
            Attribute::optional("tags", Type::list(Type::String), META_TAGS),
            Attribute::optional("group", Type::String, META_GROUP),
            Attribute::nested(
                "relationships",
                Nesting::List,
                vec![
                    Attribute::required("kind", Type::String, REL_KIND),
                    Attribute::optional("env", Type::String, REL_ENV),
                    Attribute::required("name", Type::String, REL_NAME),
                    Attribute::required("type", Type::String, REL_TYPE),
                ],
                META_RELATIONSHIPS,
            )
            .set_optional(),
        ],
        METADATA,
    )
    .set_required()
}

const METADATA: &str = "Planton resource metadata (`CloudResourceMetadata`). `name` names the Job and the \
objects created with it; `id`, `org` and `env` become `planton.ai/*` labels.";

const META_NAME: &str = "Name of the Job. It also names the ServiceAccount, prefixes the env Secret \
(`<name>-env-secrets`) and is the value of the `planton.ai/name` label and of the `job-name` label Kubernetes puts \
on every pod, so it must be a DNS-1123 label: at most 63 characters, lowercase letters, digits and `-`, starting \
and ending with a letter or digit. Changing it replaces the Job.";

const META_SLUG: &str = "Planton slug of the resource. Recorded in Planton's model; not applied to any \
Kubernetes object. Changing it updates the state only.";

const META_ID: &str = "Planton resource ID (for example `k8sjob-01h...`). When set, every object gets the label \
`planton.ai/id` with this value. It is also a pod label, so changing it replaces the Job (in place while the Job is suspended and has never started).";

const META_ORG: &str = "Planton organization. When set, every object gets the label `planton.ai/organization`. It is also a pod label, so changing it replaces the Job (in place while the Job is suspended and has never started).";

const META_ENV: &str = "Planton environment (for example `production`). When set, every object gets the label \
`planton.ai/environment`. It is also a pod label, so changing it replaces the Job (in place while the Job is suspended and has never started).";

const META_LABELS: &str = "Planton labels of the resource. Like Planton's own modules, the provider does not copy \
them onto Kubernetes objects. Changing them updates the state only.";

const META_ANNOTATIONS: &str = "Planton annotations of the resource. Not copied onto Kubernetes objects. Changing them updates the state only.";

const META_TAGS: &str = "Planton tags of the resource. Not copied onto Kubernetes objects. Changing them updates the state only.";

const META_GROUP: &str = "Planton grouping path for the resource graph, such as `app/services`. Not applied to \
any Kubernetes object. Changing it updates the state only.";

const META_RELATIONSHIPS: &str = "Planton relationships to other resources (for example the namespace this Job \
runs in). Recorded for Planton's resource graph; Terraform orders resources by references instead, so these \
create no dependency here. Changing them updates the state only.";

const REL_KIND: &str = "Planton kind of the related resource: a name of Planton's `CloudResourceKind` enum, \
exact spelling (for example `KubernetesNamespace` or `KubernetesPostgres`). An unknown name is an error that \
lists the closest kind names.";

const REL_ENV: &str = "Environment of the related resource, when it differs from this one's.";

const REL_NAME: &str = "Name of the related resource. Must not be empty.";

const REL_TYPE: &str = "Kind of relationship: one of `depends_on`, `runs_on`, `managed_by` or `uses` (exact \
spelling).";

fn spec() -> Attribute {
    Attribute::nested(
        attr::SPEC,
        Nesting::Single,
        vec![
            Attribute::nested(
                "target_cluster",
                Nesting::Single,
                vec![
                    Attribute::optional("cluster_kind", Type::String, CLUSTER_KIND),
                    Attribute::optional("cluster_name", Type::String, CLUSTER_NAME),
                ],
                TARGET_CLUSTER,
            )
            .set_optional(),
            Attribute::nested(
                "namespace",
                Nesting::Single,
                vec![
                    Attribute::optional("value", Type::String, NAMESPACE_VALUE),
                    value_from(NAMESPACE_VALUE_FROM),
                ],
                NAMESPACE,
            )
            .set_required()
            .requires_replace(),
            Attribute::optional("create_namespace", Type::Bool, CREATE_NAMESPACE)
                .with_default(Value::Bool(false)),
            Attribute::nested(
                "image",
                Nesting::Single,
                vec![
                    Attribute::required("repo", Type::String, IMAGE_REPO),
                    Attribute::optional("tag", Type::String, IMAGE_TAG),
                    Attribute::optional("pull_secret_name", Type::String, IMAGE_PULL_SECRET),
                ],
                IMAGE,
            )
            .set_required(),
            Attribute::nested(
                "resources",
                Nesting::Single,
                vec![
                    cpu_memory("limits", LIMITS, LIMIT_CPU, LIMIT_MEMORY),
                    cpu_memory("requests", REQUESTS, REQUEST_CPU, REQUEST_MEMORY),
                ],
                RESOURCES,
            )
            .with_default(default_resources()),
            env(),
            Attribute::optional("parallelism", Type::Number, PARALLELISM)
                .with_default(Value::int(DEFAULT_PARALLELISM)),
            Attribute::optional("completions", Type::Number, COMPLETIONS)
                .with_default(Value::int(DEFAULT_COMPLETIONS)),
            Attribute::optional("backoff_limit", Type::Number, BACKOFF_LIMIT)
                .with_default(Value::int(DEFAULT_BACKOFF_LIMIT)),
            Attribute::optional("active_deadline_seconds", Type::Number, ACTIVE_DEADLINE),
            Attribute::optional("ttl_seconds_after_finished", Type::Number, TTL),
            Attribute::optional("completion_mode", Type::String, COMPLETION_MODE)
                .with_default(Value::string(DEFAULT_COMPLETION_MODE)),
            Attribute::optional("restart_policy", Type::String, RESTART_POLICY)
                .with_default(Value::string(DEFAULT_RESTART_POLICY)),
            Attribute::optional("command", Type::list(Type::String), COMMAND),
            Attribute::optional("args", Type::list(Type::String), ARGS),
            Attribute::optional("config_maps", Type::map(Type::String), CONFIG_MAPS),
            volume_mounts(),
            Attribute::optional("suspend", Type::Bool, SUSPEND).with_default(Value::Bool(false)),
        ],
        SPEC,
    )
    .set_required()
}

/// The value planned for `spec.resources` when it is not configured.
pub fn default_resources() -> Value {
    let pair = |cpu: &str, memory: &str| {
        Value::object([
            ("cpu", Value::string(cpu)),
            ("memory", Value::string(memory)),
        ])
    };
    Value::object([
        ("limits", pair(DEFAULT_LIMIT_CPU, DEFAULT_LIMIT_MEMORY)),
        (
            "requests",
            pair(DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY),
        ),
    ])
}

const SPEC: &str = "The Job specification (Planton's `KubernetesJobSpec`).";

const TARGET_CLUSTER: &str = "The cluster this Job is managed in: `cluster_name` names an entry of the provider's \
`clusters`. Without `target_cluster` (or without `cluster_name`), the provider-level connection settings are \
used. Changing it replaces the Job: it is deleted from the old cluster and created in the new one.";

const CLUSTER_KIND: &str = "Kind of the target cluster, by name: one of `AzureAksCluster`, `AwsEksCluster`, \
`GcpGkeCluster`, `DigitalOceanKubernetesCluster` or `CivoKubernetesCluster` (exact spelling). Optional: recorded \
as Planton records it, but Terraform does not need it (Planton itself requires it whenever `target_cluster` is \
set).";

const CLUSTER_NAME: &str = "The cluster to manage the Job in: a key of the provider's `clusters`, for example \
`prod-cluster`. A name the provider does not configure is an error when planning, which lists the configured \
names.";

const NAMESPACE: &str = "Namespace of the Job and of every object created with it. Set `value`. Changing the \
namespace replaces the Job.";

const NAMESPACE_VALUE: &str = "Namespace name: a DNS-1123 label (at most 63 characters, lowercase letters, \
digits and `-`, starting and ending with a letter or digit). Required. To use another resource's namespace, \
reference it here, for example `value = kubernetes_namespace_v1.jobs.metadata[0].name`.";

const NAMESPACE_VALUE_FROM: &str = "Planton reference to another resource's field (by default a \
`KubernetesNamespace`'s `spec.name`). Planton's orchestrator resolves such references; Terraform does not, so \
setting this is an error that explains how to pass the value with an HCL reference in `value` instead. Kept so \
that Planton manifests translate one to one.";

const CREATE_NAMESPACE: &str = "Whether to create the namespace (and delete it with the Job). When false (the \
default), the namespace must already exist. Several jobs may declare the same namespace: each claims it (label \
`claims.planton.ai/<instance>`), and it is deleted with the last of them, and never while objects that are not \
the job's live in it (it is then kept, with a warning). A namespace made by anything else is never taken over. \
Can change in place: turning it off withdraws this job's claim and stops managing the namespace (it is kept).";

const IMAGE: &str =
    "The container image. The container runs `<repo>:<tag>`. Changing any of it replaces the Job.";

const IMAGE_REPO: &str = "Image repository, for example `busybox` or `ghcr.io/acme/migrate`. Must not be empty \
or contain whitespace.";

const IMAGE_TAG: &str = "Image tag, for example `1.36` or `v2.0.0`: letters, digits, `_`, `.` and `-`, at most \
128 characters, not starting with `.` or `-`. Leave it out when `repo` already carries a tag or digest.";

const IMAGE_PULL_SECRET: &str = "Name of an existing `kubernetes.io/dockerconfigjson` Secret in the Job's \
namespace, used to pull a private image (becomes the pod's `imagePullSecrets`).";

const RESOURCES: &str = "CPU and memory for the container. Defaults to Planton's defaults, limits `1000m` CPU \
and `1Gi` memory, requests `50m` CPU and `100Mi` memory, when not set. When set, only what you write applies: a \
missing request defaults (in Kubernetes) to the limit. Each request must not exceed its limit. Changing them replaces the Job.";

const LIMITS: &str = "Maximum CPU and memory (the container's `resources.limits`).";

const REQUESTS: &str = "CPU and memory the scheduler reserves (the container's `resources.requests`). Each must \
not exceed the corresponding limit.";

const LIMIT_CPU: &str =
    "CPU limit as a Kubernetes quantity, for example `500m` (half a core) or `2`.";

const LIMIT_MEMORY: &str = "Memory limit as a Kubernetes quantity, for example `512Mi` or `2Gi`.";

const REQUEST_CPU: &str =
    "CPU request as a Kubernetes quantity, for example `100m`. At most the CPU limit.";

const REQUEST_MEMORY: &str = "Memory request as a Kubernetes quantity, for example `256Mi`. At most the memory \
limit.";

fn cpu_memory(name: &str, description: &str, cpu: &str, memory: &str) -> Attribute {
    Attribute::nested(
        name,
        Nesting::Single,
        vec![
            Attribute::optional("cpu", Type::String, cpu),
            Attribute::optional("memory", Type::String, memory),
        ],
        description,
    )
    .set_optional()
}

fn value_from(description: &str) -> Attribute {
    Attribute::nested(
        "value_from",
        Nesting::Single,
        vec![
            Attribute::optional("kind", Type::String, VALUE_FROM_KIND),
            Attribute::optional("env", Type::String, VALUE_FROM_ENV),
            Attribute::optional("name", Type::String, VALUE_FROM_NAME),
            Attribute::optional("field_path", Type::String, VALUE_FROM_FIELD_PATH),
        ],
        description,
    )
    .set_optional()
}

const VALUE_FROM_KIND: &str = "Planton kind of the referenced resource: a name of Planton's \
`CloudResourceKind` enum, exact spelling, for example `KubernetesPostgres`.";
const VALUE_FROM_ENV: &str = "Environment of the referenced resource.";
const VALUE_FROM_NAME: &str = "Name of the referenced resource. Must not be empty.";
const VALUE_FROM_FIELD_PATH: &str = "Field to read from the referenced resource, for example \
`status.outputs.host`.";

fn env() -> Attribute {
    Attribute::nested(
        "env",
        Nesting::Single,
        vec![
            Attribute::nested(
                "variables",
                Nesting::Map,
                vec![
                    Attribute::optional("value", Type::String, VARIABLE_VALUE),
                    value_from(VARIABLE_VALUE_FROM),
                ],
                VARIABLES,
            )
            .set_optional(),
            Attribute::nested(
                "secrets",
                Nesting::Map,
                vec![
                    Attribute::optional("value", Type::String, SECRET_VALUE).sensitive(),
                    Attribute::nested(
                        "secret_ref",
                        Nesting::Single,
                        vec![
                            Attribute::optional("namespace", Type::String, SECRET_REF_NAMESPACE),
                            Attribute::optional("name", Type::String, SECRET_REF_NAME),
                            Attribute::optional("key", Type::String, SECRET_REF_KEY),
                        ],
                        SECRET_REF,
                    )
                    .set_optional(),
                ],
                SECRETS,
            )
            .set_optional(),
        ],
        ENV,
    )
    .set_optional()
}

const ENV: &str = "Environment variables of the container. Kubernetes also receives `HOSTNAME` (the pod's IP, \
as Planton sets it) and `K8S_POD_ID` (the pod's name) first, so neither name may be used here. Names must be \
unique across `variables` and `secrets`.";

const VARIABLES: &str = "Plain environment variables, keyed by name. A name consists of letters, digits, `_`, \
`-` and `.`, and does not start with a digit. Each entry sets `value`. Changing them replaces the Job (they are part of the pod).";

const VARIABLE_VALUE: &str = "The variable's value (may be empty). To pass another resource's attribute, \
reference it here, for example `value = aws_db_instance.main.address`.";

const VARIABLE_VALUE_FROM: &str = "Planton reference to another resource's field. Planton's orchestrator \
resolves such references; Terraform does not, so setting this is an error that explains how to pass the value \
with an HCL reference in `value` instead.";

const SECRETS: &str = "Secret environment variables, keyed by name (same naming rules as `variables`). Each \
entry sets exactly one of `value` (stored in the Secret `<name>-env-secrets` this resource manages) or \
`secret_ref` (a key of a Secret that already exists). Adding or removing a name, or switching between `value` and `secret_ref`, replaces the Job; changing a `value` updates the Secret in place (pods started later see it).";

const SECRET_VALUE: &str = "The secret value. It is written to the Secret `<metadata.name>-env-secrets` and \
reaches the container through a `secretKeyRef`. Sensitive: hidden in plan output, but stored in Terraform state; \
prefer the write-only `env_secrets_wo` (Terraform 1.11+), which keeps the value out of state.";

const SECRET_REF: &str =
    "A key of an existing Secret, passed to the container through a `secretKeyRef`.";

const SECRET_REF_NAMESPACE: &str = "Namespace of the Secret. Kubernetes reads Secret references only from the \
pod's own namespace, so when set it must equal `spec.namespace.value`.";

const SECRET_REF_NAME: &str = "Name of the Secret: a DNS-1123 subdomain. Required.";

const SECRET_REF_KEY: &str = "Key inside the Secret: letters, digits, `-`, `_` and `.`. Required.";

const PARALLELISM: &str = "Maximum number of pods running at once (Job `parallelism`). Defaults to `1`. A whole \
number from 0 to 2147483647 (at most 100000 in `Indexed` mode). `0` means unset, as in Planton: the field is left \
out of the Job and Kubernetes' default (1) applies. Can change in place.";

const COMPLETIONS: &str = "Number of successful pods that complete the Job (Job `completions`). Defaults to `1`. \
A whole number from 0 to 2147483647; in `Indexed` mode it is the number of indexes (at most 100000). `0` means \
unset, as in Planton: the field is left out of the Job, and Kubernetes runs it as a work queue (done when one \
pod succeeds and the others have stopped); an `Indexed` Job cannot leave it unset. Changing it replaces the Job, except for an `Indexed` Job whose `completions` and `parallelism` are equal before and after the change (an elastic Indexed Job), which changes in place.";

const BACKOFF_LIMIT: &str = "Number of retries before the Job is marked failed (Job `backoffLimit`). Defaults \
to `6`; 0 means no retry. A whole number from 0 to 2147483647. Can change in place.";

const ACTIVE_DEADLINE: &str = "Seconds the Job may run before Kubernetes stops it and marks it failed (Job \
`activeDeadlineSeconds`). Leave it out, or set `0` (Planton's default), for no deadline: `0` is not sent to \
Kubernetes. A whole number. Can change in place.";

const TTL: &str = "Seconds after the Job finishes before Kubernetes deletes it (Job \
`ttlSecondsAfterFinished`). Leave it out, or set `0` (Planton's default), to keep finished Jobs: as in Planton, \
`0` means no automatic cleanup and is not sent to Kubernetes (so a Job cannot be deleted the moment it \
finishes). A whole number from 0 to 2147483647. Can change in place.";

const COMPLETION_MODE: &str = "`NonIndexed` (default: pods are interchangeable) or `Indexed` (each pod gets \
`JOB_COMPLETION_INDEX` from 0 to `completions - 1`). Exact spelling. Changing it replaces the Job.";

const RESTART_POLICY: &str = "What happens when the container fails: `Never` (default: a new pod is created, \
counted against `backoff_limit`) or `OnFailure` (the container restarts in the same pod). Exact spelling; \
`Always` is not allowed for a Job. Changing it replaces the Job.";

const COMMAND: &str = "Container entrypoint (the container's `command`); the image's `ENTRYPOINT` when not set. \
Not run in a shell: use `[\"/bin/sh\", \"-c\", \"...\"]` for shell syntax. Changing it replaces the Job.";

const ARGS: &str = "Arguments to the entrypoint (the container's `args`); the image's `CMD` when not set. \
`$(VAR)` expands environment variables; nothing else is interpreted. Changing it replaces the Job.";

const CONFIG_MAPS: &str = "ConfigMaps to create in the Job's namespace, keyed by name; each holds one data \
entry whose key is the ConfigMap's name and whose value is the map value. Mount one as a file with a \
`volume_mounts` entry whose `config_map` has `name` and `key` set to this name. Names are DNS-1123 subdomains \
(at most 253 characters, lowercase letters, digits, `-` and `.`); a ConfigMap holds at most 1 MiB. Changing a value updates its ConfigMap in place; adding or removing a name replaces the Job.";

const SUSPEND: &str = "Whether the Job is suspended (Job `suspend`): no pods are started while true. Defaults to \
`false`. Can change in place.";

fn volume_mounts() -> Attribute {
    Attribute::nested(
        "volume_mounts",
        Nesting::List,
        vec![
            Attribute::required("name", Type::String, MOUNT_NAME),
            Attribute::required("mount_path", Type::String, MOUNT_PATH),
            Attribute::optional("read_only", Type::Bool, MOUNT_READ_ONLY),
            Attribute::optional("sub_path", Type::String, MOUNT_SUB_PATH),
            keyed_source(
                "config_map",
                CONFIG_MAP_SOURCE,
                CONFIG_MAP_NAME,
                "ConfigMap",
            ),
            keyed_source("secret", SECRET_SOURCE, SECRET_NAME, "Secret"),
            Attribute::nested(
                "host_path",
                Nesting::Single,
                vec![
                    Attribute::required("path", Type::String, HOST_PATH_PATH),
                    Attribute::optional("type", Type::String, HOST_PATH_TYPE),
                ],
                HOST_PATH,
            )
            .set_optional(),
            Attribute::nested(
                "empty_dir",
                Nesting::Single,
                vec![
                    Attribute::optional("medium", Type::String, EMPTY_DIR_MEDIUM),
                    Attribute::optional("size_limit", Type::String, EMPTY_DIR_SIZE_LIMIT),
                ],
                EMPTY_DIR,
            )
            .set_optional(),
            Attribute::nested(
                "pvc",
                Nesting::Single,
                vec![
                    Attribute::required("claim_name", Type::String, PVC_CLAIM_NAME),
                    Attribute::optional("read_only", Type::Bool, PVC_READ_ONLY),
                ],
                PVC,
            )
            .set_optional(),
        ],
        VOLUME_MOUNTS,
    )
    .set_optional()
}

const VOLUME_MOUNTS: &str = "Volumes mounted into the container. Each entry creates one pod volume (named \
`name`) from exactly one source, `config_map`, `secret`, `host_path`, `empty_dir` or `pvc`, and mounts it at \
`mount_path`. Names and mount paths must be unique. Changing them replaces the Job.";

const MOUNT_NAME: &str = "Name of the volume and its mount: a DNS-1123 label (at most 63 characters, lowercase \
letters, digits and `-`). Unique among `volume_mounts`.";

const MOUNT_PATH: &str = "Absolute path inside the container where the volume appears, for example `/data`. \
Unique among `volume_mounts`.";

const MOUNT_READ_ONLY: &str = "Mount the volume read-only. Defaults to false.";

const MOUNT_SUB_PATH: &str = "Mount only this path inside the volume instead of its root. A relative path \
without `..`.";

const CONFIG_MAP_SOURCE: &str = "Mount a ConfigMap: one from `spec.config_maps` or one that already exists. \
With `key`, only that entry is mounted, as the file `path` (or `key`).";

const SECRET_SOURCE: &str = "Mount an existing Secret. With `key`, only that entry is mounted, as the file \
`path` (or `key`).";

const CONFIG_MAP_NAME: &str = "Name of the ConfigMap. Must not be empty.";

const SECRET_NAME: &str = "Name of the Secret. Must not be empty.";

fn keyed_source(name: &str, description: &str, name_description: &str, object: &str) -> Attribute {
    let key = format!(
        "Mount only this key of the {object}, as a single file. Leave it out to mount every key as a file named \
after the key."
    );
    let mode = format!(
        "Permission bits of the files, a number from 0 to 511 (octal 0777); for example 420 (0644) or 493 \
(0755). The {object} volume's default is 420; `0` means unset, as in Planton, and leaves that default."
    );
    Attribute::nested(
        name,
        Nesting::Single,
        vec![
            Attribute::required("name", Type::String, name_description),
            Attribute::optional("key", Type::String, &key),
            Attribute::optional("path", Type::String, KEYED_PATH),
            Attribute::optional("default_mode", Type::Number, &mode),
        ],
        description,
    )
    .set_optional()
}

const KEYED_PATH: &str = "File name (a relative path without `..`) for `key` inside the volume; defaults to \
the key. Requires `key`.";

const HOST_PATH: &str = "Mount a file or directory of the node. Gives the pod access to the node's filesystem; \
prefer other sources unless the Job really needs it.";

const HOST_PATH_PATH: &str = "Path on the node. Must not be empty or contain `..`.";

const HOST_PATH_TYPE: &str = "What must exist at `path` before mounting: `\"\"` (no check, the default), \
`DirectoryOrCreate`, `Directory`, `FileOrCreate`, `File`, `Socket`, `CharDevice` or `BlockDevice` (exact \
spelling).";

const EMPTY_DIR: &str = "Mount an empty scratch directory that lives as long as the pod.";

const EMPTY_DIR_MEDIUM: &str = "Storage medium: `\"\"` (the node's disk, the default) or `Memory` (tmpfs, \
counted against the container's memory).";

const EMPTY_DIR_SIZE_LIMIT: &str =
    "Maximum size as a Kubernetes quantity, for example `1Gi`. Not negative.";

const PVC: &str = "Mount an existing PersistentVolumeClaim in the Job's namespace.";

const PVC_CLAIM_NAME: &str = "Name of the PersistentVolumeClaim. Must not be empty.";

const PVC_READ_ONLY: &str = "Attach the claim read-only. Defaults to false.";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::tf::AttributeKind;

    fn walk<'a>(attrs: &'a [Attribute], prefix: &str, out: &mut Vec<(String, &'a Attribute)>) {
        for a in attrs {
            let path = if prefix.is_empty() {
                a.name.clone()
            } else {
                format!("{prefix}.{}", a.name)
            };
            out.push((path.clone(), a));
            if let AttributeKind::Nested(n) = &a.kind {
                walk(&n.attributes, &path, out);
            }
        }
    }

    fn all() -> Vec<(String, Attribute)> {
        let s = schema();
        let mut out = Vec::new();
        walk(&s.block.attributes, "", &mut out);
        out.into_iter().map(|(p, a)| (p, a.clone())).collect()
    }

    /// Every attribute has a description written for users.
    #[test]
    fn every_attribute_is_described() {
        for (path, a) in all() {
            assert!(a.description.len() >= 20, "{path} lacks a description");
            assert!(
                a.required || a.optional || a.computed,
                "{path} is neither required, optional nor computed"
            );
        }
    }

    /// Defaults are planned as known values of the attribute's type, and only
    /// on optional+computed attributes.
    #[test]
    fn defaults_match_design() {
        let by_path: std::collections::BTreeMap<_, _> = all().into_iter().collect();
        let default = |p: &str| by_path[p].default.clone();
        assert_eq!(default("spec.parallelism"), Some(Value::int(1)));
        assert_eq!(default("spec.completions"), Some(Value::int(1)));
        assert_eq!(default("spec.backoff_limit"), Some(Value::int(6)));
        assert_eq!(
            default("spec.completion_mode"),
            Some(Value::string("NonIndexed"))
        );
        assert_eq!(default("spec.restart_policy"), Some(Value::string("Never")));
        assert_eq!(default("spec.suspend"), Some(Value::Bool(false)));
        assert_eq!(default("spec.create_namespace"), Some(Value::Bool(false)));
        let resources = default("spec.resources").unwrap();
        assert_eq!(resources.get("limits").get("cpu"), &Value::string("1000m"));
        assert_eq!(
            resources.get("requests").get("memory"),
            &Value::string("100Mi")
        );
        for (path, a) in by_path {
            if a.default.is_some() {
                assert!(a.optional && a.computed && !a.required, "{path}");
            }
        }
    }

    /// Replacement triggers and sensitivity sit where the plan says.
    #[test]
    fn plan_flags() {
        let by_path: std::collections::BTreeMap<_, _> = all().into_iter().collect();
        let replace: Vec<_> = by_path
            .iter()
            .filter(|(_, a)| a.requires_replace)
            .map(|(p, _)| p.as_str())
            .collect();
        // The rest of the replace decisions are made by the plan hook
        // (kubernetes_job::buckets), field by field.
        assert_eq!(
            replace,
            ["metadata.name", "rerun_triggers", "spec.namespace"]
        );
        let sensitive: Vec<_> = by_path
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(
            sensitive,
            [
                "docker_config_json",
                "docker_config_json_wo",
                "env_secrets_wo",
                "spec.env.secrets.value"
            ]
        );
        assert!(by_path["id"].computed && by_path["id"].use_state_for_unknown);
    }

    /// The Planton spec's 18 fields are all present.
    #[test]
    fn spec_has_every_planton_field() {
        let s = schema();
        let spec = s.block.attribute("spec").unwrap();
        let AttributeKind::Nested(n) = &spec.kind else {
            panic!("spec is nested")
        };
        let names: Vec<_> = n.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "target_cluster",
                "namespace",
                "create_namespace",
                "image",
                "resources",
                "env",
                "parallelism",
                "completions",
                "backoff_limit",
                "active_deadline_seconds",
                "ttl_seconds_after_finished",
                "completion_mode",
                "restart_policy",
                "command",
                "args",
                "config_maps",
                "volume_mounts",
                "suspend",
            ]
        );
    }
}
