//! What a manifest is, taken from the resource schema: its `apiVersion`
//! and `kind`, the top-level attributes it carries (`metadata` and `spec`)
//! and their object type, which attributes a manifest may set (not the
//! computed ones), and protojson's lowerCamelCase name of each field.

use crate::tf::{Attribute, Type};

/// The `apiVersion` of every KubernetesJob manifest.
pub const API_VERSION: &str = "kubernetes.project-planton.org/v1";
/// The `kind` of every KubernetesJob manifest.
pub const KIND: &str = "KubernetesJob";

/// The top-level attributes a manifest carries (`metadata`, `spec`), from
/// the resource schema, in that order.
pub(super) fn manifest_attributes() -> Vec<Attribute> {
    let schema = crate::kubernetes_job::model::schema::schema();
    ["metadata", "spec"]
        .iter()
        .filter_map(|name| schema.block.attribute(name).cloned())
        .collect()
}

/// The object type `kubernetes_job_from_manifest` returns: `metadata` and
/// `spec` exactly as the resource types them.
pub fn job_type() -> Type {
    Type::Object(
        manifest_attributes()
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect(),
    )
}

/// Whether a configuration can set the attribute (computed-only ones are
/// not Planton fields).
pub(super) fn settable(a: &Attribute) -> bool {
    a.required || a.optional
}

pub use crate::kubernetes_job::model::names::json_name;
