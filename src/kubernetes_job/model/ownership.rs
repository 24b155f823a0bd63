//! Which Kubernetes objects belong to which `planton_kubernetes_job`.
//!
//! Labels alone cannot tell: two Terraform states (two workspaces, two
//! teams) that declare a job with the same name and namespace render the
//! same `planton.ai/*` labels. So each resource instance gets an identity of
//! its own when it is created, an [`Instance`]: a random id kept in the
//! resource's private state and written as the label `planton.ai/instance`
//! on every object it makes. An object is this instance's when
//!
//! - it is tracked in state: its UID is the one recorded (a re-created
//!   object with the same name is someone else's, whatever its labels); or
//! - it is new: this apply created it (a create never overwrites, so there is
//!   no window between checking and writing), or it already carries this
//!   instance's label and is not tracked (an earlier attempt of this same
//!   apply created it but its answer was lost).
//!
//! Anything else is left alone, and the apply fails saying whose it is.
//! No design can tell "left behind by an interrupted apply of this same
//! state" (whose identity was never saved) from "made by another state with
//! the same configuration": both carry another instance's label. Sharing
//! objects silently between states is worse than one explicit step, so the
//! error names the way back (`terraform import`).
//!
//! A Namespace is the exception: several jobs may declare
//! `create_namespace = true` for the same namespace. Each one claims it with
//! a label `claims.planton.ai/<instance>` applied under a field manager of
//! its own, so that the claims never fight; the Namespace is deleted only
//! when the last claim goes, and never while other objects live in it.

use std::collections::BTreeMap;

use serde_json::{Map, Value as J};

/// Label: the resource instance that created the object.
pub const LABEL_INSTANCE: &str = "planton.ai/instance";
/// Label prefix of a Namespace claim: `claims.planton.ai/<instance>`, whose
/// value is the claiming job's name.
pub const CLAIM_PREFIX: &str = "claims.planton.ai/";
/// The key of the instance in the private state's JSON object.
const PRIVATE_KEY: &str = "instance";

/// A resource instance's identity: 32 lowercase hex digits (128 random
/// bits), valid as a label value and in a label key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instance(String);

impl Instance {
    /// A new random identity.
    pub fn generate() -> Instance {
        let mut bytes = [0u8; 16];
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        if provider.secure_random.fill(&mut bytes).is_err() {
            // The system's randomness failed; time and process id still
            // make a collision between two states practically impossible.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            bytes = (now ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
        }
        Instance(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// An identity read back from a label or the private state, when it has
    /// the right form.
    pub fn parse(text: &str) -> Option<Instance> {
        (text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Instance(text.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instance that created an object, from its labels.
    pub fn of(labels: Option<&BTreeMap<String, String>>) -> Option<Instance> {
        labels
            .and_then(|l| l.get(LABEL_INSTANCE))
            .and_then(|v| Instance::parse(v))
    }

    /// This instance's claim label on a shared Namespace.
    pub fn claim_label(&self) -> String {
        format!("{CLAIM_PREFIX}{}", self.0)
    }

    /// The field manager of this instance's claim on a Namespace: its own,
    /// so that one job's apply never removes another job's claim.
    pub fn namespace_manager(&self) -> String {
        format!("planton-namespace-{}", self.0)
    }

    /// Reads the instance from private bytes; `None` for states written
    /// before instances existed (and for anything unreadable).
    pub fn from_private(bytes: &[u8]) -> Option<Instance> {
        serde_json::from_slice::<J>(bytes)
            .ok()?
            .get(PRIVATE_KEY)?
            .as_str()
            .and_then(Instance::parse)
    }

    /// Writes the instance into private bytes (a JSON object, or empty),
    /// keeping every other key.
    pub fn merge_into(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut object = match serde_json::from_slice::<J>(&bytes) {
            Ok(J::Object(m)) => m,
            _ if bytes.is_empty() => Map::new(),
            // Not ours to interpret; leave it untouched.
            _ => return bytes,
        };
        object.insert(PRIVATE_KEY.to_string(), J::String(self.0.clone()));
        serde_json::to_vec(&J::Object(object)).unwrap_or(bytes)
    }
}

impl std::fmt::Display for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The claims on a Namespace: instance id to the claiming job's name.
pub fn claims(labels: Option<&BTreeMap<String, String>>) -> BTreeMap<String, String> {
    labels
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.strip_prefix(CLAIM_PREFIX)?.to_string(), v.clone())))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Identities are random, well-formed, and survive the private state
    /// next to other keys.
    #[test]
    fn instances_are_unique_and_round_trip() {
        let a = Instance::generate();
        let b = Instance::generate();
        assert_ne!(a, b);
        assert_eq!(Instance::parse(a.as_str()), Some(a.clone()));
        assert_eq!(Instance::parse("ABC"), None);
        assert_eq!(Instance::parse(&"A".repeat(32)), None);

        let other = br#"{"import":{"imported":true}}"#.to_vec();
        let bytes = a.merge_into(other);
        assert_eq!(Instance::from_private(&bytes), Some(a.clone()));
        let j: J = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(j["import"]["imported"], J::Bool(true));
        assert_eq!(Instance::from_private(&a.merge_into(Vec::new())), Some(a));
        assert_eq!(Instance::from_private(b""), None);
    }

    #[test]
    fn claims_are_read_from_labels() {
        let a = Instance::generate();
        let labels = BTreeMap::from([
            (a.claim_label(), "nightly".to_string()),
            ("planton.ai/resource".to_string(), "true".to_string()),
        ]);
        assert_eq!(
            claims(Some(&labels)),
            BTreeMap::from([(a.as_str().to_string(), "nightly".to_string())])
        );
        assert!(claims(None).is_empty());
    }
}
