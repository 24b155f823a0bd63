//! Namespace termination: a namespace marked for deletion (phase Terminating)
//! has its content deleted; once it is empty the `kubernetes` finalizer goes and
//! the namespace with it.

use serde_json::json;

use crate::controllers::check_write;
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions};
use crate::resources::{NAMESPACES, RESOURCES};
use crate::store::Store;

/// One pass.
pub fn reconcile(store: &mut Store) {
    let ctx = Ctx::controller("namespace-controller");
    let background = DeleteOptions {
        propagation: Some("Background".into()),
        ..DeleteOptions::default()
    };
    for ns in store.list(NAMESPACES, None) {
        if !meta::is_deleting(&ns) {
            continue;
        }
        let name = meta::name(&ns).to_string();
        let mut remaining = 0;
        for rt in RESOURCES.iter().filter(|r| r.namespaced) {
            for obj in store.list(rt.index(), Some(&name)) {
                remaining += 1;
                if !meta::is_deleting(&obj) {
                    let deleted =
                        ops::delete(store, rt, &name, meta::name(&obj), &background, &ctx);
                    let what = || format!("delete {} {name}/{}", rt.kind, meta::name(&obj));
                    check_write(store, &ctx, what, deleted);
                }
            }
        }
        if remaining > 0 {
            continue;
        }
        let has_spec_finalizer = meta::get(&ns, &["spec", "finalizers"])
            .and_then(|f| f.as_array())
            .is_some_and(|a| a.iter().any(|f| f == "kubernetes"));
        if has_spec_finalizer {
            let mut new = (*ns).clone();
            meta::set(&mut new, &["spec", "finalizers"], json!([]));
            ops::internal_write(
                store,
                NAMESPACES,
                &ns,
                new,
                "namespace-controller",
                "finalize",
            );
        }
    }
}
