//! Least privilege. The RBAC manifests in `examples/rbac/`
//! are exactly sufficient, against the emulator's RBAC with the real
//! Terraform CLI.
//!
//! The provider authenticates as the user `terraform` (the subject the
//! manifests' bindings name), who may do only what the manifests grant
//! (deny by default, as kube-apiserver's RBAC authorizer decides). Each test
//! walks one scenario step by step; before a step passes with every right,
//! the step runs once per rule it is the first to need, with that one verb
//! on that one resource taken away (the emulator's RBAC objects change
//! while it runs, as a `kubectl apply` of the Role would), and must fail
//! with the API server's 403 naming the verb and resource. A table says
//! which step needs which rule first; it must list exactly the manifests'
//! rules, so a rule no step needs, or a step that needs an unlisted rule,
//! fails the test.
//!
//! - `role.yaml` alone, in an existing namespace: create, wait, refresh,
//!   update, import; destroy, and the report on a failed Job.
//! - `clusterrole.yaml` added: `create_namespace`, refresh, update,
//!   `terraform query` across namespaces, import of a Job in a namespace the
//!   Role does not cover; destroy of the namespace, and the report on a
//!   failed Job there.
//!
//! Each scenario is two tests (the writes, then destroy and the failure
//! report, each from a fresh emulator), so that the four run two at a time
//! in about the same time. Trials that delete part of a job's objects are
//! followed by `terraform apply -replace`, which makes a fresh set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use kube_emulator::EmulatorConfig;
use kube_emulator::authz::{Authorization, Permission, RbacObjects};
use kube_emulator::tls::TlsBundle;
use serde_json::json;

use crate::harness::{Cluster, Output, Tf, apply, plan_exit, repo_root};

/// The user the manifests' bindings name, and the provider's identity.
const USER: &str = "terraform";
/// The provider's bearer token, which authenticates as [`USER`].
const TOKEN: &str = "terraform-token";
/// The existing namespace the Role is applied in.
const TEAM: &str = "team";
/// The Role of `role.yaml`, applied in [`TEAM`].
const ROLE: &str = "Role team/planton-kubernetes-job";
/// The ClusterRole of `clusterrole.yaml`.
const CLUSTER_ROLE: &str = "ClusterRole planton-kubernetes-job";

/// Which step of the Role's scenario needs which rule first (`verb
/// resource`).
const ROLE_STEPS: &[(&str, &[&str])] = &[
    (
        "create and wait",
        &[
            "create serviceaccounts",
            "create secrets",
            "create configmaps",
            "create jobs",
            "watch jobs",
        ],
    ),
    (
        "refresh",
        &[
            "get serviceaccounts",
            "get secrets",
            "get configmaps",
            "get jobs",
        ],
    ),
    (
        "update",
        &[
            "patch serviceaccounts",
            "patch secrets",
            "patch configmaps",
            "patch jobs",
        ],
    ),
    ("import", &["list configmaps"]),
    (
        "destroy",
        &[
            "list jobs",
            "delete jobs",
            "delete serviceaccounts",
            "delete secrets",
            "delete configmaps",
        ],
    ),
    ("failure report", &["list pods", "get pods/log"]),
];

/// Which step of the ClusterRole's scenario needs which of its rules first.
const CLUSTER_ROLE_STEPS: &[(&str, &[&str])] = &[
    (
        "create with create_namespace",
        &[
            "create namespaces",
            "create serviceaccounts",
            "create secrets",
            "create configmaps",
            "create jobs",
        ],
    ),
    (
        "refresh",
        &[
            "get namespaces",
            "get serviceaccounts",
            "get secrets",
            "get configmaps",
            "get jobs",
        ],
    ),
    (
        "update",
        &[
            "patch namespaces",
            "patch serviceaccounts",
            "patch secrets",
            "patch configmaps",
            "patch jobs",
        ],
    ),
    (
        "query",
        &[
            "list jobs",
            "list serviceaccounts",
            "list secrets",
            "list configmaps",
        ],
    ),
    (
        "destroy",
        &[
            "delete jobs",
            "delete serviceaccounts",
            "delete secrets",
            "delete configmaps",
            "list pods",
            "list services",
            "list persistentvolumeclaims",
            "list deployments",
            "list statefulsets",
            "delete namespaces",
            "watch namespaces",
            "list namespaces",
        ],
    ),
    ("failure report", &["watch jobs", "get pods/log"]),
];

