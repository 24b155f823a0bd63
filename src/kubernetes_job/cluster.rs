//! Typed access to the five kinds this resource manages, by [`ObjectRef`]:
//! apply, get and delete dispatch to the matching `Api<K>`. A part of its
//! own, below the two that reach a cluster: `adopt` reads a Job and its
//! objects through it, `lifecycle` applies, reads and deletes them.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy};
use kube::{Api, Client};

use crate::kube::ObjectRef;
use crate::kube::apply::server_side_apply;
use crate::kube::lists::{ListItem, SharedLists};
use crate::kubernetes_job::render::{LABEL_RESOURCE, Object};

/// An object as the server returned it.
#[derive(Debug, Clone)]
pub enum Live {
    /// A Namespace.
    Namespace(Namespace),
    /// A ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A Secret.
    Secret(Secret),
    /// A ConfigMap.
    ConfigMap(ConfigMap),
    /// A Job.
    Job(Box<Job>),
}

impl Live {
    /// The object's metadata.
    pub fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Live::Namespace(o) => &o.metadata,
            Live::ServiceAccount(o) => &o.metadata,
            Live::Secret(o) => &o.metadata,
            Live::ConfigMap(o) => &o.metadata,
            Live::Job(o) => &o.metadata,
        }
    }

    /// The object's UID.
    pub fn uid(&self) -> String {
        self.metadata().uid.clone().unwrap_or_default()
    }
}

/// A reference to a kind this resource does not manage (from a foreign or
/// corrupted state).
#[derive(Debug, thiserror::Error)]
#[error("this resource does not manage objects of kind {0}")]
pub struct UnknownKind(pub String);

/// Applies `object` by server-side apply.
pub async fn apply(client: &Client, object: &Object) -> Result<Live, kube::Error> {
    let r = object.object_ref();
    let ns = r.namespace.as_str();
    Ok(match object {
        Object::Namespace(o) => {
            Live::Namespace(server_side_apply(&Api::all(client.clone()), &r.name, o).await?)
        }
        Object::ServiceAccount(o) => Live::ServiceAccount(
            server_side_apply(&Api::namespaced(client.clone(), ns), &r.name, o).await?,
        ),
        Object::Secret(o) => {
            Live::Secret(server_side_apply(&Api::namespaced(client.clone(), ns), &r.name, o).await?)
        }
        Object::ConfigMap(o) => Live::ConfigMap(
            server_side_apply(&Api::namespaced(client.clone(), ns), &r.name, o).await?,
        ),
        Object::Job(o) => Live::Job(Box::new(
            server_side_apply(&Api::namespaced(client.clone(), ns), &r.name, o.as_ref()).await?,
        )),
    })
}

/// Dispatches `$body` with `$api` bound to the `Api` of `$object`'s kind and
/// `$typed` to the typed object, wrapping the result in [`Live`].
macro_rules! with_api {
    ($client:expr, $object:expr, |$api:ident, $typed:ident| $body:expr) => {{
        let r = $object.object_ref();
        let ns = r.namespace.as_str();
        match $object {
            Object::Namespace($typed) => {
                let $api: Api<Namespace> = Api::all($client.clone());
                $body.map(Live::Namespace)
            }
            Object::ServiceAccount($typed) => {
                let $api: Api<ServiceAccount> = Api::namespaced($client.clone(), ns);
                $body.map(Live::ServiceAccount)
            }
            Object::Secret($typed) => {
                let $api: Api<Secret> = Api::namespaced($client.clone(), ns);
                $body.map(Live::Secret)
            }
            Object::ConfigMap($typed) => {
                let $api: Api<ConfigMap> = Api::namespaced($client.clone(), ns);
                $body.map(Live::ConfigMap)
            }
            Object::Job(boxed) => {
                let $typed = boxed.as_ref();
                let $api: Api<Job> = Api::namespaced($client.clone(), ns);
                $body.map(|j| Live::Job(Box::new(j)))
            }
        }
    }};
}

