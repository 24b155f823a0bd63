//! Turning a [`kube::Error`] into diagnostics a Terraform user can act on:
//! a title from the API's `reason`, then what we were doing to which object,
//! what the server said, and what to do. For 422 Invalid, each cause whose
//! field the caller can map becomes an error on that attribute.

use kube::core::Status;

use super::ObjectRef;
use super::connection::{AUTHENTICATION_FAILED, Cause};
use crate::tf::{AttributePath, Diagnostics};

/// The sentence that ends a message about something that should never
/// happen: the framework's, so that every such message ends alike.
pub use crate::tf::diag::PROVIDER_BUG as BUG_REPORT;

/// Maps a field path as the API server names it in a 422's causes
/// (`spec.template.spec.containers[0].image`) to the attribute it came from.
pub type FieldMapper<'a> = &'a dyn Fn(&str) -> Option<AttributePath>;

/// A mapper that knows no fields.
pub fn no_fields(_: &str) -> Option<AttributePath> {
    None
}

/// Diagnostics for `err`, which happened while `doing` (a present
/// participle: "applying", "reading") to `object`.
pub fn diagnostics(
    doing: &str,
    object: &ObjectRef,
    err: &kube::Error,
    fields: FieldMapper<'_>,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    match err {
        kube::Error::Api(status) => api_error(doing, object, status, fields, &mut d),
        other => {
            // A failure our connection layer classified names the cluster.
            if let Some(failure) = super::connection::find_failure(other) {
                d.error(
                    failure.summary(),
                    format!("While {doing} {object}: {}", failure.explanation()),
                );
                return d;
            }
            let (summary, hint) = transport_hint(other);
            d.error(
                summary,
                format!(
                    "While {doing} {object}, the request did not get an answer from the Kubernetes API server: \
                     {hint}\n\nOriginal error: {}",
                    error_chain(other)
                ),
            );
        }
    }
    d
}

fn api_error(
    doing: &str,
    object: &ObjectRef,
    status: &Status,
    fields: FieldMapper<'_>,
    d: &mut Diagnostics,
) {
    let terminating = namespace_terminating(status);
    let hint_terminating;
    let (summary, hint) = match (status.code, status.reason.as_str()) {
        // kube-apiserver answers 403 for several things that are not RBAC:
        // tell them apart by the Status' causes and wording, not the code.
        (403, _) if terminating.is_some() => {
            hint_terminating = format!(
                "The namespace {} is being deleted: Kubernetes keeps it (Terminating) until its finalizers \
                 and contents are gone, and accepts nothing new in it meanwhile. This is not a permission \
                 problem. Wait until the namespace is gone (`kubectl get namespace {}`), then run \
                 `terraform apply` again; with `spec.create_namespace = true` it is created anew.",
                terminating.as_deref().unwrap_or_default(),
                terminating.as_deref().unwrap_or_default(),
            );
            ("Namespace Is Being Deleted", hint_terminating.as_str())
        }
        (403, _) if status.message.contains("exceeded quota") => (
            "Kubernetes Quota Exceeded",
            "A ResourceQuota of the namespace does not leave room for this object (the message names the quota \
             and the resource). Raise the quota, free some of it, or lower `spec.resources`.",
        ),
        (403, _) if status.message.contains("admission webhook") => (
            "Kubernetes Admission Webhook Denied The Request",
            "An admission webhook of the cluster refused the object (the message names the webhook and its \
             reason). Change the configuration to satisfy the cluster's policy, or ask its administrators.",
        ),
        (403, _) if is_rbac_denial(status) || status.message.is_empty() => (
            "Permission Denied By Kubernetes",
            "The credentials the provider uses are not allowed to do this. Grant the missing permission (the \
             message names the verb and resource), or use a kubeconfig context that has it.",
        ),
        (403, _) => (
            "Kubernetes Refused The Request",
            "The API server's admission refused the request; the message says why.",
        ),
        (409, _) if has_cause(status, "FieldManagerConflict") => (
            "Kubernetes Field Ownership Conflict",
            "Another field manager owns fields this provider would change (the message names the manager \
             and the fields). The object is not changed.",
        ),
        (401, _) | (_, "Unauthorized") => (
            AUTHENTICATION_FAILED,
            "The API server did not accept the provider's credentials (the message names the cluster and \
             the credentials used). Check that the token, certificate or exec plugin the provider uses for \
             this cluster is the right one and still valid.",
        ),
        (_, "Forbidden") => (
            "Permission Denied By Kubernetes",
            "The credentials the provider uses are not allowed to do this. Grant the missing permission (the \
             message names the verb and resource), or use a kubeconfig context that has it.",
        ),
        (404, _) | (_, "NotFound") => (
            "Kubernetes Object Not Found",
            "The object, or the namespace it lives in, does not exist. If the namespace should be created with \
             the job, set `spec.create_namespace = true`.",
        ),
        (409, "AlreadyExists") => (
            "Kubernetes Object Already Exists",
            "Another object with this name already exists.",
        ),
        (409, _) | (_, "Conflict") => (
            "Kubernetes Conflict",
            "Someone else changed the object at the same moment. Run `terraform apply` again.",
        ),
        (422, _) | (_, "Invalid") => (
            "Kubernetes Rejected The Object",
            "The API server's validation refused the object. Fix the attribute the message names.",
        ),
        (429, _) | (_, "TooManyRequests") => (
            "Kubernetes API Overloaded",
            "The API server kept answering 429 Too Many Requests after several retries. Try again later, or \
             apply fewer resources at once (`terraform apply -parallelism=N`).",
        ),
        (code, _) if code >= 500 => (
            "Kubernetes API Server Error",
            "The API server failed to handle the request, and kept failing after several retries. Check the \
             health of the cluster's control plane, then run `terraform apply` again.",
        ),
        _ => (
            "Kubernetes API Error",
            "The API server refused the request.",
        ),
    };
    let message = if status.message.is_empty() {
        format!("HTTP {} {}", status.code, status.reason)
    } else {
        status.message.clone()
    };
    let causes = status
        .details
        .as_ref()
        .map(|details| details.causes.as_slice())
        .unwrap_or_default();
    let mut unmapped = Vec::new();
    for cause in causes {
        match fields(&cause.field) {
            Some(path) if !cause.field.is_empty() => d.attribute_error(
                path,
                summary,
                format!(
                    "While {doing} {object}, Kubernetes rejected `{}`: {}. {hint}",
                    cause.field,
                    if cause.message.is_empty() {
                        cause.reason.as_str()
                    } else {
                        cause.message.as_str()
                    }
                ),
            ),
            _ => unmapped.push(cause),
        }
    }
    // Anything not mapped to an attribute (or a Status without causes) is
    // reported once, with the server's whole message.
    if causes.is_empty() || !unmapped.is_empty() {
        d.error(
            summary,
            format!("While {doing} {object}, the API server answered: {message}\n\n{hint}"),
        );
    }
}

