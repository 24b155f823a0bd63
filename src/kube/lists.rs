//! One LIST per namespace, kind and label selector, shared by the reads of
//! one configured cluster.
//!
//! A refresh of N jobs asks for N objects of each kind, concurrently, in a
//! handful of namespaces. Instead of one GET per object, a namespace and
//! kind is listed once (with a label selector) and the reads of that
//! namespace and kind look their objects up in the same list. The first
//! [`LIST_AFTER`] reads of a namespace and kind still ask by name: a state
//! with a few jobs in a namespace crowded with other states' jobs never
//! downloads them all, and one job per namespace (Planton's usual layout)
//! costs what it did.
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

use std::any::{Any, type_name};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::ListParams;
use kube::{Client, Resource};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

/// The shape each item of a shared list is read into: only the fields its
/// callers read. serde skips the rest of every object as it parses, so a
/// list of a thousand objects takes little memory (a Job's pod template and
/// managed fields are most of it).
pub trait ListItem: DeserializeOwned + Clone + Send + Sync + 'static {
    /// The kind whose collection is listed.
    type Kind: Resource<Scope = NamespaceResourceScope>;

    /// The object's name.
    fn name(&self) -> Option<&str>;
}

/// The objects of one LIST by name; `None` when the LIST failed.
type Listed = Option<Arc<dyn Any + Send + Sync>>;

/// Which list: the item shape, namespace and selector.
type ListKey = (&'static str, String, String);

/// How many reads of a namespace and kind ask by name before the rest
/// share a list: as many as Terraform sends at once by default.
pub const LIST_AFTER: usize = 10;

/// One list: the reads it has seen, and the list once made.
#[derive(Default)]
struct Slot {
    reads: usize,
    listed: Arc<OnceCell<Listed>>,
}

/// The shared lists of one configured cluster; see the module doc.
#[derive(Default)]
pub struct SharedLists {
    slots: Mutex<HashMap<ListKey, Slot>>,
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
    /// The object `name` in `namespace` as the shared list of `namespace`
    /// by `selector` holds it. `None` when the list does not hold it, could
    /// not be made, or is not made yet because this is one of the first
    /// [`LIST_AFTER`] reads of the namespace: the caller then asks for it by
    /// name.
    pub async fn find<T: ListItem>(
        &self,
        client: &Client,
        namespace: &str,
        selector: &str,
        name: &str,
    ) -> Option<T>
    where
        <T::Kind as Resource>::DynamicType: Default,
    {
        let key = (
            type_name::<T>(),
            namespace.to_string(),
            selector.to_string(),
        );
        let listed = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = slots.entry(key).or_default();
            slot.reads += 1;
            if slot.reads <= LIST_AFTER {
                return None;
            }
            slot.listed.clone()
        };
        let listed = listed
            .get_or_init(|| list::<T>(client, namespace, selector))
            .await
            .clone()?;
        let by_name = listed.downcast_ref::<BTreeMap<String, T>>()?;
        by_name.get(name).cloned()
    }

    /// Drops every list: what this process writes is read back by name.
    pub fn forget(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Marks a write through this cluster, for as long as the guard lives:
    /// the lists are forgotten now and again when it is dropped, since a
    /// list made while the write was under way may hold what was there
    /// before it.
    pub fn writing(self: &Arc<Self>) -> Writing {
        self.forget();
        Writing(self.clone())
    }
}

/// A write under way; see [`SharedLists::writing`].
#[derive(Debug)]
pub struct Writing(Arc<SharedLists>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.forget();
    }
}

/// Objects per page of a list: the whole list is never in one response, so
/// the memory a list takes is its items plus one page.
const PAGE: u32 = 250;

/// One page of a list, as [`ListItem`]s.
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default = "Option::default")]
    items: Option<Vec<T>>,
}