/// A job with every kind of object: ServiceAccount, env Secret, image pull
/// Secret, a ConfigMap, the Job. `version` changes what an update changes
/// in place.
fn job(name: &str, namespace: &str, create_namespace: bool, wait: bool, version: u32) -> String {
    format!(
        r#"
resource "planton_kubernetes_job" "main" {{
  metadata = {{ name = "{name}" }}
  spec = {{
    namespace        = {{ value = "{namespace}" }}
    create_namespace = {create_namespace}
    image            = {{ repo = "registry.example.com/report", tag = "1.0" }}
    env = {{
      variables = {{ EMULATOR_RUN_SECONDS = {{ value = "0.1" }} }}
      secrets   = {{ API_TOKEN = {{ value = "token-{version}" }} }}
    }}
    config_maps   = {{ "{name}-config" = "version: {version}\n" }}
    backoff_limit = {version}
  }}
  docker_config_json  = jsonencode({{ auths = {{ "registry.example.com" = {{ auth = base64encode("robot:v{version}") }} }} }})
  wait_for_completion = {wait}
}}
"#
    )
}

/// A job that fails at once, printing two log lines.
fn failing_job(namespace: &str, create_namespace: bool) -> String {
    format!(
        r#"
resource "planton_kubernetes_job" "broken" {{
  metadata = {{ name = "broken" }}
  spec = {{
    namespace        = {{ value = "{namespace}" }}
    create_namespace = {create_namespace}
    image            = {{ repo = "busybox", tag = "1.36" }}
    env = {{
      variables = {{
        EMULATOR_RUN_SECONDS = {{ value = "0.1" }}
        EMULATOR_EXIT_CODE   = {{ value = "3" }}
        EMULATOR_LOG_LINES   = {{ value = "connecting to the warehouse\nERROR: permission denied for table orders" }}
      }}
    }}
    backoff_limit = 0
  }}
}}
"#
    )
}

/// A manifest of `examples/rbac/`, its namespaced objects in `namespace`.
fn manifest(file: &str, namespace: &str) -> RbacObjects {
    let path = repo_root().join("examples/rbac").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    RbacObjects::from_yaml(&text, namespace).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `verb resource`, the tables' name of a permission.
fn key(p: &Permission) -> String {
    format!("{} {}", p.verb, p.resource)
}

/// The 403 text that names `p`'s verb and resource.
fn refusal_of(p: &Permission) -> String {
    format!(
        "User \"{USER}\" cannot {} resource \"{}\" in API group \"{}\"",
        p.verb, p.resource, p.api_group
    )
}

/// One scenario's world: Terraform, an emulator whose RBAC decides for
/// [`USER`], and the rights the manifests grant.
struct World {
    tf: Tf,
    cluster: Cluster,
    authz: Authorization,
    rights: RbacObjects,
    /// The role whose rules this scenario takes away, one at a time.
    role: &'static str,
    steps: &'static [(&'static str, &'static [&'static str])],
    started: Instant,
}

