//! Typed access to the five kinds this resource manages, by [`ObjectRef`]:
//! apply, get and delete dispatch to the matching `Api<K>`.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::api::{DeleteParams, Preconditions, PropagationPolicy};
use kube::{Api, Client};

use super::render::Object;
use crate::kube::ObjectRef;
use crate::kube::apply::server_side_apply;

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
        // A failed UID precondition is a 409 Conflict.
        Err(e) if crate::kube::is_conflict(&e) && !uid.is_empty() => Ok(Deleted::NotOurs),
        Err(e) => Err(GetError::Api(e)),
    }
}
