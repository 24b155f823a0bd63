//! Which Job an import means: the ID forms `terraform import` accepts
//! (`NAMESPACE/NAME`, `CLUSTER:NAMESPACE/NAME`) and the resource identity
//! (`{ cluster, namespace, name }`) an `import` block or a list result
//! names it by. Parsing checks each part the way Kubernetes would, so a
//! mistyped ID is refused with the accepted forms before any cluster is
//! contacted; the identity of a state is what Terraform keeps to tell the
//! Job apart.

use k8s_openapi::api::batch::v1::Job;

use crate::kube::ObjectRef;
use crate::tf::schema::{IdentityAttribute, IdentitySchema};
use crate::tf::{Diagnostics, Type, Value};

/// The ID forms `terraform import` accepts, for messages and docs.
pub const ACCEPTED_FORMS: &str = "`NAMESPACE/NAME` (for example `batch/nightly-report`), or \
`CLUSTER:NAMESPACE/NAME` for a Job in one of the provider's named `clusters` (for example \
`prod:batch/nightly-report`)";

/// Which Job to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportId {
    /// The provider's named cluster, or `None` for the provider-level one.
    pub cluster: Option<String>,
    /// The Job's namespace.
    pub namespace: String,
    /// The Job's name.
    pub name: String,
}

/// Why an import ID or identity names no Job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportIdError {
    /// Not one of the accepted forms.
    #[error("the import ID {id:?} is not in a form this resource accepts")]
    Malformed {
        /// What was given.
        id: String,
    },
    /// A part is not a valid Kubernetes name.
    #[error("the {part} {value:?} in the import ID {id:?} is not valid: {problem}")]
    InvalidPart {
        /// What was given.
        id: String,
        /// `namespace`, `name` or `cluster`.
        part: &'static str,
        /// The part's text.
        value: String,
        /// Why it is not valid.
        problem: String,
    },
    /// An identity attribute is missing or not valid.
    #[error("the identity's {part} is {problem}")]
    InvalidIdentity {
        /// `namespace`, `name` or `cluster`.
        part: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl ImportIdError {
    /// The error as a diagnostic that shows the accepted forms.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut d = Diagnostics::new();
        match self {
            ImportIdError::Malformed { id } => d.error(
                "Invalid Import ID",
                format!(
                    "The import ID {id:?} does not name a Job. planton_kubernetes_job accepts {ACCEPTED_FORMS}. \
                     With an `import` block, `identity = {{ namespace = \"...\", name = \"...\" }}` (and \
                     optionally `cluster`) works as well."
                ),
            ),
            ImportIdError::InvalidPart { .. } => d.error(
                "Invalid Import ID",
                format!("{self}. planton_kubernetes_job accepts {ACCEPTED_FORMS}."),
            ),
            ImportIdError::InvalidIdentity { .. } => d.error(
                "Invalid Import Identity",
                format!(
                    "{self}. An identity names the Job with `namespace` and `name` (both required) and, for a \
                     Job in one of the provider's named `clusters`, `cluster`."
                ),
            ),
        }
        d
    }
}

impl ImportId {
    /// Parses `NAMESPACE/NAME` or `CLUSTER:NAMESPACE/NAME`.
    pub fn parse(id: &str) -> Result<ImportId, ImportIdError> {
        let malformed = || ImportIdError::Malformed { id: id.to_string() };
        let (cluster, rest) = match id.split_once(':') {
            Some((cluster, rest)) => (Some(cluster), rest),
            None => (None, id),
        };
        let (namespace, name) = rest.split_once('/').ok_or_else(malformed)?;
        if name.contains('/') || rest.contains(':') {
            return Err(malformed());
        }
        let check = |part: &'static str, value: &str| {
            label_problem(value).map_or(Ok(()), |problem| {
                Err(ImportIdError::InvalidPart {
                    id: id.to_string(),
                    part,
                    value: value.to_string(),
                    problem,
                })
            })
        };
        if let Some(c) = cluster
            && (c.trim().is_empty() || c != c.trim())
        {
            return Err(ImportIdError::InvalidPart {
                id: id.to_string(),
                part: "cluster",
                value: c.to_string(),
                problem: "a cluster name is not empty and has no surrounding spaces".into(),
            });
        }
        check("namespace", namespace)?;
        check("name", name)?;
        Ok(ImportId {
            cluster: cluster.map(str::to_string),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// Reads an identity value (`{ cluster, namespace, name }`).
    pub fn from_identity(identity: &Value) -> Result<ImportId, ImportIdError> {
        let text = |part: &'static str| -> Result<Option<String>, ImportIdError> {
            match identity.get(part) {
                Value::Null => Ok(None),
                v => match v.as_str() {
                    Some(s) => Ok(Some(s.to_string())),
                    None => Err(ImportIdError::InvalidIdentity {
                        part,
                        problem: "not a known string".into(),
                    }),
                },
            }
        };
        let required = |part: &'static str| -> Result<String, ImportIdError> {
            let value = text(part)?.ok_or(ImportIdError::InvalidIdentity {
                part,
                problem: "missing".into(),
            })?;
            match label_problem(&value) {
                Some(problem) => Err(ImportIdError::InvalidIdentity {
                    part,
                    problem: format!("{value:?}, which is not a valid Kubernetes name: {problem}"),
                }),
                None => Ok(value),
            }
        };
        Ok(ImportId {
            namespace: required("namespace")?,
            name: required("name")?,
            cluster: text("cluster")?.filter(|c| !c.is_empty()),
        })
    }

    /// The identity value of this Job.
    pub fn identity(&self) -> Value {
        Value::object([
            (
                "cluster",
                self.cluster.clone().map(Value::String).unwrap_or_default(),
            ),
            ("namespace", Value::string(&self.namespace)),
            ("name", Value::string(&self.name)),
        ])
    }

