//! Garbage collector: dependents of a deleted owner are deleted (background),
//! `foregroundDeletion` owners wait for their blocking dependents to go, and
//! `orphan` owners release their dependents first.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::controllers::check_write;
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions};
use crate::resources::{RESOURCES, by_index};
use crate::store::Store;

struct Dependent {
    res: usize,
    obj: Arc<Value>,
    blocks: bool,
}

fn owner_refs(obj: &Value) -> Vec<Value> {
    meta::get(obj, &["metadata", "ownerReferences"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn kind_index(kind: &str) -> Option<usize> {
    RESOURCES.iter().position(|r| r.kind == kind)
}

/// One pass.
pub fn reconcile(store: &mut Store) {
    let ctx = Ctx::controller("generic-garbage-collector");
    let background = DeleteOptions {
        propagation: Some("Background".into()),
        ..DeleteOptions::default()
    };
    let mut dependents: HashMap<String, Vec<Dependent>> = HashMap::new();
    let mut all: Vec<(usize, Arc<Value>)> = Vec::new();
    for (res, _) in RESOURCES.iter().enumerate() {
        for obj in store.list(res, None) {
            for r in owner_refs(&obj) {
                if let Some(uid) = r.get("uid").and_then(Value::as_str) {
                    let blocks = r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true);
                    dependents
                        .entry(uid.to_string())
                        .or_default()
                        .push(Dependent {
                            res,
                            obj: obj.clone(),
                            blocks,
                        });
                }
            }
            all.push((res, obj));
        }
    }
    for (res, obj) in &all {
        if !meta::is_deleting(obj) {
            continue;
        }
        let fins = meta::finalizers(obj);
        let uid = meta::uid(obj).to_string();
        let deps = dependents.get(&uid).map(Vec::as_slice).unwrap_or(&[]);
        if fins.iter().any(|f| f == "orphan") {
            for d in deps {
                let Some(cur) = store.get(d.res, meta::namespace(&d.obj), meta::name(&d.obj))
                else {
                    continue;
                };
                let refs: Vec<Value> = owner_refs(&cur)
                    .into_iter()
                    .filter(|r| r.get("uid").and_then(Value::as_str) != Some(&uid))
                    .collect();
                let mut new = (*cur).clone();
                if refs.is_empty() {
                    meta::remove(&mut new, &["metadata", "ownerReferences"]);
                } else {
                    meta::set(&mut new, &["metadata", "ownerReferences"], json!(refs));
                }
                ops::internal_write(store, d.res, &cur, new, "generic-garbage-collector", "");
            }
            remove_finalizer(store, *res, obj, "orphan");
        } else if fins.iter().any(|f| f == "foregroundDeletion") {
            let mut blocking = 0;
            for d in deps {
                let Some(cur) = store.get(d.res, meta::namespace(&d.obj), meta::name(&d.obj))
                else {
                    continue;
                };
                if d.blocks {
                    blocking += 1;
                }
                if !meta::is_deleting(&cur) {
                    let deleted = ops::delete(
                        store,
                        by_index(d.res),
                        meta::namespace(&cur),
                        meta::name(&cur),
                        &background,
                        &ctx,
                    );
                    check_write(store, &ctx, || describe(d.res, &cur), deleted);
                }
            }
            if blocking == 0 {
                remove_finalizer(store, *res, obj, "foregroundDeletion");
            }
        }
    }
    // Dependents whose owners are all gone.
    for (res, obj) in &all {
        let refs = owner_refs(obj);
        if refs.is_empty() || meta::is_deleting(obj) {
            continue;
        }
        let ns = meta::namespace(obj);
        let all_gone = refs.iter().all(|r| {
            let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            let uid = r.get("uid").and_then(Value::as_str).unwrap_or("");
            let Some(owner_res) = kind_index(kind) else {
                return false;
            };
            let owner_ns = if by_index(owner_res).namespaced {
                ns
            } else {
                ""
            };
            store
                .get(owner_res, owner_ns, name)
                .is_none_or(|o| meta::uid(&o) != uid)
        });
        if all_gone && store.get(*res, ns, meta::name(obj)).is_some() {
            let deleted = ops::delete(
                store,
                by_index(*res),
                ns,
                meta::name(obj),
                &background,
                &ctx,
            );
            check_write(store, &ctx, || describe(*res, obj), deleted);
        }
    }
}

/// "delete Kind ns/name" for a failed write.
fn describe(res: usize, obj: &Value) -> String {
    format!(
        "delete {} {}/{}",
        by_index(res).kind,
        meta::namespace(obj),
        meta::name(obj)
    )
}

fn remove_finalizer(store: &mut Store, res: usize, obj: &Arc<Value>, fin: &str) {
    super::remove_finalizer(store, res, obj, fin, "generic-garbage-collector");
}
