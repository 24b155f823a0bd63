//! Authorization: users the configuration refuses get kube-apiserver's 403
//! Forbidden, worded as its authorization filter words it; everyone else
//! may do everything.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, WatchParams};
use kube_emulator::EmulatorConfig;
use kube_emulator::authz::Authorization;
use kube_emulator::tls::{KubeconfigAuth, TlsBundle, kubeconfig};
use serde_json::json;

use crate::util::{client_for, create, create_refused, env_with, job, status_of};

/// An emulator where `admin-token` is the admin and `alice-token` is alice.
fn config(authorization: Authorization) -> EmulatorConfig {
    EmulatorConfig {
        token: Some("admin-token".into()),
        token_users: BTreeMap::from([
            ("alice-token".to_string(), "alice".to_string()),
            ("bob-token".to_string(), "bob".to_string()),
        ]),
        authorization,
        ..EmulatorConfig::fast()
    }
}

async fn client_with_token(url: &str, token: &str) -> kube::Client {
    client_for(&kubeconfig(
        url,
        None,
        &KubeconfigAuth {
            token: Some(token),
            client_cert: None,
        },
    ))
    .await
}

/// A user refused a namespace gets 403 there for every verb, named objects
/// and collections alike, whether the object exists or not; elsewhere, and
/// for the admin, nothing changes.
#[tokio::test]
async fn refused_requests_get_forbidden_with_the_user_verb_and_namespace() {
    let e = env_with(config(Authorization::default().deny(
        "alice",
        &["*"],
        &["*"],
        &["private"],
    )))
    .await;
    for ns in ["private", "public"] {
        e.namespace(ns).await;
    }
    let admin_jobs: Api<Job> = e.api("private");
    create(&admin_jobs, job("x", &[])).await;

    let alice = client_with_token(&e.emu.url, "alice-token").await;
    let jobs: Api<Job> = Api::namespaced(alice.clone(), "private");
    for name in ["x", "missing"] {
        let s = status_of(jobs.get(name).await.unwrap_err());
        assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
        assert_eq!(
            s.message,
            format!(
                "jobs.batch \"{name}\" is forbidden: User \"alice\" cannot get resource \"jobs\" in API group \"batch\" in the namespace \"private\""
            )
        );
        let d = s.details.unwrap();
        assert_eq!(
            (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
            (name, "batch", "jobs")
        );
    }
    let s = status_of(jobs.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "jobs.batch is forbidden: User \"alice\" cannot list resource \"jobs\" in API group \"batch\" in the namespace \"private\""
    );
    let Err(err) = jobs.watch(&WatchParams::default(), "0").await else {
        panic!("a refused watch started");
    };
    assert!(
        status_of(err)
            .message
            .contains("cannot watch resource \"jobs\""),
    );
    let s = create_refused(&jobs, job("y", &[])).await;
    assert_eq!(
        s.message,
        "jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"private\""
    );
    let cms: Api<ConfigMap> = Api::namespaced(alice.clone(), "private");
    let s = status_of(cms.get("c").await.unwrap_err());
    assert_eq!(
        s.message,
        "configmaps \"c\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"private\""
    );
    let d = s.details.unwrap();
    assert_eq!((d.group.as_str(), d.kind.as_str()), ("", "configmaps"));
    // The namespace object itself is in its own namespace.
    let namespaces: Api<Namespace> = Api::all(alice.clone());
    let s = status_of(namespaces.get("private").await.unwrap_err());
    assert_eq!(
        s.message,
        "namespaces \"private\" is forbidden: User \"alice\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"private\""
    );

    // Elsewhere alice may do everything, discovery included; the admin may everywhere.
    let public: Api<ConfigMap> = Api::namespaced(alice.clone(), "public");
    create(&public, json!({"metadata": {"name": "c"}})).await;
    assert!(namespaces.list(&ListParams::default()).await.is_ok());
    assert!(alice.apiserver_version().await.is_ok());
    assert!(alice.list_api_groups().await.is_ok());
    assert_eq!(
        admin_jobs.get("x").await.unwrap().metadata.name.unwrap(),
        "x"
    );
}

/// A user limited to some namespaces may not make cluster-scope requests
/// (list namespaces) nor touch other namespaces; a rule can refuse a single
/// verb on a subresource.
#[tokio::test]
async fn namespace_limits_and_single_verbs() {
    let e = env_with(config(
        Authorization::default()
            .allow_namespaces("bob", &["team-a"])
            .deny("alice", &["get"], &["pods/log"], &["*"]),
    ))
    .await;
    e.namespace("team-a").await;
    let bob = client_with_token(&e.emu.url, "bob-token").await;
    let namespaces: Api<Namespace> = Api::all(bob.clone());
    let s = status_of(namespaces.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "namespaces is forbidden: User \"bob\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    assert!(namespaces.get("team-a").await.is_ok());
    let mine: Api<ConfigMap> = Api::namespaced(bob.clone(), "team-a");
    create(&mine, json!({"metadata": {"name": "c"}})).await;
    let theirs: Api<ConfigMap> = Api::namespaced(bob.clone(), "default");
    let s = status_of(theirs.get("kube-root-ca.crt").await.unwrap_err());
    assert_eq!(
        s.message,
        "configmaps \"kube-root-ca.crt\" is forbidden: User \"bob\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let all: Api<ConfigMap> = Api::all(bob);
    let s = status_of(all.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope"
    );

    let alice = client_with_token(&e.emu.url, "alice-token").await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(alice.clone(), "team-a");
    let s = status_of(pods.logs("p", &Default::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "pods \"p\" is forbidden: User \"alice\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"team-a\""
    );
    // The pod itself may be read: it does not exist.
    assert_eq!(status_of(pods.get("p").await.unwrap_err()).code, 404);
}

/// With client-certificate auth, a certificate the CA signed is the user its
/// common name says; the generated admin certificate is the admin; a token
/// nobody configured is 401.
#[tokio::test]
async fn client_certificate_common_name_is_the_user() {
    let tls = Arc::new(TlsBundle::generate().unwrap());
    let e = env_with(EmulatorConfig {
        tls: Some(tls.clone()),
        client_cert_auth: true,
        ..config(Authorization::default().deny("carol", &["list"], &["configmaps"], &["default"]))
    })
    .await;
    let (cert, key) = tls.client_certificate("carol", &["developers"]).unwrap();
    let carol = client_for(&kubeconfig(
        &e.emu.url,
        Some(&tls.ca_pem),
        &KubeconfigAuth {
            token: None,
            client_cert: Some((&cert, &key)),
        },
    ))
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(carol.clone(), "default");
    let s = status_of(cms.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "configmaps is forbidden: User \"carol\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    assert!(cms.get("kube-root-ca.crt").await.is_ok());
    let admin: Api<ConfigMap> = e.api("default");
    assert!(admin.list(&ListParams::default()).await.is_ok());

    let stranger = client_for(&kubeconfig(
        &e.emu.url,
        Some(&tls.ca_pem),
        &KubeconfigAuth {
            token: Some("nobody-token"),
            client_cert: None,
        },
    ))
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(stranger, "default");
    assert_eq!(status_of(cms.get("x").await.unwrap_err()).code, 401);
}

/// A user with RBAC rights only: what a RoleBinding grants in its namespace
/// and a ClusterRoleBinding everywhere, nothing else; a Role changed while
/// the emulator runs decides the next request; refusals are recorded.
#[tokio::test]
async fn rbac_user_gets_only_what_the_bindings_grant() {
    let objects = kube_emulator::authz::RbacObjects::from_yaml(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: jobs}
rules:
  - {apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jobs}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: jobs, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespaces}
rules:
  - {apiGroups: [""], resources: ["namespaces"], verbs: ["list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: namespaces}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: namespaces, apiGroup: rbac.authorization.k8s.io}
"#,
        "team",
    )
    .unwrap();
    let authz = Authorization::default()
        .rbac_only("alice")
        .with_rbac(objects.clone());
    let e = env_with(config(authz.clone())).await;
    for ns in ["team", "other"] {
        e.namespace(ns).await;
    }
    create(&e.api::<Job>("team"), job("x", &[])).await;
    let alice = client_with_token(&e.emu.url, "alice-token").await;

    let jobs: Api<Job> = Api::namespaced(alice.clone(), "team");
    assert!(jobs.get("x").await.is_ok());
    assert!(jobs.list(&ListParams::default()).await.is_ok());
    let s = create_refused(&jobs, job("y", &[])).await;
    assert_eq!(
        s.message,
        "jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"team\""
    );
    let elsewhere: Api<Job> = Api::namespaced(alice.clone(), "other");
    assert_eq!(status_of(elsewhere.get("x").await.unwrap_err()).code, 403);
    let namespaces: Api<Namespace> = Api::all(alice.clone());
    assert!(namespaces.list(&ListParams::default()).await.is_ok());
    assert_eq!(
        status_of(namespaces.get("team").await.unwrap_err()).code,
        403
    );
    assert!(alice.apiserver_version().await.is_ok());

    // The Role changes while the emulator runs.
    authz
        .rbac
        .set(objects.without(&kube_emulator::authz::Permission {
            role: "Role team/jobs".into(),
            api_group: "batch".into(),
            resource: "jobs".into(),
            verb: "get".into(),
        }));
    let s = status_of(jobs.get("x").await.unwrap_err());
    assert_eq!(
        s.message,
        "jobs.batch \"x\" is forbidden: User \"alice\" cannot get resource \"jobs\" in API group \"batch\" in the namespace \"team\""
    );
    assert!(jobs.list(&ListParams::default()).await.is_ok());
    let refusals = authz.refusals();
    assert_eq!(refusals.len(), 4, "{refusals:#?}");
    assert_eq!(refusals[3], s.message);
}