/// The namespace named by a 403 whose cause is `NamespaceTerminating`, as
/// kube-apiserver sends it for a create in a namespace being deleted.
fn namespace_terminating(status: &Status) -> Option<String> {
    if !has_cause(status, "NamespaceTerminating") {
        return None;
    }
    let from_message = status
        .message
        .split("in namespace ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    Some(from_message.unwrap_or_else(|| "of the object".to_string()))
}

fn has_cause(status: &Status, reason: &str) -> bool {
    status
        .details
        .as_ref()
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == reason))
}

/// RBAC's wording: `User "..." cannot create resource "jobs" ...`.
fn is_rbac_denial(status: &Status) -> bool {
    status.message.contains(" cannot ")
}

/// A title and advice for errors that never reached the API's answer.
fn transport_hint(err: &kube::Error) -> (&'static str, &'static str) {
    match err {
        kube::Error::Auth(_) => (
            Cause::Credentials.summary(),
            "the provider could not obtain credentials for the cluster (for an exec plugin, its own error is \
             below). Check the kubeconfig user the provider uses.",
        ),
        kube::Error::RustlsTls(_) => (
            "Kubernetes TLS Error",
            "the TLS connection to the API server failed. Check the cluster's CA certificate in the \
             kubeconfig and the server address.",
        ),
        kube::Error::SerdeError(_) => (
            "Unexpected Kubernetes Answer",
            "the answer could not be decoded. Check that the server is a Kubernetes API server of a supported \
             version.",
        ),
        _ => (
            "Kubernetes API Unreachable",
            "the connection failed, even after several retries. Check that the cluster is running and that \
             the provider's kubeconfig (config_path, config_context) points at it.",
        ),
    }
}

