//! What objects a planned job will manage before all of it is known:
//! [`planned_refs`] answers from the few values that decide it (name,
//! namespace, `create_namespace`, the secrets, the pull secret, the config
//! maps), or says it cannot know yet. The plan and apply use it to see
//! whether the tracked objects change.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};

use crate::kube::ObjectRef;
use crate::kubernetes_job::model::spec::{Field, KubernetesJob};
use crate::kubernetes_job::model::write_only::WriteOnly;
use crate::tf::Value;

use super::names::{env_secret_name, pull_secret_name};

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
