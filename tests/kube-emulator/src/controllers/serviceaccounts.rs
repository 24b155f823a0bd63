//! Every active namespace gets a `default` ServiceAccount and the
//! `kube-root-ca.crt` ConfigMap, as the service-account and root-CA publisher
//! controllers do.

use serde_json::json;

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
            let _ = ops::create(
                store,
                resources::by_index(SERVICEACCOUNTS),
                Some(&name),
                json!({"metadata": {"name": "default"}}),
                &ctx,
            );
        }
        if store.get(CONFIGMAPS, &name, "kube-root-ca.crt").is_none() {
            let ca = state
                .config
                .tls
                .as_ref()
                .map(|t| t.ca_pem.clone())
                .unwrap_or_default();
            let _ = ops::create(
                store,
                resources::by_index(CONFIGMAPS),
                Some(&name),
                json!({"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": CA_DESCRIPTION}}, "data": {"ca.crt": ca}}),
                &Ctx::controller("kube-root-ca-cert-publisher"),
            );
        }
    }
}