impl World {
    /// An emulator (HTTPS, token users) where [`USER`] has exactly
    /// `rights`, the namespace [`TEAM`], and an initialised working
    /// directory with `hcl`. Checks that `steps` lists exactly the rules
    /// of `role`.
    fn start(
        name: &str,
        rights: RbacObjects,
        role: &'static str,
        steps: &'static [(&'static str, &'static [&'static str])],
        hcl: &str,
    ) -> World {
        let started = Instant::now();
        let granted: Vec<String> = rights
            .permissions()
            .iter()
            .filter(|p| p.role == role)
            .map(key)
            .collect();
        let mut listed: Vec<String> = steps
            .iter()
            .flat_map(|(_, keys)| keys.iter().map(|k| k.to_string()))
            .collect();
        let mut sorted = granted.clone();
        sorted.sort();
        listed.sort();
        assert_eq!(
            sorted, listed,
            "the steps must name exactly the rules of {role}"
        );
        let tf = Tf::new(name);
        let authz = Authorization::default()
            .rbac_only(USER)
            .with_rbac(rights.clone());
        let config = EmulatorConfig {
            tls: Some(Arc::new(TlsBundle::generate().unwrap())),
            token: Some("admin-token".into()),
            token_users: [(TOKEN.to_string(), USER.to_string())].into(),
            authorization: authz.clone(),
            ..EmulatorConfig::fast()
        };
        let cluster = Cluster::start_with(&tf.home(), config, Some(TOKEN));
        let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
        cluster
            .block_on(namespaces.create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": TEAM}})).unwrap(),
            ))
            .unwrap();
        cluster.configure(&tf, hcl);
        tf.init();
        World {
            tf,
            cluster,
            authz,
            rights,
            role,
            steps,
            started,
        }
    }

    fn configure(&self, hcl: &str) {
        self.cluster.configure(&self.tf, hcl);
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tf.run(args)
    }

    /// The rules `step` needs first, from the table.
    fn needed_by(&self, step: &str) -> Vec<Permission> {
        let (_, keys) = self
            .steps
            .iter()
            .find(|(s, _)| *s == step)
            .unwrap_or_else(|| panic!("no step {step:?} in the table"));
        keys.iter()
            .map(|k| {
                self.rights
                    .permissions()
                    .into_iter()
                    .find(|p| p.role == self.role && key(p) == *k)
                    .unwrap_or_else(|| panic!("{k:?} is not a rule of {}", self.role))
            })
            .collect()
    }

    /// The rule `verb resource` of the scenario's role.
    fn rule(&self, step: &str, k: &str) -> Permission {
        self.needed_by(step)
            .into_iter()
            .find(|p| key(p) == k)
            .unwrap_or_else(|| panic!("step {step:?} does not list {k:?}"))
    }

    /// Runs `run` with every right but `p`, then gives every right back
    /// (and forgets the refusals it met).
    fn without<T>(&self, p: &Permission, run: impl FnOnce() -> T) -> T {
        self.authz.rbac.set(self.rights.without(p));
        let result = run();
        self.authz.rbac.set(self.rights.clone());
        self.authz.clear_refusals();
        result
    }

    /// The step `run` without `p` fails with the 403 that names `p`.
    #[track_caller]
    fn refused(&self, step: &str, p: &Permission, run: impl FnOnce() -> Output) {
        let out = self.without(p, run);
        let wanted = refusal_of(p);
        assert!(
            out.code != 0 && out.flat().contains(&wanted),
            "step {step:?} without {p}: expected a failure naming {wanted:?}\n{out}"
        );
    }

    /// Each rule `step` needs first, taken away in turn, fails `run`.
    #[track_caller]
    fn each_rule_fails(&self, step: &str, run: impl Fn() -> Output) {
        for p in self.needed_by(step) {
            self.refused(step, &p, &run);
        }
    }

    /// No request was refused since the last call, except `expected` ones
    /// (messages containing each text); forgets them.
    #[track_caller]
    fn refusals_were(&self, step: &str, expected: &[&str]) {
        let refusals = self.authz.refusals();
        self.authz.clear_refusals();
        let unexpected: Vec<&String> = refusals
            .iter()
            .filter(|r| !expected.iter().any(|e| r.contains(e)))
            .collect();
        assert!(
            unexpected.is_empty(),
            "step {step:?} with every right was refused: {unexpected:#?}"
        );
        for e in expected {
            assert!(
                refusals.iter().any(|r| r.contains(e)),
                "step {step:?}: no refusal {e:?} among {refusals:#?}"
            );
        }
    }

    /// `terraform apply -replace` of `address`: a fresh set of objects.
    fn replace(&self, address: &str) {
        self.run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &format!("-replace={address}"),
        ])
        .success();
    }

    /// Names of the objects of a kind in `ns`.
    fn names(&self, ns: &str, plural: &str) -> Vec<String> {
        let prefix = if plural == "jobs" {
            "/apis/batch/v1"
        } else {
            "/api/v1"
        };
        self.cluster.names(prefix, ns, plural)
    }

    /// Waits (watching) until the namespace `name` is gone.
    #[track_caller]
    fn namespace_gone(&self, name: &str) {
        let api: Api<Namespace> = Api::all(self.cluster.client.clone());
        let gone = self.cluster.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), name, |ns: Option<&Namespace>| ns.is_none()),
            )
            .await
        });
        if gone.is_err() {
            let left: Vec<String> = ["configmaps", "serviceaccounts", "secrets", "pods", "jobs"]
                .iter()
                .flat_map(|p| {
                    self.names(name, p)
                        .into_iter()
                        .map(move |n| format!("{p}/{n}"))
                })
                .collect();
            let ns = self.cluster.block_on(api.get_opt(name)).unwrap();
            panic!("the namespace {name} is not gone after 30 s: {ns:#?}\ncontents: {left:?}");
        }
    }

    /// Holds the namespace `ns` in Terminating once it is deleted (`hold`),
    /// or lets it go: a finalizer on its `kube-root-ca.crt` ConfigMap,
    /// which destroy does not count as foreign content.
    fn hold_namespace(&self, ns: &str, hold: bool) {
        let api: Api<ConfigMap> = self.cluster.api(ns);
        let finalizers = if hold {
            json!(["planton.test/hold"])
        } else {
            json!(null)
        };
        self.cluster.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), "kube-root-ca.crt", |c: Option<&ConfigMap>| {
                    c.is_some()
                }),
            )
            .await
            .expect("no kube-root-ca.crt after 30 s")
            .unwrap();
            api.patch(
                "kube-root-ca.crt",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
            )
            .await
            .unwrap();
        });
    }

    fn took(&self, scenario: &str) {
        eprintln!("{scenario}: {:.1} s", self.started.elapsed().as_secs_f64());
    }
}