/// Creates `object` (a POST: it fails with 409 AlreadyExists rather than
/// touch an object that exists), then hands the fields the create set to
/// `manager`'s server-side apply, so that a later apply that drops a field
/// removes it. Kubernetes records a create as an "Update" of its manager,
/// whose fields a later "Apply" of the same manager would never release.
pub async fn create(client: &Client, object: &Object, manager: &str) -> Result<Live, kube::Error> {
    let params = PostParams {
        field_manager: Some(manager.to_string()),
        ..PostParams::default()
    };
    let created = with_api!(client, object, |api, typed| {
        let created = api.create(&params, typed).await?;
        Ok::<_, kube::Error>(as_applied(&api, created, manager).await)
    })?;
    Ok(created)
}

/// Turns `manager`'s "Update" entry of a just-created object into an
/// "Apply" entry. Guarded by the resourceVersion: if anyone changed the
/// object since, it is left as it is (the fields stay set, nothing is lost).
async fn as_applied<K>(api: &Api<K>, created: K, manager: &str) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let meta = created.meta();
    let (Some(name), Some(rv), Some(entries)) = (
        meta.name.clone(),
        meta.resource_version.clone(),
        meta.managed_fields.clone(),
    ) else {
        return created;
    };
    let mut changed = false;
    let entries: Vec<_> = entries
        .into_iter()
        .map(|mut e| {
            if e.manager.as_deref() == Some(manager)
                && e.operation.as_deref() == Some("Update")
                && e.subresource.as_deref().unwrap_or_default().is_empty()
            {
                e.operation = Some("Apply".to_string());
                changed = true;
            }
            e
        })
        .collect();
    if !changed {
        return created;
    }
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": rv, "managedFields": entries}
    });
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(patched) => patched,
        Err(e) => {
            tracing::warn!(object = %name, error = %e, "Could not hand a created object's fields to server-side apply");
            created
        }
    }
}

/// Applies `object` by server-side apply as `manager`, only to the object
/// whose UID is `uid` (the UID in the body is a precondition: a missing or
/// re-created object is refused, never created or overwritten). Without
/// `force`, a field another manager owns is a conflict; with `force_on_conflict`
/// the apply is repeated with force, and the conflict (the other managers
/// and fields) is returned so that the caller can warn about it.
pub async fn apply_owned(
    client: &Client,
    object: &Object,
    uid: &str,
    manager: &str,
    force_on_conflict: bool,
) -> Result<(Live, Option<String>), kube::Error> {
    let mut body = object.to_json();
    body["metadata"]["uid"] = serde_json::Value::String(uid.to_string());
    let name = object.object_ref().name;
    let first = with_api!(client, object, |api, _typed| {
        api.patch(&name, &PatchParams::apply(manager), &Patch::Apply(&body))
            .await
    });
    match first {
        Err(kube::Error::Api(status))
            if force_on_conflict
                && status.code == 409
                && status.details.as_ref().is_some_and(|d| {
                    d.causes.iter().any(|c| c.reason == "FieldManagerConflict")
                }) =>
        {
            let taken = with_api!(client, object, |api, _typed| {
                api.patch(
                    &name,
                    &PatchParams::apply(manager).force(),
                    &Patch::Apply(&body),
                )
                .await
            })?;
            Ok((taken, Some(status.message.clone())))
        }
        other => other.map(|live| (live, None)),
    }
}

