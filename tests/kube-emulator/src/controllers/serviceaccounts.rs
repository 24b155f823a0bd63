//! Every active namespace gets a `default` ServiceAccount and the
//! `kube-root-ca.crt` ConfigMap, as the service-account and root-CA publisher
//! controllers do.

use serde_json::json;

use crate::controllers::check_write;
use crate::meta;
use crate::ops::{self, Ctx};
use crate::resources::{self, CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS};
use crate::server::State;
use crate::store::Store;

const CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// One pass.
pub fn reconcile(store: &mut Store, state: &State) {
    let ctx = Ctx::controller("kube-controller-manager");
    for ns in store.list(NAMESPACES, None) {
        if meta::is_deleting(&ns) {
            continue;
        }
        let name = meta::name(&ns).to_string();
        if store.get(SERVICEACCOUNTS, &name, "default").is_none() {
            let created = ops::create(
                store,
                resources::by_index(SERVICEACCOUNTS),
                Some(&name),
                json!({"metadata": {"name": "default"}}),
                &ctx,
            );
            let what = || format!("create ServiceAccount {name}/default");
            check_write(store, &ctx, what, created);
        }
        if store.get(CONFIGMAPS, &name, "kube-root-ca.crt").is_none() {
            let ca = state
                .config
                .tls
                .as_ref()
                .map(|t| t.ca_pem.clone())
                .unwrap_or_default();
            let publisher = Ctx::controller("kube-root-ca-cert-publisher");
            let created = ops::create(
                store,
                resources::by_index(CONFIGMAPS),
                Some(&name),
                json!({"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": CA_DESCRIPTION}}, "data": {"ca.crt": ca}}),
                &publisher,
            );
            let what = || format!("create ConfigMap {name}/kube-root-ca.crt");
            check_write(store, &publisher, what, created);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::EmulatorConfig;
    use crate::admin::Admin;
    use crate::controllers::logs::Logs;

    /// A write the controllers cannot make is logged and counted, not
    /// dropped, and the others still happen. Only a bug could store a
    /// namespace without a name; the service-account controller then fails
    /// to create `default` in it, and so does the root CA publisher.
    #[test]
    fn a_failed_controller_write_is_counted() {
        let mut store = Store::new(100);
        crate::controllers::seed(&mut store);
        store.insert(
            NAMESPACES,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ""}}),
        );
        let state = State {
            store: Mutex::new(Store::new(1)),
            config: EmulatorConfig::fast(),
            admin: Admin::default(),
            logs: Mutex::new(Logs::default()),
            stopping: tokio::sync::watch::channel(false).1,
            url: String::new(),
        };
        assert_eq!(
            store.failed_writes().to_json(),
            json!({"count": 0, "recent": []})
        );

        reconcile(&mut store, &state);
        let failed = store.failed_writes();
        assert_eq!(failed.count, 2, "{:?}", failed.recent);
        assert!(
            failed.recent[0].starts_with(
                "kube-controller-manager could not create ServiceAccount /default: 422"
            ),
            "{:?}",
            failed.recent
        );
        assert!(
            failed.recent[1].starts_with(
                "kube-root-ca-cert-publisher could not create ConfigMap /kube-root-ca.crt: 422"
            ),
            "{:?}",
            failed.recent
        );
        assert!(store.get(SERVICEACCOUNTS, "default", "default").is_some());
        assert!(
            store
                .get(CONFIGMAPS, "default", "kube-root-ca.crt")
                .is_some()
        );

        // Each pass that fails again counts again; the list stays short.
        for _ in 0..20 {
            reconcile(&mut store, &state);
        }
        let failed = store.failed_writes();
        assert_eq!(failed.count, 42);
        assert_eq!(failed.recent.len(), 20);
    }
}
