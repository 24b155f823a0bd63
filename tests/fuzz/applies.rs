//! Target: ApplyResourceChange of `planton_kubernetes_job`.
//!
//! - Against a provider that was never configured, with random prior,
//!   planned and configuration values: never a panic; an answer without
//!   errors is a state of the schema type consistent with the plan.
//! - Against the API-server emulator, with Planton's example manifests
//!   changed in up to three places, planned as Terraform would, applied,
//!   and destroyed: never a panic; a successful apply gives a state
//!   consistent with the plan; an apply told to stop (StopProvider)
//!   returns within five seconds; and after the destroy nothing of the
//!   job is left in the cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use planton_provider::kube::clusters::{ClusterRef, Clusters};
use planton_provider::kube::settings::{ConnectionSettings, ProviderSettings};
use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::tf::dispatch::apply_resource_change;
use planton_provider::tf::plan::{PlanInput, plan_resource_change};
use planton_provider::tf::resource::{ApplyRequest, ApplyResponse, ClientCapabilities};
use planton_provider::tf::value::msgpack;
use planton_provider::tf::{Resource, Type, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use crate::inputs::{
    Shape, Target, arb_mutation, arb_object, cases, mutate, network_cases, runtime,
};
use crate::plans::{example_configs, plan};
use crate::terraform::apply_errors;

/// Terraform's checks of an apply's answer.
fn check_apply(ty: &Type, planned: &Value, resp: &ApplyResponse) -> Result<(), TestCaseError> {
    if resp.diagnostics.has_error() {
        // Terraform keeps whatever state came back: it must be of the
        // schema type and wholly known ("Provider returned invalid result
        // object after apply" otherwise, and the unknowns are saved as null).
        msgpack::encode(&resp.new_state, ty).map_err(|e| {
            TestCaseError::fail(format!(
                "a failed apply returned a state of another type: {e}"
            ))
        })?;
        prop_assert!(
            resp.new_state.is_wholly_known(),
            "a failed apply returned a state with unknown values: {:?}\n{:?}",
            resp.new_state,
            resp.diagnostics
        );
        return Ok(());
    }
    msgpack::encode(&resp.new_state, ty).map_err(|e| {
        TestCaseError::fail(format!("the new state is not of the schema type: {e}"))
    })?;
    let errs = apply_errors(planned, &resp.new_state);
    prop_assert!(
        errs.is_empty(),
        "Provider produced inconsistent result after apply:\n  {}",
        errs.join("\n  ")
    );
    Ok(())
}

#[test]
fn applies_of_random_values_on_an_unconfigured_provider_never_panic() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let attributes = schema.block.attributes.clone();
    let ty = schema.value_type();
    let rt = runtime();
    let target = Target::new("ApplyResourceChange: random values, unconfigured provider");
    let state = prop_oneof![1 => Just(Value::Null), 3 => arb_object(&attributes, Shape::State)];
    let planned = prop_oneof![
        1 => Just(Value::Null),
        2 => arb_object(&attributes, Shape::State),
        2 => arb_object(&attributes, Shape::Config),
    ];
    let config = prop_oneof![1 => Just(Value::Null), 3 => arb_object(&attributes, Shape::Config)];
    let inputs = (state, planned, config, vec(any::<u8>(), 0..48));
    target.run(cases(500), inputs, |(prior, planned, config, private)| {
        let resp = rt.block_on(apply_resource_change(
            &resource,
            ApplyRequest {
                prior_state: prior,
                planned_state: planned.clone(),
                config,
                planned_private: private,
                cancel: CancellationToken::new(),
            },
        ));
        if resp.diagnostics.has_error() {
            target.reached("refused with an error");
        }
        check_apply(&ty, &planned, &resp)
    });
}