/// `err` and every source below it, joined by ": ".
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;

    fn status(json: serde_json::Value) -> kube::Error {
        kube::Error::Api(Box::new(serde_json::from_value(json).unwrap()))
    }

    fn job() -> ObjectRef {
        ObjectRef::of::<Job>("batch", "nightly")
    }

    /// A 422 as kube-apiserver sends it: causes with known fields land on
    /// their attributes, the rest in one general error.
    #[test]
    fn invalid_maps_causes_to_paths() {
        let err = status(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "Job.batch \"nightly\" is invalid: [spec.template.spec.containers[0].image: Required value, spec.foo: Invalid value: 1: bad]",
            "reason": "Invalid", "code": 422,
            "details": {"name": "nightly", "group": "batch", "kind": "Job", "causes": [
                {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.template.spec.containers[0].image"},
                {"reason": "FieldValueInvalid", "message": "Invalid value: 1: bad", "field": "spec.foo"}
            ]}
        }));
        let mapper = |field: &str| {
            (field == "spec.template.spec.containers[0].image")
                .then(|| AttributePath::root("spec").attr("image").attr("repo"))
        };
        let d = diagnostics("applying", &job(), &err, &mapper);
        assert_eq!(d.0.len(), 2, "{d:?}");
        assert_eq!(d.0[0].summary, "Kubernetes Rejected The Object");
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "spec.image.repo");
        assert!(d.0[0].detail.contains("Job batch/nightly"));
        assert!(d.0[0].detail.contains("Required value"));
        assert!(d.0[1].path.is_none());
        assert!(d.0[1].detail.contains("spec.foo"));
    }

    /// A 403 is an RBAC denial only when it reads like one: a create in a
    /// terminating namespace (kube-apiserver's cause `NamespaceTerminating`)
    /// says so and names the namespace, and quota or webhook refusals are
    /// named as what they are.
    #[test]
    fn forbidden_is_told_apart_by_cause_and_wording() {
        let forbidden = |message: &str, causes: serde_json::Value| {
            let err = status(serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": message, "reason": "Forbidden", "code": 403,
                "details": {"name": "nightly", "group": "batch", "kind": "jobs", "causes": causes}
            }));
            diagnostics("applying", &job(), &err, &no_fields)
        };
        let d = forbidden(
            "jobs.batch \"nightly\" is forbidden: unable to create new content in namespace batch because it is being terminated",
            serde_json::json!([{"reason": "NamespaceTerminating", "message": "namespace batch is being terminated", "field": "metadata.namespace"}]),
        );
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Namespace Is Being Deleted");
        assert!(
            d.0[0]
                .detail
                .contains("The namespace batch is being deleted"),
            "{}",
            d.0[0].detail
        );
        assert!(!d.0[0].detail.contains("Grant"), "{}", d.0[0].detail);

        let d = forbidden(
            "jobs.batch is forbidden: User \"system:serviceaccount:ci:deployer\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"batch\"",
            serde_json::json!([]),
        );
        assert_eq!(d.0[0].summary, "Permission Denied By Kubernetes");
        assert!(d.0[0].detail.contains("Grant the missing permission"));

        let d = forbidden(
            "secrets \"x\" is forbidden: exceeded quota: objects, requested: count/secrets=1, used: count/secrets=10, limited: count/secrets=10",
            serde_json::json!([]),
        );
        assert_eq!(d.0[0].summary, "Kubernetes Quota Exceeded");

        let d = forbidden(
            "admission webhook \"policy.example.com\" denied the request: images must come from registry.example.com",
            serde_json::json!([]),
        );
        assert_eq!(
            d.0[0].summary,
            "Kubernetes Admission Webhook Denied The Request"
        );
    }

    /// A server-side apply conflict names the other manager; it is not "someone
    /// changed it at the same moment".
    #[test]
    fn apply_conflicts_name_the_other_manager() {
        let err = status(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.report",
            "reason": "Conflict", "code": 409,
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\" using v1", "field": ".data.report"}]}
        }));
        let d = diagnostics("applying", &job(), &err, &no_fields);
        assert_eq!(d.0[0].summary, "Kubernetes Field Ownership Conflict");
        assert!(d.0[0].detail.contains("kubectl-edit"));
    }

    /// Reasons map to titles; the detail names the object and the action.
    #[test]
    fn reasons_and_objects() {
        for (code, reason, title) in [
            (403, "Forbidden", "Kubernetes Refused The Request"),
            (401, "Unauthorized", "Kubernetes Authentication Failed"),
            (404, "NotFound", "Kubernetes Object Not Found"),
            (409, "AlreadyExists", "Kubernetes Object Already Exists"),
            (409, "Conflict", "Kubernetes Conflict"),
            (429, "TooManyRequests", "Kubernetes API Overloaded"),
            (503, "ServiceUnavailable", "Kubernetes API Server Error"),
        ] {
            let err = status(serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "something happened", "reason": reason, "code": code
            }));
            let d = diagnostics("deleting", &job(), &err, &no_fields);
            assert_eq!(d.0.len(), 1);
            assert_eq!(d.0[0].summary, title, "{code} {reason}");
            assert!(
                d.0[0]
                    .detail
                    .starts_with("While deleting Job batch/nightly")
            );
            assert!(d.0[0].detail.contains("something happened"));
        }
    }
}
