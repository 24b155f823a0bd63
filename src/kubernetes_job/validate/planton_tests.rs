//! Project Planton's 18 `spec_test.go` cases for a KubernetesJob, run
//! against [`super::planton_rules`] alone so that its verdicts match
//! Planton's exactly (13 valid, 5 invalid, each on its path), and the
//! Planton base object run through every rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as J, json};

use super::planton_rules;
use super::tests::{errors, spec};
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::testing;

fn planton_base() -> J {
    json!({
        "metadata": {"name": "my-batch-job"},
        "spec": {
            "target_cluster": {"cluster_kind": "GcpGkeCluster", "cluster_name": "test-cluster"},
            "namespace": {"value": "test-namespace"},
            "create_namespace": true,
            "image": {"repo": "busybox", "tag": "latest"},
            "resources": {
                "limits": {"cpu": "1000m", "memory": "1Gi"},
                "requests": {"cpu": "50m", "memory": "100Mi"}
            },
            "env": {
                "variables": {"BATCH_SIZE": {"value": "1000"}},
                "secrets": {"API_KEY": {"value": "secret_value"}}
            },
            "completion_mode": "NonIndexed",
            "restart_policy": "Never"
        }
    })
}

type PlantonCase = (
    &'static str,
    fn(&mut J),
    &'static [(&'static str, &'static str)],
);

fn planton_cases() -> Vec<PlantonCase> {
    vec![
        ("base object", |_| {}, &[]),
        (
            "create_namespace false",
            |c| spec(c)["create_namespace"] = json!(false),
            &[],
        ),
        (
            "restart policy OnFailure",
            |c| spec(c)["restart_policy"] = json!("OnFailure"),
            &[],
        ),
        (
            "Indexed with completions 5 and parallelism 3",
            |c| {
                spec(c)["completion_mode"] = json!("Indexed");
                spec(c)["completions"] = json!(5);
                spec(c)["parallelism"] = json!(3);
            },
            &[],
        ),
        (
            "parallelism 10 and completions 100",
            |c| {
                spec(c)["parallelism"] = json!(10);
                spec(c)["completions"] = json!(100);
            },
            &[],
        ),
        (
            "active deadline 3600",
            |c| spec(c)["active_deadline_seconds"] = json!(3600),
            &[],
        ),
        (
            "ttl 86400",
            |c| spec(c)["ttl_seconds_after_finished"] = json!(86400),
            &[],
        ),
        (
            "literal secret",
            |c| spec(c)["env"]["secrets"] = json!({"DATABASE_PASSWORD": {"value": "my-password"}}),
            &[],
        ),
        (
            "secret reference",
            |c| {
                spec(c)["env"]["secrets"] = json!({"DATABASE_PASSWORD": {"secret_ref": {
                    "name": "my-app-secrets", "key": "db-password"
                }}})
            },
            &[],
        ),
        (
            "mixed secrets",
            |c| {
                spec(c)["env"]["secrets"] = json!({
                    "DEBUG_TOKEN": {"value": "debug-only-token"},
                    "DATABASE_PASSWORD": {"secret_ref": {"name": "postgres-credentials", "key": "password"}}
                })
            },
            &[],
        ),
        (
            "literal variables",
            |c| {
                spec(c)["env"]["variables"] = json!({
                    "INPUT_FILE": {"value": "/data/input.csv"},
                    "OUTPUT_FILE": {"value": "/data/output.csv"}
                })
            },
            &[],
        ),
        (
            "variable reference with only a name",
            |c| {
                spec(c)["env"]["variables"] =
                    json!({"DATABASE_HOST": {"value_from": {"name": "my-postgres"}}})
            },
            &[],
        ),
        (
            "mixed variables",
            |c| {
                spec(c)["env"]["variables"] = json!({
                    "BATCH_SIZE": {"value": "1000"},
                    "DATABASE_HOST": {"value_from": {"name": "my-postgres"}}
                })
            },
            &[],
        ),
        (
            "restart policy Always",
            |c| spec(c)["restart_policy"] = json!("Always"),
            &[("Invalid Restart Policy", "spec.restart_policy")],
        ),
        (
            "completion mode Invalid",
            |c| spec(c)["completion_mode"] = json!("Invalid"),
            &[("Invalid Completion Mode", "spec.completion_mode")],
        ),
        (
            "secret reference with an empty name",
            |c| {
                spec(c)["env"]["secrets"] =
                    json!({"API_KEY": {"secret_ref": {"name": "", "key": "password"}}})
            },
            &[(
                "Missing Secret Name",
                "spec.env.secrets[\"API_KEY\"].secret_ref.name",
            )],
        ),
        (
            "secret reference with an empty key",
            |c| {
                spec(c)["env"]["secrets"] =
                    json!({"API_KEY": {"secret_ref": {"name": "my-secret", "key": ""}}})
            },
            &[(
                "Missing Secret Key",
                "spec.env.secrets[\"API_KEY\"].secret_ref.key",
            )],
        ),
        (
            "variable reference with an empty name",
            |c| {
                spec(c)["env"]["variables"] = json!({"DATABASE_HOST": {"value_from": {"name": ""}}})
            },
            &[(
                "Missing Reference Name",
                "spec.env.variables[\"DATABASE_HOST\"].value_from.name",
            )],
        ),
    ]
}

/// Planton's 18 spec test cases give Planton's verdicts (13 valid, 5
/// invalid) from `planton_rules` alone, each invalid one on its path.
#[test]
fn planton_spec_test_cases() {
    let cases = planton_cases();
    assert_eq!(cases.len(), 18);
    assert_eq!(cases.iter().filter(|c| c.2.is_empty()).count(), 13);
    for (name, edit, expect) in cases {
        let mut config = planton_base();
        edit(&mut config);
        let value = testing::config(&config).unwrap();
        let job = KubernetesJob::from_value(&value).unwrap();
        let mut got: Vec<(String, String)> = planton_rules(&job)
            .iter()
            .map(|d| {
                (
                    d.summary.clone(),
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(String, String)> = expect
            .iter()
            .map(|(s, p)| (s.to_string(), p.to_string()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

/// The Planton base object also passes every other rule; its references
/// are what Terraform alone refuses.
#[test]
fn planton_base_passes_all_rules() {
    assert_eq!(errors(&planton_base()), Vec::<(String, String)>::new());
}
