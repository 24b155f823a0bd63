//! Target: whole PlanResourceChange and ApplyResourceChange requests
//! through the provider's gRPC server (`server::serve_on`, in this
//! process, on a Unix socket), with the `planton` provider configured for a
//! cluster that does not answer (a plan never contacts one; an apply fails
//! fast) or not configured at all.
//!
//! Each request's `DynamicValue`s are schema-typed values (msgpack, or
//! JSON when wholly known), random bytes, or nothing; the type name is
//! sometimes wrong. Every call must be answered (no gRPC error, no panic
//! in any task), and a plan answered without errors must pass Terraform's
//! checks.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::provider::PlantonProvider;
use planton_provider::provider::schema::provider_schema;
use planton_provider::server;
use planton_provider::server::proto::tfplugin6 as pb;
use planton_provider::server::proto::tfplugin6::provider_client::ProviderClient;
use planton_provider::tf::value::{json, msgpack};
use planton_provider::tf::{Resource, Type, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

use crate::inputs::{Shape, Target, arb_object, network_cases, runtime};
use crate::plans::{Planned, check};
use crate::terraform::proposed_new;

const TYPE_NAME: &str = "planton_kubernetes_job";

/// How a value travels in a request.
#[derive(Debug, Clone)]
enum Wire {
    /// The value, msgpack-encoded.
    Msgpack,
    /// The value as JSON (msgpack when it is not wholly known).
    Json,
    /// No `DynamicValue` at all.
    Absent,
    /// These bytes as msgpack.
    Bytes(Vec<u8>),
    /// These bytes as JSON.
    JsonBytes(Vec<u8>),
}

fn arb_wire() -> BoxedStrategy<Wire> {
    prop_oneof![
        8 => Just(Wire::Msgpack),
        2 => Just(Wire::Json),
        1 => Just(Wire::Absent),
        1 => vec(any::<u8>(), 0..64).prop_map(Wire::Bytes),
        1 => vec(any::<u8>(), 0..64).prop_map(Wire::JsonBytes),
    ]
    .boxed()
}

fn dynamic(value: &Value, ty: &Type, wire: &Wire) -> Option<pb::DynamicValue> {
    let packed = |v: &Value| pb::DynamicValue {
        msgpack: msgpack::encode(v, ty).unwrap(),
        json: Vec::new(),
    };
    match wire {
        Wire::Msgpack => Some(packed(value)),
        Wire::Json => Some(match json::encode(value, ty) {
            Ok(text) => pb::DynamicValue {
                msgpack: Vec::new(),
                json: text,
            },
            Err(_) => packed(value),
        }),
        Wire::Absent => None,
        Wire::Bytes(b) => Some(pb::DynamicValue {
            msgpack: b.clone(),
            json: Vec::new(),
        }),
        Wire::JsonBytes(b) => Some(pb::DynamicValue {
            msgpack: Vec::new(),
            json: b.clone(),
        }),
    }
}

/// The provider served in this process, and a client.
struct Served {
    client: ProviderClient<Channel>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn serve(configure: bool) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("plugin.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(server::serve_on(
        listener,
        None,
        Arc::new(PlantonProvider::new()),
        shutdown.clone(),
    ));
    let path = socket.clone();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
        .unwrap();
    let mut client = ProviderClient::new(channel)
        .max_decoding_message_size(server::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(server::MAX_MESSAGE_SIZE);
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    if configure {
        // A cluster nobody answers at: plans never ask it, applies fail fast.
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n\
             contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    \
             token: t\ncurrent-context: x\n",
        )
        .unwrap();
        let ty = provider_schema().value_type();
        let config = json::decode(
            serde_json::json!({ "config_path": kubeconfig.display().to_string() })
                .to_string()
                .as_bytes(),
            &ty,
        )
        .unwrap();
        let resp = client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.15.5".into(),
                config: Some(pb::DynamicValue {
                    msgpack: msgpack::encode(&config, &ty).unwrap(),
                    json: Vec::new(),
                }),
                client_capabilities: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    }
    Served {
        client,
        shutdown,
        _dir: dir,
    }
}

