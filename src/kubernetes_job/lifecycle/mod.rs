//! The resource against a cluster: the plan of a change, field by field
//! ([`buckets`]), then [`apply`], [`read`], [`wait`] and [`delete`], all
//! reaching Kubernetes through [`super::cluster`] (typed access by object
//! reference, creation and server-side apply of the objects we own).

pub mod apply;
pub mod buckets;
pub mod delete;
pub mod read;
pub mod wait;

#[cfg(test)]
mod after_import_tests;