/// Names of the objects of this job left in the cluster: every namespaced
/// kind the provider makes, by the `planton.ai/name` label, and the
/// namespace if the job created it.
async fn leftovers(client: &kube::Client, job: &str, namespace: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    for (prefix, plural) in [
        ("/apis/batch/v1", "jobs"),
        ("/api/v1", "configmaps"),
        ("/api/v1", "secrets"),
        ("/api/v1", "serviceaccounts"),
    ] {
        let req = http::Request::builder()
            .uri(format!(
                "{prefix}/{plural}?labelSelector=planton.ai%2Fname%3D{}",
                urlencode(job)
            ))
            .body(Vec::new())
            .unwrap();
        let Ok(list) = client.request::<Json>(req).await else {
            continue;
        };
        for item in list["items"].as_array().into_iter().flatten() {
            if item["metadata"]["deletionTimestamp"].is_null() {
                found.push(format!(
                    "{plural} {}/{}",
                    item["metadata"]["namespace"].as_str().unwrap_or(""),
                    item["metadata"]["name"].as_str().unwrap_or("")
                ));
            }
        }
    }
    if let Some(ns) = namespace {
        let req = http::Request::builder()
            .uri(format!("/api/v1/namespaces/{}", urlencode(ns)))
            .body(Vec::new())
            .unwrap();
        if let Ok(obj) = client.request::<Json>(req).await
            && obj["metadata"]["deletionTimestamp"].is_null()
        {
            found.push(format!("namespace {ns}"));
        }
    }
    found
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A planned change applied as Terraform applies it, with StopProvider
/// after `stop_after`; fails if the apply outlives the stop by 5 s.
async fn apply_with_stop(
    resource: &KubernetesJobResource,
    prior: &Value,
    planned: &Value,
    config: &Value,
    private: Vec<u8>,
    stop_after: Duration,
) -> Result<ApplyResponse, TestCaseError> {
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    let stopped_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mark = stopped_at.clone();
    let timer = tokio::spawn(async move {
        tokio::time::sleep(stop_after).await;
        *mark.lock().unwrap() = Some(Instant::now());
        stopper.cancel();
    });
    let resp = apply_resource_change(
        resource,
        ApplyRequest {
            prior_state: prior.clone(),
            planned_state: planned.clone(),
            config: config.clone(),
            planned_private: private,
            cancel,
        },
    )
    .await;
    timer.abort();
    if let Some(at) = *stopped_at.lock().unwrap() {
        let late = at.elapsed();
        prop_assert!(
            late < Duration::from_secs(5),
            "the apply returned {late:?} after StopProvider"
        );
    }
    Ok(resp)
}

#[test]
fn applies_of_changed_examples_against_the_emulator_converge_and_clean_up() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let ty = schema.value_type();
    let bases = example_configs(&resource);
    let rt = runtime();
    let target = Target::new("ApplyResourceChange: changed examples against the emulator");
    let n = bases.len();
    let inputs = (0..n, vec(arb_mutation(), 0..4), 0..4u8);
    let dir = tempfile::tempdir().unwrap();
    let cases = network_cases(30, 100);
    target.run(cases, inputs, |(which, changes, wait)| {
        rt.block_on(async {
            let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::fast())
                .await
                .unwrap();
            let path = dir
                .path()
                .join(format!("kubeconfig-{}", emulator.addr.port()));
            std::fs::write(&path, &emulator.kubeconfig).unwrap();
            let clients = Arc::new(Clusters::new());
            clients.install(ProviderSettings::provider_level(
                ConnectionSettings::kubeconfig_file(path),
            ));
            let client = clients.connect(&ClusterRef::Provider).await.unwrap().client;
            let resource = KubernetesJobResource::with_clients(clients);

            let mut config = bases[which].clone();
            if let Value::Object(m) = &mut config {
                // Waiting on most examples never ends in the emulator (their
                // Secrets do not exist): wait in a quarter of the cases, and
                // stop those after two seconds.
                m.insert("wait_for_completion".into(), Value::Bool(wait == 0));
            }
            for c in &changes {
                mutate(&mut config, c, true);
            }
            let Some(planned) = plan(
                &resource,
                &Value::Null,
                &config,
                Vec::new(),
                ClientCapabilities::default(),
                &target,
            )
            .await
            else {
                return Ok(());
            };
            if planned.response.diagnostics.has_error() {
                return Ok(());
            }
            let created = apply_with_stop(
                &resource,
                &Value::Null,
                &planned.response.planned_state,
                &config,
                planned.response.planned_private.clone(),
                Duration::from_secs(2),
            )
            .await?;
            check_apply(&ty, &planned.response.planned_state, &created)?;
            target.reached(if created.diagnostics.has_error() {
                "create failed"
            } else {
                "created"
            });
            let job = config
                .get("metadata")
                .get("name")
                .as_str()
                .unwrap_or("")
                .to_string();
            let created_ns = config
                .get("spec")
                .get("create_namespace")
                .as_bool()
                .unwrap_or(false)
                .then(|| {
                    config
                        .get("spec")
                        .get("namespace")
                        .get("value")
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                });
            if created.new_state.is_null() {
                // A failed create leaves nothing.
                let left = leftovers(&client, &job, None).await;
                prop_assert!(
                    left.is_empty(),
                    "a failed create left {left:?}: {:?}",
                    created.diagnostics
                );
                return Ok(());
            }
            // Destroy what the apply recorded, as Terraform would.
            let state = created.new_state.clone();
            let destroy_plan = plan_resource_change(
                &resource,
                PlanInput {
                    prior_state: state.clone(),
                    proposed_new_state: Value::Null,
                    config: Value::Null,
                    prior_private: created.private.clone(),
                    capabilities: ClientCapabilities::default(),
                },
            )
            .await;
            prop_assert_eq!(&destroy_plan.planned_state, &Value::Null);
            let destroyed = apply_with_stop(
                &resource,
                &state,
                &Value::Null,
                &Value::Null,
                created.private.clone(),
                Duration::from_secs(30),
            )
            .await?;
            prop_assert!(
                !destroyed.diagnostics.has_error(),
                "destroy failed: {:?}",
                destroyed.diagnostics
            );
            target.reached("destroyed");
            let left = leftovers(&client, &job, created_ns.as_deref()).await;
            prop_assert!(left.is_empty(), "destroy left {left:?}");
            drop(emulator);
            Ok(())
        })
    });
    target.assert_reached("created", cases, 0.1);
    target.assert_reached("destroyed", cases, 0.1);
}