/// Withdraws `manager`'s claim on the Namespace `name` (whose UID must be
/// `uid`): an apply of nothing, which releases every field `manager` owns.
/// Returns the Namespace as it is then (`None` when it is gone or is
/// another object now).
pub async fn release_namespace(
    client: &Client,
    name: &str,
    uid: &str,
    manager: &str,
) -> Result<Option<Namespace>, kube::Error> {
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "uid": uid},
    });
    let api: Api<Namespace> = Api::all(client.clone());
    match api
        .patch(name, &PatchParams::apply(manager), &Patch::Apply(&body))
        .await
    {
        Ok(ns) => Ok(Some(ns)),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 || s.code == 422 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Objects in `namespace` that are not `job_name`'s: every object of the
/// common namespaced kinds, less what Kubernetes puts in every namespace
/// (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap) and
/// the pods of the Job `job_name` (still terminating). Kinds the server
/// does not serve count as empty. Returns `kind/name` strings, sorted.
pub async fn foreign_contents(
    client: &Client,
    namespace: &str,
    job_name: &str,
) -> Result<Vec<String>, kube::Error> {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};
    use kube::api::ListParams;

    async fn names<K>(client: &Client, namespace: &str) -> Result<Vec<(String, K)>, kube::Error>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(client.clone(), namespace);
        match api.list(&ListParams::default()).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .map(|o| (o.meta().name.clone().unwrap_or_default(), o))
                .collect()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
    let mut out = Vec::new();
    let job_pod = |p: &Pod| {
        p.metadata
            .labels
            .as_ref()
            .and_then(|l| {
                l.get("batch.kubernetes.io/job-name")
                    .or_else(|| l.get("job-name"))
            })
            .map(String::as_str)
            == Some(job_name)
    };
    for (n, p) in names::<Pod>(client, namespace).await? {
        if !job_pod(&p) {
            out.push(format!("pod/{n}"));
        }
    }
    for (n, _) in names::<Job>(client, namespace).await? {
        out.push(format!("job/{n}"));
    }
    for (n, _) in names::<ConfigMap>(client, namespace).await? {
        if n != "kube-root-ca.crt" {
            out.push(format!("configmap/{n}"));
        }
    }
    for (n, _) in names::<Secret>(client, namespace).await? {
        out.push(format!("secret/{n}"));
    }
    for (n, _) in names::<ServiceAccount>(client, namespace).await? {
        if n != "default" {
            out.push(format!("serviceaccount/{n}"));
        }
    }
    for (n, _) in names::<Service>(client, namespace).await? {
        out.push(format!("service/{n}"));
    }
    for (n, _) in names::<PersistentVolumeClaim>(client, namespace).await? {
        out.push(format!("persistentvolumeclaim/{n}"));
    }
    for (n, _) in names::<Deployment>(client, namespace).await? {
        out.push(format!("deployment/{n}"));
    }
    for (n, _) in names::<StatefulSet>(client, namespace).await? {
        out.push(format!("statefulset/{n}"));
    }
    out.sort();
    Ok(out)
}

/// [`get`] for a refresh: a Job is looked up first in the cluster's shared
/// list of this provider's Jobs in its namespace ([`SharedLists`]: one LIST
/// serves the jobs refreshed in that namespace after the first few), and
/// asked for by name when that list is not made yet or does not hold it. Other kinds are read by name: listing
/// Secrets or ServiceAccounts would need rights that a least-privilege Role
/// (`examples/rbac/role.yaml`) does not grant, while it must list Jobs anyway
/// to wait for their deletion.
pub async fn get_shared(
    client: &Client,
    lists: &SharedLists,
    r: &ObjectRef,
) -> Result<Option<Live>, GetError> {
    if r.kind == "Job" {
        // Every Job this provider makes carries the label.
        let selector = format!("{LABEL_RESOURCE}=true");
        if let Some(job) = lists
            .find::<ListedJob>(client, &r.namespace, &selector, &r.name)
            .await
        {
            return Ok(Some(Live::Job(Box::new(job.into_job()))));
        }
    }
    get(client, r).await
}

/// A Job as a shared list holds it: what refresh reads of a Job, its
/// metadata (name, UID, labels), the mutable fields of its spec and its
/// status. Its managed fields and pod template (immutable, and the bulk of a
/// Job) are skipped while the list is parsed, so a list of a thousand Jobs
/// stays small.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ListedJob {
    metadata: ListedMeta,
    #[serde(default)]
    spec: Option<ListedJobSpec>,
    #[serde(default)]
    status: Option<k8s_openapi::api::batch::v1::JobStatus>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    labels: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedJobSpec {
    parallelism: Option<i32>,
    completions: Option<i32>,
    backoff_limit: Option<i32>,
    active_deadline_seconds: Option<i64>,
    ttl_seconds_after_finished: Option<i32>,
    suspend: Option<bool>,
}

impl ListItem for ListedJob {
    type Kind = Job;

