//! One LIST per namespace, kind and label selector, shared by the reads of
//! one configured cluster.
//!
//! A refresh of N jobs asks for N objects of each kind, concurrently, in a
//! handful of namespaces. Instead of one GET per object, the first read of a
//! namespace and kind lists them (with a label selector) and every other
//! read of that namespace and kind looks its object up in the same list.
//!
//! Why a shared list never shows an object that was deleted before the
//! command started: Terraform configures the provider at the start of every
//! command (each command starts its own provider process; a provider served
//! in debug mode is configured again by each command), and a new
//! configuration brings new [`SharedLists`]. So every list is made after its
//! command started, and an object deleted before that is not in it. An
//! object the list does not hold is not taken to be gone: the caller asks for
//! it by name (the list may have been made by a selector the object no longer
//! matches, or before the object was created). A write through the same
//! cluster forgets the lists ([`SharedLists::forget`]), so this process never
//! reads back an older copy of what it wrote itself.
//!
//! A LIST that fails (RBAC that allows `get` but not `list`, a timeout) is
//! remembered as failed: every read then asks by name, as if there were no
//! lists.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use kube::api::ListParams;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

/// The objects of one LIST by name; `None` when the LIST failed.
type Listed = Option<Arc<dyn Any + Send + Sync>>;

/// Which list: the kind (group, version and kind), namespace and selector.
type ListKey = (String, String, String);

/// The shared lists of one configured cluster; see the module doc.
#[derive(Default)]
pub struct SharedLists {
    slots: Mutex<HashMap<ListKey, Arc<OnceCell<Listed>>>>,
}

impl Debug for SharedLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lists = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("SharedLists")
            .field("lists", &lists)
            .finish()
    }
}

impl SharedLists {
    /// The object `name` of kind `K` in `namespace` as the shared list of
    /// `namespace` by `selector` holds it. `None` when the list does not hold
    /// it or could not be made: the caller then asks for it by name.
    pub async fn find<K>(
        &self,
        client: &Client,
        namespace: &str,
        selector: &str,
        name: &str,
    ) -> Option<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Debug
            + Send
            + Sync
            + 'static,
        K::DynamicType: Default,
    {
        let key = (
            K::api_version(&K::DynamicType::default()).to_string()
                + "/"
                + &K::kind(&Default::default()),
            namespace.to_string(),
            selector.to_string(),
        );
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        let listed = slot
            .get_or_init(|| list::<K>(client, namespace, selector))
            .await
            .clone()?;
        let by_name = listed.downcast_ref::<BTreeMap<String, K>>()?;
        by_name.get(name).cloned()
    }

    /// Drops every list: what this process writes is read back by name.
    pub fn forget(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Lists `K` in `namespace` by `selector`; `None` when that fails.
async fn list<K>(client: &Client, namespace: &str, selector: &str) -> Listed
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.list(&ListParams::default().labels(selector)).await {
        Ok(list) => {
            let by_name: BTreeMap<String, K> = list
                .items
                .into_iter()
                .filter_map(|o| Some((o.meta().name.clone()?, o)))
                .collect();
            Some(Arc::new(by_name))
        }
        Err(e) => {
            tracing::debug!(
                kind = %K::kind(&Default::default()),
                namespace,
                error = %e,
                "The shared list could not be made; reading objects one by one"
            );
            None
        }
    }
}