#[test]
fn whole_plan_and_apply_requests_are_answered() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let attributes = schema.block.attributes.clone();
    let ty = schema.value_type();
    let rt = runtime();
    let configured = rt.block_on(serve(true));
    let unconfigured = rt.block_on(serve(false));
    let target = Target::new("gRPC: PlanResourceChange and ApplyResourceChange requests");
    let state = prop_oneof![1 => Just(Value::Null), 3 => arb_object(&attributes, Shape::State)];
    let inputs = (
        arb_object(&attributes, Shape::Config),
        state,
        (arb_wire(), arb_wire(), arb_wire()),
        vec(any::<u8>(), 0..24),
        (any::<bool>(), 0..8u8, any::<(bool, bool)>()),
    );
    let cases = network_cases(200, 10);
    target.run(
        cases,
        inputs,
        |(config, prior, (w_config, w_prior, w_proposed), private, (on_configured, name, caps))| {
            rt.block_on(async {
                let mut client = if on_configured {
                    configured.client.clone()
                } else {
                    unconfigured.client.clone()
                };
                let type_name = if name == 0 { "planton_nothing" } else { TYPE_NAME };
                let proposed = proposed_new(&attributes, &prior, &config);
                let plan = client
                    .plan_resource_change(pb::plan_resource_change::Request {
                        type_name: type_name.into(),
                        prior_state: dynamic(&prior, &ty, &w_prior),
                        proposed_new_state: dynamic(&proposed, &ty, &w_proposed),
                        config: dynamic(&config, &ty, &w_config),
                        prior_private: private.clone(),
                        provider_meta: None,
                        client_capabilities: Some(pb::ClientCapabilities {
                            deferral_allowed: caps.0,
                            write_only_attributes_allowed: caps.1,
                        }),
                        prior_identity: None,
                    })
                    .await
                    .map_err(|s| TestCaseError::fail(format!("PlanResourceChange: gRPC error {s}")))?
                    .into_inner();
                let plain = matches!(w_config, Wire::Msgpack | Wire::Json)
                    && matches!(w_prior, Wire::Msgpack | Wire::Json)
                    && matches!(w_proposed, Wire::Msgpack | Wire::Json)
                    && type_name == TYPE_NAME;
                let failed = plan
                    .diagnostics
                    .iter()
                    .any(|d| d.severity == pb::diagnostic::Severity::Error as i32);
                if !failed {
                    target.reached("planned");
                    let planned = match &plan.planned_state {
                        Some(v) if !v.msgpack.is_empty() => msgpack::decode(&v.msgpack, &ty)
                            .map_err(|e| TestCaseError::fail(format!("planned state: {e}")))?,
                        _ => Value::Null,
                    };
                    if plain && !proposed.is_null() {
                        let requires_replace = plan
                            .requires_replace
                            .iter()
                            .map(|p| {
                                planton_provider::tf::AttributePath(
                                    p.steps
                                        .iter()
                                        .filter_map(|s| s.selector.as_ref())
                                        .map(|s| match s {
                                            pb::attribute_path::step::Selector::AttributeName(n) => {
                                                planton_provider::tf::PathStep::Attribute(n.clone())
                                            }
                                            pb::attribute_path::step::Selector::ElementKeyString(k) => {
                                                planton_provider::tf::PathStep::Key(k.clone())
                                            }
                                            pb::attribute_path::step::Selector::ElementKeyInt(i) => {
                                                planton_provider::tf::PathStep::Index(*i)
                                            }
                                        })
                                        .collect(),
                                )
                            })
                            .collect();
                        let response = planton_provider::tf::resource::PlanResponse {
                            planned_state: planned.clone(),
                            requires_replace,
                            ..Default::default()
                        };
                        check(
                            &attributes,
                            &ty,
                            &Planned {
                                prior: prior.clone(),
                                config: config.clone(),
                                response,
                            },
                            &target,
                        )?;
                    }
                }
                // Apply whatever was planned (or the proposal), as Terraform
                // would after a plan, with the same wires.
                let planned_state = plan.planned_state.clone().or(dynamic(&proposed, &ty, &w_proposed));
                let applied = client
                    .apply_resource_change(pb::apply_resource_change::Request {
                        type_name: type_name.into(),
                        prior_state: dynamic(&prior, &ty, &w_prior),
                        planned_state,
                        config: dynamic(&config, &ty, &w_config),
                        planned_private: plan.planned_private,
                        provider_meta: None,
                        planned_identity: None,
                    })
                    .await
                    .map_err(|s| TestCaseError::fail(format!("ApplyResourceChange: gRPC error {s}")))?
                    .into_inner();
                if let Some(v) = &applied.new_state
                    && !v.msgpack.is_empty()
                {
                    msgpack::decode(&v.msgpack, &ty)
                        .map_err(|e| TestCaseError::fail(format!("new state: {e}")))?;
                }
                target.reached("applied");
                Ok(())
            })
        },
    );
    target.assert_reached("plan checked", cases, 0.1);
    configured.shutdown.cancel();
    unconfigured.shutdown.cancel();
}

