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
//!
//! Files: [`job`] renders, with the labels; [`pod`] builds the container
//! and volumes; [`objects`] holds the result, stamps it and adds write-only
//! values; [`fields`] maps a field the API server refuses back to its
//! attribute; [`planned`] says which objects a partly unknown plan manages;
//! [`prepared`] is the one way from a plan or state to its objects;
//! [`names`] holds the names and labels, [`error`] how a value is read.

pub mod error;
pub mod fields;
pub mod job;
pub mod names;
pub mod objects;
pub mod planned;
pub mod pod;
pub mod prepared;

pub use error::RenderError;
pub use job::{is_owned_by, labels, render};
pub use names::{
    CONTAINER_NAME, DOCKER_CONFIG_KEY, DOCKER_CONFIG_TYPE, KIND, LABEL_ENVIRONMENT, LABEL_ID,
    LABEL_KIND, LABEL_NAME, LABEL_ORGANIZATION, LABEL_RESOURCE, ZERO_MEANS_UNSET, env_secret_name,
    pull_secret_name,
};
pub use objects::{EnvOrigin, Object, Rendered};
pub use planned::planned_refs;
pub use pod::image_reference;
pub use prepared::{PrepareError, Prepared, from_value};

#[cfg(test)]
mod tests;
