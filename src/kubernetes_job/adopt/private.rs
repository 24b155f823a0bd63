//! What import leaves for later in the resource's private state, under a
//! key of its own next to the lifecycle's ([`ImportPrivate`]): that the
//! state came from an import and has not been applied since, and, for a
//! Job this provider did not create, what its spec cannot express
//! ([`Adopted`]). The plan after an import, apply and read consult it; the
//! other keys of the private state are kept as they are.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::kubernetes_job::adopt::kept::Adopted;

/// What import learned that the state cannot hold, kept in private state
/// under its own key, next to (and unseen by) the lifecycle's
/// [`Private`](crate::kubernetes_job::model::state::Private).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPrivate {
    /// The state came from an import and has not been applied since: the
    /// attributes import cannot read back are taken from the configuration
    /// without replacing anything (by the plan after an import).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
    /// For a Job this provider did not create: what its spec cannot express.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
    /// The state came from a `moved` block ([`super::moved`]): the kept pod
    /// template was rebuilt from the other provider's state, and the next
    /// refresh takes the live Job's instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moved: bool,
}

/// The key of [`ImportPrivate`] in the private state's JSON object.
const PRIVATE_KEY: &str = "import";

impl ImportPrivate {
    /// Reads it from private bytes; anything else means "nothing".
    pub fn from_private(bytes: &[u8]) -> ImportPrivate {
        serde_json::from_slice::<J>(bytes)
            .ok()
            .and_then(|mut j| j.get_mut(PRIVATE_KEY).map(J::take))
            .and_then(|j| serde_json::from_value(j).ok())
            .unwrap_or_default()
    }

    /// Writes it into private bytes (a JSON object, or empty), keeping
    /// every other key.
    pub fn merge_into(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut object = match serde_json::from_slice::<J>(&bytes) {
            Ok(J::Object(m)) => m,
            _ if bytes.is_empty() => Map::new(),
            // Not ours to interpret; leave it untouched.
            _ => return bytes,
        };
        if *self == ImportPrivate::default() {
            object.remove(PRIVATE_KEY);
        } else {
            match serde_json::to_value(self) {
                Ok(v) => {
                    object.insert(PRIVATE_KEY.to_string(), v);
                }
                Err(_) => return bytes,
            }
        }
        if object.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&J::Object(object)).unwrap_or(bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::kubernetes_job::model::state;

    /// Private bytes keep both the lifecycle's keys and import's.
    #[test]
    fn private_state_merges() {
        let lifecycle = state::Private {
            job_reaped: true,
            ..state::Private::default()
        }
        .to_bytes();
        let ours = ImportPrivate {
            imported: true,
            adopted: None,
            moved: false,
        };
        let merged = ours.merge_into(lifecycle);
        assert!(state::Private::from_bytes(&merged).job_reaped);
        assert_eq!(ImportPrivate::from_private(&merged), ours);
        assert!(ImportPrivate::default().merge_into(Vec::new()).is_empty());
        assert_eq!(
            ImportPrivate::from_private(b"junk"),
            ImportPrivate::default()
        );
    }
}