/// Lists `T::Kind` in `namespace` by `selector`, page by page; `None` when
/// that fails (a continued page that expired included).
async fn list<T: ListItem>(client: &Client, namespace: &str, selector: &str) -> Listed
where
    <T::Kind as Resource>::DynamicType: Default,
{
    let path = T::Kind::url_path(&Default::default(), Some(namespace));
    let mut by_name: BTreeMap<String, T> = BTreeMap::new();
    let mut params = ListParams::default().labels(selector).limit(PAGE);
    loop {
        let page = match kube::core::Request::new(&path).list(&params) {
            Ok(request) => client.request::<Page<T>>(request).await,
            Err(e) => Err(kube::Error::BuildRequest(e)),
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                tracing::debug!(
                    collection = %path,
                    error = %e,
                    "The shared list could not be made; reading objects one by one"
                );
                return None;
            }
        };
        for item in page.items.unwrap_or_default() {
            if let Some(name) = item.name() {
                by_name.insert(name.to_string(), item);
            }
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    Some(Arc::new(by_name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::Api;
    use kube::api::PostParams;
    use kube_emulator::EmulatorConfig;
    use serde_json::json;

    use super::*;
    use crate::kube::testing::World;

    /// A ConfigMap as a list holds it: its name and one data key.
    #[derive(Debug, Clone, Deserialize)]
    struct Listed {
        metadata: ListedName,
        data: Option<BTreeMap<String, String>>,
    }

    #[derive(Debug, Clone, Deserialize)]
    struct ListedName {
        name: Option<String>,
    }

    impl ListItem for Listed {
        type Kind = ConfigMap;
        fn name(&self) -> Option<&str> {
            self.metadata.name.as_deref()
        }
    }

    /// GET requests the emulator counted to `path` since the last reset.
    async fn gets(w: &World, path: &str) -> u64 {
        w.admin("GET", "requests", None)
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["method"] == "GET" && c["path"] == path)
            .map(|c| c["count"].as_u64().unwrap())
            .sum()
    }

    /// The first `LIST_AFTER` finds of a namespace list nothing (their
    /// callers ask by name).
    async fn pass_the_first_reads(lists: &SharedLists, client: &Client, ns: &str) {
        for _ in 0..LIST_AFTER {
            assert!(
                lists
                    .find::<Listed>(client, ns, "listed=yes", "cm-0000")
                    .await
                    .is_none()
            );
        }
    }

    /// After the first reads of a namespace, concurrent finds share one
    /// list, read page by page; what the selector leaves out is not found;
    /// `forget` starts again; a refused list is remembered and every find
    /// then answers `None`.
    #[tokio::test]
    async fn finds_share_one_paged_list_until_forgotten() {
        let w = World::start(EmulatorConfig::fast()).await;
        let client = w.client.clone();
        let ns = "paged";
        client
            .request::<serde_json::Value>(
                http::Request::post("/api/v1/namespaces")
                    .header("content-type", "application/json")
                    .body(json!({"metadata": {"name": ns}}).to_string().into_bytes())
                    .unwrap(),
            )
            .await
            .unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        let count = PAGE as usize + 10;
        for i in 0..count {
            let cm: ConfigMap = serde_json::from_value(json!({
                "metadata": {"name": format!("cm-{i:04}"), "labels": {"listed": "yes"}},
                "data": {"n": i.to_string()}
            }))
            .unwrap();
            cms.create(&PostParams::default(), &cm).await.unwrap();
        }
        let unlabelled: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": "cm-other"}})).unwrap();
        cms.create(&PostParams::default(), &unlabelled)
            .await
            .unwrap();

        let lists = Arc::new(SharedLists::default());
        let collection = format!("/api/v1/namespaces/{ns}/configmaps");
        let last = format!("cm-{:04}", count - 1);
        w.admin("DELETE", "requests", None).await;
        pass_the_first_reads(&lists, &client, ns).await;
        assert_eq!(
            gets(&w, &collection).await,
            0,
            "no list for the first reads"
        );
        let (first, last_found, other) = tokio::join!(
            lists.find::<Listed>(&client, ns, "listed=yes", "cm-0000"),
            lists.find::<Listed>(&client, ns, "listed=yes", &last),
            lists.find::<Listed>(&client, ns, "listed=yes", "cm-other"),
        );
        assert_eq!(first.unwrap().data.unwrap()["n"], "0");
        assert_eq!(
            last_found.unwrap().data.unwrap()["n"],
            (count - 1).to_string()
        );
        assert!(other.is_none(), "the selector leaves it out");
        assert_eq!(gets(&w, &collection).await, 2, "two pages, listed once");

        // Held until forgotten, when a write starts and again when it ends;
        // then the first reads ask by name again.
        assert!(
            lists
                .find::<Listed>(&client, ns, "listed=yes", "cm-0005")
                .await
                .is_some()
        );
        assert_eq!(gets(&w, &collection).await, 2);
        let writing = lists.writing();
        pass_the_first_reads(&lists, &client, ns).await;
        assert!(
            lists
                .find::<Listed>(&client, ns, "listed=yes", "cm-0005")
                .await
                .is_some()
        );
        assert_eq!(gets(&w, &collection).await, 4, "listed during the write");
        drop(writing);
        pass_the_first_reads(&lists, &client, ns).await;
        assert!(
            lists
                .find::<Listed>(&client, ns, "listed=yes", "cm-0005")
                .await
                .is_some()
        );
        assert_eq!(gets(&w, &collection).await, 6, "and again after it");

        // A refused list: nothing is found, and it is not asked again.
        lists.forget();
        w.admin(
            "POST",
            "faults",
            Some(json!({"method": "GET", "pathPrefix": collection, "action": "status", "code": 403, "times": 1})),
        )
        .await;
        w.admin("DELETE", "requests", None).await;
        pass_the_first_reads(&lists, &client, ns).await;
        assert!(
            lists
                .find::<Listed>(&client, ns, "listed=yes", "cm-0000")
                .await
                .is_none()
        );
        assert!(
            lists
                .find::<Listed>(&client, ns, "listed=yes", "cm-0001")
                .await
                .is_none()
        );
        assert_eq!(gets(&w, &collection).await, 1);
    }
}
