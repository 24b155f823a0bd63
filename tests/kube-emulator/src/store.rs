//! The object store: JSON objects per resource, one global resourceVersion counter,
//! and a bounded history of changes that watches resume from (older than the history
//! is "too old", 410 Gone, as after an etcd compaction). It also keeps the
//! controllers' failed writes ([`FailedWrites`]): every controller writes under
//! the store's lock, so the store is where they all can report one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::meta;
use crate::resources::RESOURCES;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug)]
pub struct Change {
    /// The resourceVersion the change was committed at.
    pub rv: u64,
    /// Index into [`RESOURCES`].
    pub resource: usize,
    /// What happened.
    pub kind: EventType,
    /// The object before the change (Modified, Deleted).
    pub old: Option<Arc<Value>>,
    /// The object after the change (for Deleted: the last state, at the deletion's rv).
    pub object: Arc<Value>,
}

type Key = (String, String);

/// How many failed controller writes [`FailedWrites::recent`] keeps.
const RECENT_FAILED_WRITES: usize = 20;

/// Controller writes that failed (see [`crate::controllers::check_write`]).
#[derive(Debug, Default)]
pub struct FailedWrites {
    /// How many since the emulator started; a reset does not zero it.
    pub count: u64,
    /// The latest few, oldest first: which controller, what, and the error.
    pub recent: VecDeque<String>,
}

impl FailedWrites {
    /// `{"count": N, "recent": [...]}`, as `GET /__emulator/failed-writes` answers.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"count": self.count, "recent": self.recent})
    }
}

/// All objects and the change history.
pub struct Store {
    rv: u64,
    objects: Vec<BTreeMap<Key, Arc<Value>>>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    oldest_rv: u64,
    tx: broadcast::Sender<Arc<Change>>,
    failed_writes: FailedWrites,
}

/// The backlog of a watch and a receiver for what follows.
pub type WatchStart = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>);

/// Why a watch cannot start at the asked resourceVersion.
#[derive(Debug)]
pub enum WatchStartError {
    /// Older than the retained history: (asked, oldest retained).
    TooOld(u64, u64),
}

impl Store {
    /// An empty store keeping `history_limit` changes for watches.
    pub fn new(history_limit: usize) -> Self {
        let (tx, _) = broadcast::channel(16_384);
        Self {
            rv: 0,
            objects: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            oldest_rv: 0,
            tx,
            failed_writes: FailedWrites::default(),
        }
    }

    /// The current (latest committed) resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// The oldest resourceVersion a watch may start from.
    pub fn oldest_rv(&self) -> u64 {
        self.oldest_rv
    }

    /// One object.
    pub fn get(&self, res: usize, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(res)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of a resource, in (namespace, name) order; `ns` limits to one namespace.
    pub fn list(&self, res: usize, ns: Option<&str>) -> Vec<Arc<Value>> {
        let Some(map) = self.objects.get(res) else {
            return Vec::new();
        };
        match ns {
            Some(ns) => map
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => map.values().cloned().collect(),
        }
    }

    /// Number of objects of a resource.
    pub fn count(&self, res: usize) -> usize {
        self.objects.get(res).map_or(0, BTreeMap::len)
    }

    fn bump(&mut self, obj: &mut Value) -> u64 {
        self.rv += 1;
        meta::set(
            obj,
            &["metadata", "resourceVersion"],
            Value::String(self.rv.to_string()),
        );
        self.rv
    }

    fn record(&mut self, change: Change) {
        let change = Arc::new(change);
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.oldest_rv = old.rv;
            }
        }
        let _ = self.tx.send(change);
    }

    /// Insert a new object, assigning its resourceVersion.
    pub fn insert(&mut self, res: usize, obj: Value) -> Arc<Value> {
        self.put(res, obj, true)
    }

    /// Replace an existing object, assigning a new resourceVersion.
    pub fn replace(&mut self, res: usize, obj: Value) -> Arc<Value> {
        self.put(res, obj, false)
    }

    /// Store `obj` at a new resourceVersion and record the change: ADDED when
    /// `new` or nothing was there, else MODIFIED with the old object.
    fn put(&mut self, res: usize, mut obj: Value, new: bool) -> Arc<Value> {
        let rv = self.bump(&mut obj);
        let key = (
            meta::namespace(&obj).to_string(),
            meta::name(&obj).to_string(),
        );
        let obj = Arc::new(obj);
        let old = self
            .objects
            .get_mut(res)
            .and_then(|m| m.insert(key, obj.clone()))
            .filter(|_| !new);
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(Change {
            rv,
            resource: res,
            kind,
            old,
            object: obj.clone(),
        });
        obj
    }

    /// Remove an object; the DELETED event carries it at a new resourceVersion.
    pub fn remove(&mut self, res: usize, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(res)?
            .remove(&(ns.to_string(), name.to_string()))?;
        let mut last = (*old).clone();
        let rv = self.bump(&mut last);
        let last = Arc::new(last);
        self.record(Change {
            rv,
            resource: res,
            kind: EventType::Deleted,
            old: Some(old),
            object: last.clone(),
        });
        Some(last)
    }

    /// Changes after `rv` plus a receiver for later ones, or why that is impossible.
    pub fn watch_from(&self, rv: u64) -> Result<WatchStart, WatchStartError> {
        if rv < self.oldest_rv {
            return Err(WatchStartError::TooOld(rv, self.oldest_rv));
        }
        let backlog = self.history.iter().filter(|c| c.rv > rv).cloned().collect();
        Ok((backlog, self.tx.subscribe()))
    }

    /// A receiver for every later change (controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Forget the change history, as an etcd compaction does: watches from older
    /// resourceVersions then get 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.oldest_rv = self.rv;
    }

    /// Records a controller write that failed.
    pub fn note_failed_write(&mut self, line: String) {
        let f = &mut self.failed_writes;
        f.count += 1;
        f.recent.push_back(line);
        while f.recent.len() > RECENT_FAILED_WRITES {
            f.recent.pop_front();
        }
    }

    /// The controller writes that failed.
    pub fn failed_writes(&self) -> &FailedWrites {
        &self.failed_writes
    }

    /// Remove every object (DELETED events are sent); the counter keeps
    /// counting, and the failed controller writes stay recorded.
    pub fn clear(&mut self) {
        for res in 0..self.objects.len() {
            let keys: Vec<Key> = self.objects[res].keys().cloned().collect();
            for (ns, name) in keys {
                self.remove(res, &ns, &name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_versions_are_global_and_history_bounded() {
        let mut s = Store::new(2);
        let a = s.insert(1, json!({"metadata": {"name": "a", "namespace": "n"}}));
        let b = s.insert(2, json!({"metadata": {"name": "b", "namespace": "n"}}));
        assert_eq!(meta::resource_version(&a), 1);
        assert_eq!(meta::resource_version(&b), 2);
        s.insert(1, json!({"metadata": {"name": "c", "namespace": "n"}}));
        assert!(matches!(
            s.watch_from(0),
            Err(WatchStartError::TooOld(0, 1))
        ));
        assert_eq!(s.watch_from(1).map(|(b, _)| b.len()).unwrap_or(0), 2);
        assert_eq!(s.list(1, Some("n")).len(), 2);
    }
}