    /// The Job.
    pub fn job_ref(&self) -> ObjectRef {
        ObjectRef::of::<Job>(&self.namespace, &self.name)
    }
}

impl std::fmt::Display for ImportId {
    /// The ID form: `ns/name` or `cluster:ns/name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.cluster {
            write!(f, "{c}:")?;
        }
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Why `s` is not a DNS-1123 label (Job and namespace names), if it is not.
fn label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 63 {
        return Some(format!("it has {} characters (at most 63)", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "it contains {c:?}; only lowercase letters, digits and '-' are allowed"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("it starts or ends with '-'".into());
    }
    None
}

/// The resource identity schema: `cluster` (optional), `namespace` and
/// `name` (required for import).
pub fn identity_schema() -> IdentitySchema {
    let attr = |name: &str, required: bool, description: &str| IdentityAttribute {
        name: name.to_string(),
        ty: Type::String,
        required_for_import: required,
        optional_for_import: !required,
        description: description.to_string(),
    };
    IdentitySchema {
        version: 0,
        attributes: vec![
            attr(
                "cluster",
                false,
                "Name of the provider's `clusters` entry the Job runs in (`spec.target_cluster.cluster_name`); \
                 null for the provider-level cluster.",
            ),
            attr("namespace", true, "Namespace of the Job."),
            attr("name", true, "Name of the Job (`metadata.name`)."),
        ],
    }
}

/// The identity of the Job a state describes; `None` until its namespace
/// and name are known. Both replace the Job when they change, and so does
/// the cluster, so the identity never changes over a Job's life.
pub fn identity_of_state(state: &Value) -> Option<Value> {
    let namespace = state.get("spec").get("namespace").get("value").as_str()?;
    let name = state.get("metadata").get("name").as_str()?;
    let cluster = state
        .get("spec")
        .get("target_cluster")
        .get("cluster_name")
        .as_str()
        .filter(|c| !c.is_empty());
    Some(Value::object([
        ("cluster", cluster.map(Value::string).unwrap_or_default()),
        ("namespace", Value::string(namespace)),
        ("name", Value::string(name)),
    ]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::kubernetes_job::testing;

    /// Every accepted form, and each malformed one with the error it gets.
    #[test]
    fn id_parsing_table() {
        let ok = |cluster: Option<&str>, ns: &str, name: &str| {
            Ok(ImportId {
                cluster: cluster.map(str::to_string),
                namespace: ns.to_string(),
                name: name.to_string(),
            })
        };
        let malformed =
            |id: &str| Err::<ImportId, _>(ImportIdError::Malformed { id: id.to_string() });
        let cases: Vec<(&str, Result<ImportId, ImportIdError>)> = vec![
            ("batch/nightly", ok(None, "batch", "nightly")),
            ("prod:batch/nightly", ok(Some("prod"), "batch", "nightly")),
            ("prod-eu.1:a-1/b-2", ok(Some("prod-eu.1"), "a-1", "b-2")),
            ("nightly", malformed("nightly")),
            ("", malformed("")),
            ("a/b/c", malformed("a/b/c")),
            ("x:a:b/c", malformed("x:a:b/c")),
            ("a/b:c", malformed("a/b:c")),
        ];
        for (id, want) in cases {
            assert_eq!(ImportId::parse(id), want, "{id:?}");
        }
        for (id, part) in [
            ("Batch/nightly", "namespace"),
            ("batch/Nightly", "name"),
            ("/nightly", "namespace"),
            ("batch/", "name"),
            ("batch/-x", "name"),
            (":batch/x", "cluster"),
            (" prod:batch/x", "cluster"),
        ] {
            match ImportId::parse(id) {
                Err(ImportIdError::InvalidPart { part: p, .. }) => assert_eq!(p, part, "{id:?}"),
                other => panic!("{id:?}: {other:?}"),
            }
        }
    }

    /// A malformed ID's error shows both accepted forms.
    #[test]
    fn malformed_id_error_lists_forms() {
        let d = ImportId::parse("nightly").unwrap_err().diagnostics();
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.summary, "Invalid Import ID");
        assert!(diag.detail.contains("NAMESPACE/NAME"), "{}", diag.detail);
        assert!(
            diag.detail.contains("CLUSTER:NAMESPACE/NAME"),
            "{}",
            diag.detail
        );
    }

    /// Identities: namespace and name required, cluster optional; the
    /// identity of a state is the same value.
    #[test]
    fn identities() {
        let identity = Value::object([
            ("cluster", Value::Null),
            ("namespace", Value::string("batch")),
            ("name", Value::string("nightly")),
        ]);
        let id = ImportId::from_identity(&identity).unwrap();
        assert_eq!(id.to_string(), "batch/nightly");
        assert_eq!(id.identity(), identity);
        let missing = Value::object([("namespace", Value::string("batch"))]);
        assert!(matches!(
            ImportId::from_identity(&missing),
            Err(ImportIdError::InvalidIdentity { part: "name", .. })
        ));
        let state = testing::config(&json!({
            "metadata": {"name": "nightly"},
            "spec": {"namespace": {"value": "batch"}, "image": {"repo": "busybox"},
                     "target_cluster": {"cluster_name": "prod"}}
        }))
        .unwrap();
        assert_eq!(
            identity_of_state(&state).unwrap(),
            ImportId::parse("prod:batch/nightly").unwrap().identity()
        );
        let s = identity_schema();
        let required: Vec<_> = s
            .attributes
            .iter()
            .filter(|a| a.required_for_import)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(required, ["namespace", "name"]);
    }
}
