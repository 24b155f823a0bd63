//! Everything about reaching a cluster, for any resource of this provider.
//!
//! Reaching one, from settings to a shared client:
//!
//! - [`settings`]: connection settings per cluster (the provider-level one
//!   and the named ones), as a caller read them; where each came from.
//! - [`resolve`]: settings to a [`kube::Config`] (kubeconfig files,
//!   context, explicit overrides, a pod's service account), and
//!   [`config_error`]: why that failed, worded for users.
//! - [`clusters`]: the registry of clusters ([`clusters::Clusters`]): which
//!   cluster a job names, what its plan may do, its shared client.
//! - [`client`]: the one client builder, with the layers below, over
//!   [`transport`]: HTTP/2 where the server speaks it, one connection per
//!   cluster shared by every call.
//! - [`exec`]: exec credential plugins, run with a time limit.
//!
//! The layers every client's requests pass:
//!
//! - [`budget`]: a timeout per request, and the operation's deadline and
//!   cancellation ([`budget::Budget`]) on every request sent under it.
//! - [`retry`]: retries (429 honouring `Retry-After`, 5xx and broken
//!   connections on idempotent requests).
//! - [`connection`]: the cluster a client talks to, and errors that name it
//!   (unreachable, TLS, credentials; 401/403 with the identity used).
//!
//! Using a client:
//!
//! - [`apply`]: server-side apply with the field manager [`FIELD_MANAGER`].
//! - [`errors`]: [`kube::Error`] to [`crate::tf::Diagnostics`], naming the
//!   object and mapping 422 causes back to attribute paths.
//! - [`watch`]: watching one object by name until a predicate decides.
//! - [`lists`]: one LIST per namespace and kind shared by the reads of a
//!   refresh, instead of one GET per object.
//!
//! This module knows Kubernetes and the framework's diagnostics, but no
//! resource's schema and no provider block: attribute paths and settings
//! come from callers.

pub mod apply;
pub mod budget;
mod chain;
pub mod client;
pub mod clusters;
pub mod config_error;
pub mod connection;
pub mod errors;
pub mod exec;
pub mod lists;
pub mod resolve;
pub mod retry;
pub mod settings;
#[cfg(test)]
mod testing;
pub mod transport;
pub mod watch;

use std::fmt;

pub use apply::FIELD_MANAGER;

/// One Kubernetes object, named the way users and error messages name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// `v1`, `batch/v1`.
    pub api_version: String,
    /// `Namespace`, `Job`.
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to an object of the kind `K`.
    pub fn of<K>(namespace: &str, name: &str) -> Self
    where
        K: k8s_openapi::Resource,
    {
        ObjectRef {
            api_version: K::API_VERSION.to_string(),
            kind: K::KIND.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `Job batch/nightly`, `Namespace batch`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Whether an error is the API's 404.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

/// Whether an error is the API's 409.
pub fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::Namespace;

    /// References print the way kubectl users name objects.
    #[test]
    fn object_ref_display() {
        assert_eq!(
            ObjectRef::of::<Job>("batch", "nightly").to_string(),
            "Job batch/nightly"
        );
        let ns = ObjectRef::of::<Namespace>("", "batch");
        assert_eq!(ns.to_string(), "Namespace batch");
        assert_eq!(ns.api_version, "v1");
    }
}
