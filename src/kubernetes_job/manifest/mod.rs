//! Planton manifests and the resource's `metadata` and `spec`, both ways: the
//! provider functions `kubernetes_job_from_manifest` (a decoded
//! `KubernetesJob` manifest to values that assign to the resource as they
//! are) and `kubernetes_job_manifest` (the resource's values to a manifest
//! Planton's CLI accepts).
//!
//! Both walk the resource schema ([`super::schema`]), so a field added there
//! is understood here without further work. A manifest names each field in
//! protojson's lowerCamelCase (`volume_mounts` is `volumeMounts`), and, as
//! protojson does, also accepts the proto's snake_case name; the keys of map
//! fields (env variable names, ConfigMap names, labels) are data and are
//! kept exactly.

//!
//! Files: [`shape`] says what a manifest holds, from the schema; [`read`]
//! and [`write`](mod@write) are the two functions; [`messages`] and [`numbers`] are
//! what both use to word errors and read whole numbers.

pub mod messages;
pub mod numbers;
pub mod read;
pub mod shape;
pub mod write;

use std::sync::Arc;

use crate::tf::function::Function;

pub use read::{FROM_MANIFEST, FromManifest};
pub use shape::{API_VERSION, KIND, job_type, json_name};
pub use write::{TO_MANIFEST, ToManifest};

/// The functions this module offers.
pub fn functions() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(FromManifest::new()), Arc::new(ToManifest::new())]
}

#[cfg(test)]
mod tests;
