//! Reading a Job to import and the objects that belong to it: Planton's
//! names and `planton.ai/*` labels find the env Secret
//! `<name>-env-secrets`, the pull Secret `<name>-image-pull-secret`, the
//! ServiceAccount `<name>`, the Namespace (when it carries this Job's
//! claim) and the ConfigMaps labelled as this Job's, in its namespace and
//! of the same resource instance. A Job that cannot be read is one clear
//! error; a Namespace the credentials may not read is a warning, and
//! import assumes it was not this Job's.

use futures::future::join;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::api::ListParams;
use kube::{Api, Client};

use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::adopt::identity::{ACCEPTED_FORMS, ImportId};
use crate::kubernetes_job::cluster::{self, GetError, Live};
use crate::kubernetes_job::model::ownership::{self, Instance};
use crate::kubernetes_job::render;
use crate::tf::Diagnostics;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    /// Objects are found by Planton's names and this Job's labels only.
    #[test]
    fn assemble_finds_only_this_jobs_objects() {
        let labels = |name: &str| json!({"planton.ai/resource": "true", "planton.ai/kind": "KubernetesJob", "planton.ai/name": name});
        let meta = |name: &str, ns: Option<&str>, owner: &str| json!({"name": name, "namespace": ns, "labels": labels(owner)});
        let job: Job =
            serde_json::from_value(json!({"metadata": meta("a", Some("ns"), "a")})).unwrap();
        let secrets: Vec<Secret> = vec![
            serde_json::from_value(json!({"metadata": meta("a-env-secrets", Some("ns"), "a")}))
                .unwrap(),
            serde_json::from_value(
                json!({"metadata": meta("a-image-pull-secret", Some("other"), "a")}),
            )
            .unwrap(),
        ];
        let cms: Vec<ConfigMap> = vec![
            serde_json::from_value(json!({"metadata": meta("cfg", Some("ns"), "a")})).unwrap(),
            serde_json::from_value(json!({"metadata": meta("cfg-b", Some("ns"), "b")})).unwrap(),
        ];
        let sas: Vec<ServiceAccount> = vec![
            serde_json::from_value(json!({"metadata": {"name": "a", "namespace": "ns"}})).unwrap(),
        ];
        let nss: Vec<Namespace> =
            vec![serde_json::from_value(json!({"metadata": meta("ns", None, "a")})).unwrap()];
        let found = Found::assemble(job, &nss, &sas, &secrets, &cms);
        assert!(found.env_secret.is_some());
        assert!(found.pull_secret.is_none(), "other namespace");
        assert!(found.service_account.is_none(), "unlabelled");
        assert!(found.namespace.is_some());
        let names: Vec<_> = found
            .config_maps
            .iter()
            .map(|c| c.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["cfg"]);
    }
}