/// `terraform destroy`, whatever its exit code.
fn destroy(tf: &Tf) -> Output {
    tf.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
}

/// `terraform import ADDRESS ID`, whatever its exit code.
fn import(tf: &Tf, address: &str, id: &str) -> Output {
    tf.run(&["import", "-no-color", "-input=false", address, id])
}

/// The resource of [`job`].
const MAIN: &str = "planton_kubernetes_job.main";

/// The Role alone, in an existing namespace: create and wait, refresh,
/// update and import pass; each rule they need, taken away, fails the step
/// that needs it first with the 403 naming the verb and resource.
#[test]
fn role_is_exactly_enough_to_create_update_and_import_in_an_existing_namespace() {
    let w = role_world("permissions-role-write");

    // Create and wait. A failed attempt leaves a tainted resource that the
    // next attempt replaces.
    w.each_rule_fails("create and wait", || apply(&w.tf));
    apply(&w.tf).success();
    assert_eq!(w.names(TEAM, "jobs"), ["report"]);
    assert_eq!(
        w.names(TEAM, "secrets"),
        ["report-env-secrets", "report-image-pull-secret"]
    );
    w.refusals_were("create and wait", &[]);

    // Refresh (every plan reads each object).
    w.each_rule_fails("refresh", || plan_exit(&w.tf));
    let plan = plan_exit(&w.tf);
    assert_eq!(plan.code, 0, "{plan}");
    w.refusals_were("refresh", &[]);

    // Update in place: every object is applied again.
    w.configure(&job("report", TEAM, false, true, 2));
    w.each_rule_fails("update", || apply(&w.tf));
    apply(&w.tf).success();
    let plan = plan_exit(&w.tf);
    assert_eq!(plan.code, 0, "{plan}");
    let cm = w
        .cluster
        .get::<ConfigMap>(TEAM, "report-config")
        .and_then(|c| c.data)
        .unwrap_or_default();
    assert_eq!(cm["report-config"], "version: 2\n");
    w.refusals_were("update", &[]);

    // Import. The Role does not let the provider read the Namespace, so
    // import cannot tell who made it, and says so.
    w.run(&["state", "rm", MAIN]).success();
    w.each_rule_fails("import", || import(&w.tf, MAIN, "team/report"));
    let out = import(&w.tf, MAIN, "team/report").success();
    assert!(out.flat().contains("Namespace Not Readable"), "{out}");
    let plan = plan_exit(&w.tf);
    assert_eq!(plan.code, 0, "{plan}");
    w.refusals_were(
        "import",
        &[r#"User "terraform" cannot get resource "namespaces" in API group "" in the namespace "team""#],
    );
    w.took("role.yaml: create, update, import");
}

/// The Role alone, in an existing namespace: destroy, and the report on a
/// failed Job, pass; each rule they need, taken away, fails them.
#[test]
fn role_is_exactly_enough_to_destroy_and_report_a_failed_job() {
    let w = role_world("permissions-role-destroy");
    apply(&w.tf).success();
    w.authz.clear_refusals();

    // Destroy. A refused delete of one of the ServiceAccount, Secrets and
    // ConfigMap (deleted together) deletes the others; a fresh set of
    // objects comes before the next attempt.
    let rule = |k: &str| w.rule("destroy", k);
    w.refused("destroy", &rule("list jobs"), || destroy(&w.tf));
    w.refused("destroy", &rule("delete jobs"), || destroy(&w.tf));
    w.refused("destroy", &rule("delete serviceaccounts"), || {
        destroy(&w.tf)
    });
    w.replace(MAIN);
    w.refused("destroy", &rule("delete secrets"), || destroy(&w.tf));
    w.replace(MAIN);
    w.refused("destroy", &rule("delete configmaps"), || destroy(&w.tf));
    w.replace(MAIN);
    destroy(&w.tf).success();
    for plural in ["jobs", "secrets", "configmaps", "serviceaccounts"] {
        let left: Vec<String> = w
            .names(TEAM, plural)
            .into_iter()
            .filter(|n| n != "default" && n != "kube-root-ca.crt")
            .collect();
        assert!(left.is_empty(), "{plural} left: {left:?}");
    }
    assert!(w.cluster.namespace_exists(TEAM));
    w.refusals_were("destroy", &[]);

    // The report on a failed Job: its pods, their exit codes and logs.
    w.configure(&failing_job(TEAM, false));
    let report = |out: &Output| {
        let text = out.flat();
        out.code != 0
            && text.contains("Kubernetes Job Failed")
            && text.contains("exited with code 3")
            && text.contains("ERROR: permission denied for table orders")
    };
    // Without `list pods` the provider leaves the pods out of the report
    // and says why in the failure.
    let list_pods = w.rule("failure report", "list pods");
    let out = w.without(&list_pods, || {
        let mut cmd =
            w.tf.command(["apply", "-auto-approve", "-input=false", "-no-color"]);
        cmd.env("TF_LOG_PROVIDER", "debug");
        let o = cmd.output().unwrap();
        Output {
            command: "terraform apply (TF_LOG_PROVIDER=debug)".into(),
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    });
    assert!(
        out.flat().contains("Kubernetes Job Failed") && !report(&out),
        "without {list_pods} the report has no pods:\n{out}"
    );
    // The failure says why it has no pod details: the 403 for the list.
    let text = out.flat();
    assert!(
        text.contains("the Job's pods could not be listed")
            && text.contains(&refusal_of(&list_pods)),
        "without {list_pods} the failure names the refusal:\n{out}"
    );
    let log = w.rule("failure report", "get pods/log");
    let out = w.without(&log, || apply(&w.tf));
    let text = out.flat();
    assert!(
        out.code != 0
            && text.contains("exited with code 3")
            && text.contains("Its log could not be read")
            && text.contains(&refusal_of(&log)),
        "without {log} the report says why the log is missing:\n{out}"
    );
    let out = apply(&w.tf);
    assert!(report(&out), "the full report:\n{out}");
    w.refusals_were("failure report", &[]);
    destroy(&w.tf).success();
    w.refusals_were("destroy", &[]);
    w.took("role.yaml: destroy, failure report");
}

/// The ClusterRole added: `create_namespace`, refresh, update, `terraform
/// query` across namespaces and import of a Job outside the Role's
/// namespace pass; each of its rules they need, taken away, fails the step
/// that needs it first.
#[test]
fn cluster_role_is_exactly_enough_for_create_namespace_query_and_import_anywhere() {
    let w = cluster_world("permissions-cluster-write");

    // Create, with the namespace.
    w.each_rule_fails("create with create_namespace", || apply(&w.tf));
    apply(&w.tf).success();
    assert_eq!(w.names("reports", "jobs"), ["reports"]);
    w.refusals_were("create with create_namespace", &[]);

    // Refresh.
    w.each_rule_fails("refresh", || plan_exit(&w.tf));
    let plan = plan_exit(&w.tf);
    assert_eq!(plan.code, 0, "{plan}");
    w.refusals_were("refresh", &[]);

    // Update in place, the namespace's claim included.
    w.configure(&job("reports", "reports", true, false, 2));
    w.each_rule_fails("update", || apply(&w.tf));
    apply(&w.tf).success();
    w.refusals_were("update", &[]);

    // `terraform query` of every namespace, reading each Job's objects to
    // generate configuration.
    w.tf.write(
        "all.tfquery.hcl",
        r#"
list "planton_kubernetes_job" "all" {
  provider         = planton
  include_resource = true
}
"#,
    );
    w.each_rule_fails("query", || w.run(&["query", "-no-color"]));
    let out = w
        .run(&["query", "-no-color", "-generate-config-out=generated.tf"])
        .success();
    let generated = w.tf.read("generated.tf");
    assert!(
        generated.contains("\"reports\"") && generated.contains("create_namespace = true"),
        "{generated}\n{out}"
    );
    std::fs::remove_file(w.tf.work().join("all.tfquery.hcl")).unwrap();
    std::fs::remove_file(w.tf.work().join("generated.tf")).unwrap();
    w.refusals_were("query", &[]);

    // Import of a Job in a namespace the Role does not cover.
    w.run(&["state", "rm", MAIN]).success();
    let out = import(&w.tf, MAIN, "reports/reports").success();
    assert!(!out.flat().contains("Not Readable"), "{out}");
    // Import cannot read `wait_for_completion` back; the apply records it.
    let out = apply(&w.tf).success();
    assert!(
        out.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{out}"
    );
    w.refusals_were("import", &[]);
    w.took("clusterrole.yaml: create, update, query, import");
}

/// The ClusterRole added: destroy of a job and the namespace it created,
/// and the report on a failed Job in such a namespace, pass; each of its
/// rules they need, taken away, fails them.
#[test]
fn cluster_role_is_exactly_enough_to_destroy_a_created_namespace_and_report_a_failed_job() {
    let w = cluster_world("permissions-cluster-destroy");
    apply(&w.tf).success();
    w.authz.clear_refusals();
    let rule = |k: &str| w.rule("destroy", k);

    // The namespace is deleted before destroy lists it: it goes, and the
    // next apply creates every object again.
    w.refused("destroy", &rule("list namespaces"), || destroy(&w.tf));
    w.namespace_gone("reports");
    apply(&w.tf).success();
    w.refused("destroy", &rule("delete jobs"), || destroy(&w.tf));
    // A refused delete of one of the ServiceAccount, Secrets and ConfigMap
    // (deleted together) deletes the others.
    w.refused("destroy", &rule("delete serviceaccounts"), || {
        destroy(&w.tf)
    });
    w.replace(MAIN);
    w.refused("destroy", &rule("delete secrets"), || destroy(&w.tf));
    w.replace(MAIN);
    // From here on only the namespace is left to destroy: its contents are
    // listed before it is deleted.
    for k in [
        "delete configmaps",
        "list pods",
        "list services",
        "list persistentvolumeclaims",
        "list deployments",
        "list statefulsets",
        "delete namespaces",
    ] {
        w.refused("destroy", &rule(k), || destroy(&w.tf));
    }
    // Deleted, the namespace stays (held) while destroy watches it.
    w.hold_namespace("reports", true);
    w.refused("destroy", &rule("watch namespaces"), || destroy(&w.tf));
    w.hold_namespace("reports", false);
    w.namespace_gone("reports");
    apply(&w.tf).success();
    destroy(&w.tf).success();
    assert!(!w.cluster.namespace_exists("reports"));
    w.refusals_were("destroy", &[]);

    // The report on a failed Job in a namespace the job creates.
    w.configure(&failing_job("broken", true));
    w.each_rule_fails("failure report", || apply(&w.tf));
    let out = apply(&w.tf);
    let text = out.flat();
    assert!(
        out.code != 0
            && text.contains("exited with code 3")
            && text.contains("ERROR: permission denied for table orders"),
        "the full report:\n{out}"
    );
    destroy(&w.tf).success();
    assert!(!w.cluster.namespace_exists("broken"));
    w.refusals_were("failure report and destroy", &[]);
    w.took("clusterrole.yaml: destroy, failure report");
}

/// The Role's world: a job in [`TEAM`], waited for.
fn role_world(name: &str) -> World {
    World::start(
        name,
        manifest("role.yaml", TEAM),
        ROLE,
        ROLE_STEPS,
        &job("report", TEAM, false, true, 1),
    )
}

/// The ClusterRole's world (the Role too): a job in the namespace
/// `reports`, which it creates, not waited for.
fn cluster_world(name: &str) -> World {
    let mut rights = manifest("role.yaml", TEAM);
    rights.extend(manifest("clusterrole.yaml", ""));
    World::start(
        name,
        rights,
        CLUSTER_ROLE,
        CLUSTER_ROLE_STEPS,
        &job("reports", "reports", true, false, 1),
    )
}
