//! The names and labels of what is rendered, as Planton's modules choose
//! them: the `planton.ai/*` labels and the Planton kind they carry, the
//! container's name, the names of the env Secret and the image pull Secret
//! made for a job, and the Job attributes whose 0 means "unset".

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
