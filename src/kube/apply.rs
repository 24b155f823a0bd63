//! Server-side apply: we send the whole intent for an object, and the API
//! server merges it, tracking which fields belong to our field manager.
//!
//! We apply with `force`: Terraform's configuration is the source of truth
//! for the fields it sets, so a field another manager took over (a
//! `kubectl edit`, say) is taken back. Fields we never set are left to
//! whoever set them. Deciding whether an object may be touched at all (is it
//! ours?) is the caller's job, before applying.

use std::fmt::Debug;

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The field manager every apply of this provider uses.
pub const FIELD_MANAGER: &str = "planton";

/// Applies `object` (which must carry its apiVersion, kind and name) and
/// returns the object as the server stored it.
pub async fn server_side_apply<K>(api: &Api<K>, name: &str, object: &K) -> Result<K, kube::Error>
where
    K: Clone + DeserializeOwned + Serialize + Debug,
{
    api.patch(name, &params(), &Patch::Apply(object)).await
}

/// The patch parameters of every apply.
pub fn params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies are forced and carry our field manager.
    #[test]
    fn apply_params() {
        let p = params();
        assert_eq!(p.field_manager.as_deref(), Some("planton"));
        assert!(p.force);
        assert!(!p.dry_run);
    }
}