#[test]
fn function_calls_with_any_arguments_are_answered() {
    let rt = runtime();
    let served = rt.block_on(serve(false));
    let target = Target::new("gRPC: CallFunction requests");
    let examples: Vec<Value> = crate::inputs::example_manifests()
        .iter()
        .map(crate::inputs::decoded)
        .collect();
    let n = examples.len();
    let argument = prop_oneof![
        // Planton's example manifests, changed in up to three places.
        4 => (0..n, vec(crate::inputs::arb_mutation(), 0..4)).prop_map(move |(i, changes)| {
            let mut v = examples[i].clone();
            for c in &changes {
                crate::inputs::mutate(&mut v, c, false);
            }
            pb::DynamicValue { msgpack: msgpack::encode(&v, &Type::Dynamic).unwrap(), json: Vec::new() }
        }),
        // What Terraform sends for a dynamic parameter: the value with its type.
        4 => crate::inputs::arb_json().prop_map(|doc| {
            let v = crate::inputs::decoded(&doc);
            pb::DynamicValue { msgpack: msgpack::encode(&v, &Type::Dynamic).unwrap(), json: Vec::new() }
        }),
        1 => vec(any::<u8>(), 0..64).prop_map(|b| pb::DynamicValue { msgpack: b, json: Vec::new() }),
        1 => vec(any::<u8>(), 0..64).prop_map(|b| pb::DynamicValue { msgpack: Vec::new(), json: b }),
    ];
    let name = prop_oneof![
        Just("kubernetes_job_from_manifest".to_string()),
        Just("kubernetes_job_manifest".to_string()),
        "[a-z_]{0,12}",
    ];
    let args = prop_oneof![3 => vec(argument.clone(), 1..3), 1 => vec(argument, 0..4)];
    let cases = network_cases(400, 10);
    target.run(cases, (name, args), |(name, arguments)| {
        let mut client = served.client.clone();
        let resp = rt
            .block_on(client.call_function(pb::call_function::Request { name, arguments }))
            .map_err(|s| TestCaseError::fail(format!("CallFunction: gRPC error {s}")))?
            .into_inner();
        match (&resp.result, &resp.error) {
            (Some(result), None) => {
                target.reached("returned a result");
                msgpack::decode(&result.msgpack, &Type::Dynamic)
                    .or_else(|_| {
                        msgpack::decode(
                            &result.msgpack,
                            &planton_provider::kubernetes_job::manifest::job_type(),
                        )
                    })
                    .map_err(|e| TestCaseError::fail(format!("result does not decode: {e}")))?;
            }
            (None, Some(e)) => prop_assert!(!e.text.is_empty(), "an error without text"),
            other => prop_assert!(false, "neither result nor error: {other:?}"),
        }
        Ok(())
    });
    target.assert_reached("returned a result", cases, 0.01);
    served.shutdown.cancel();
}