    fn name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }
}

impl ListedJob {
    /// The Job with what the list kept, everything else left empty.
    fn into_job(self) -> Job {
        use k8s_openapi::api::batch::v1::JobSpec;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        let m = self.metadata;
        Job {
            metadata: ObjectMeta {
                name: m.name,
                namespace: m.namespace,
                uid: m.uid,
                resource_version: m.resource_version,
                labels: m.labels,
                ..ObjectMeta::default()
            },
            spec: self.spec.map(|s| JobSpec {
                parallelism: s.parallelism,
                completions: s.completions,
                backoff_limit: s.backoff_limit,
                active_deadline_seconds: s.active_deadline_seconds,
                ttl_seconds_after_finished: s.ttl_seconds_after_finished,
                suspend: s.suspend,
                ..JobSpec::default()
            }),
            status: self.status,
        }
    }
}

/// Gets the object, `None` when it does not exist.
pub async fn get(client: &Client, r: &ObjectRef) -> Result<Option<Live>, GetError> {
    let ns = r.namespace.as_str();
    let name = r.name.as_str();
    let result = match r.kind.as_str() {
        "Namespace" => Api::<Namespace>::all(client.clone())
            .get_opt(name)
            .await
            .map(|o| o.map(Live::Namespace)),
        "ServiceAccount" => Api::<ServiceAccount>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map(|o| o.map(Live::ServiceAccount)),
        "Secret" => Api::<Secret>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map(|o| o.map(Live::Secret)),
        "ConfigMap" => Api::<ConfigMap>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map(|o| o.map(Live::ConfigMap)),
        "Job" => Api::<Job>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map(|o| o.map(|j| Live::Job(Box::new(j)))),
        other => return Err(GetError::Kind(UnknownKind(other.to_string()))),
    };
    result.map_err(GetError::Api)
}

/// Why a get failed.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// The API call failed.
    #[error(transparent)]
    Api(kube::Error),
    /// The reference names a kind we do not manage.
    #[error(transparent)]
    Kind(UnknownKind),
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted (or being deleted).
    Deleted,
    /// It was already gone.
    AlreadyGone,
    /// An object with this name exists but is not the one we created (its
    /// UID differs), so it was left alone.
    NotOurs,
}

/// Deletes the object if its UID is still `uid` (when known), with
/// `propagation` for Jobs.
pub async fn delete(
    client: &Client,
    r: &ObjectRef,
    uid: &str,
    propagation: PropagationPolicy,
) -> Result<Deleted, GetError> {
    let mut params = DeleteParams {
        propagation_policy: Some(propagation),
        ..DeleteParams::default()
    };
    if !uid.is_empty() {
        params = params.preconditions(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
        });
    }
    let ns = r.namespace.as_str();
    let name = r.name.as_str();
    let result = match r.kind.as_str() {
        "Namespace" => Api::<Namespace>::all(client.clone())
            .delete(name, &params)
            .await
            .map(|_| ()),
        "ServiceAccount" => Api::<ServiceAccount>::namespaced(client.clone(), ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        "Secret" => Api::<Secret>::namespaced(client.clone(), ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        "ConfigMap" => Api::<ConfigMap>::namespaced(client.clone(), ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        "Job" => Api::<Job>::namespaced(client.clone(), ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        other => return Err(GetError::Kind(UnknownKind(other.to_string()))),
    };
    match result {
        Ok(()) => Ok(Deleted::Deleted),
        Err(e) if crate::kube::is_not_found(&e) => Ok(Deleted::AlreadyGone),
        // A failed UID precondition is a 409 Conflict; so is deleting a
        // namespace that is already terminating: ours, on its way.
        Err(e) if crate::kube::is_conflict(&e) && !uid.is_empty() => match get(client, r).await {
            Ok(Some(live)) if live.uid() == uid => Ok(Deleted::Deleted),
            Ok(Some(_)) => Ok(Deleted::NotOurs),
            Ok(None) => Ok(Deleted::AlreadyGone),
            Err(e) => Err(e),
        },
        Err(e) => Err(GetError::Api(e)),
    }
}
