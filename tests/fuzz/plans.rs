//! Target: PlanResourceChange of `planton_kubernetes_job` through the
//! framework's plan pipeline (`tf::plan::plan_resource_change`), with
//! Terraform played by `terraform.rs`: the proposed new state is built as
//! Terraform builds it, and a plan without errors must pass Terraform's
//! plan-validity checks, conform to the schema type, and name only
//! requires-replace paths that exist.
//!
//! Two kinds of input: random schema-typed configurations and prior states
//! (they mostly fail validation, and check that nothing panics on
//! nonsense), and Planton's example manifests as configurations with up to
//! three changes, planned as a create and then as an update over the state
//! the first plan leads to (they mostly validate, and reach the update
//! buckets, the requires-replace logic and the import adjustments).

use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::kubernetes_job::manifest::FromManifest;
use planton_provider::tf::plan::{PlanInput, plan_resource_change};
use planton_provider::tf::resource::{
    ClientCapabilities, GenerateConfigRequest, PlanResponse, ValidateRequest,
};
use planton_provider::tf::schema::Attribute;
use planton_provider::tf::value::msgpack;
use planton_provider::tf::{Resource, Type, Value};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::inputs::{
    Mutation, Shape, Target, arb_mutation, arb_object, cases, decoded, example_manifests, mutate,
    runtime,
};
use crate::terraform::{plan_errors, proposed_new, replace_path_errors};

/// One plan as Terraform asks for it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub prior: Value,
    pub config: Value,
    pub response: PlanResponse,
}

fn capabilities(
    (deferral_allowed, write_only_attributes_allowed): (bool, bool),
) -> ClientCapabilities {
    ClientCapabilities {
        deferral_allowed,
        write_only_attributes_allowed,
    }
}

/// Validates `config` (as Terraform does first), then plans it over
/// `prior`; `None` when validation failed and Terraform would not plan.
pub async fn plan(
    resource: &KubernetesJobResource,
    prior: &Value,
    config: &Value,
    private: Vec<u8>,
    caps: ClientCapabilities,
    target: &Target,
) -> Option<Planned> {
    let attributes = resource.schema().block.attributes;
    let validation = resource
        .validate(ValidateRequest {
            config: config.clone(),
            capabilities: caps,
        })
        .await;
    // A plan of an invalid configuration must not panic either, but
    // Terraform never looks at it.
    let proposed = proposed_new(&attributes, prior, config);
    let response = plan_resource_change(
        resource,
        PlanInput {
            prior_state: prior.clone(),
            proposed_new_state: proposed,
            config: config.clone(),
            prior_private: private,
            capabilities: caps,
        },
    )
    .await;
    if validation.has_error() {
        target.reached("refused by validation");
        return None;
    }
    target.reached("validated");
    Some(Planned {
        prior: prior.clone(),
        config: config.clone(),
        response,
    })
}

/// Terraform's checks of a plan it received.
pub fn check(
    attributes: &[Attribute],
    ty: &Type,
    p: &Planned,
    target: &Target,
) -> Result<(), TestCaseError> {
    let r = &p.response;
    if r.diagnostics.has_error() {
        target.reached("plan refused with an error");
        return Ok(());
    }
    if r.deferred.is_some() {
        target.reached("plan deferred");
    }
    msgpack::encode(&r.planned_state, ty).map_err(|e| {
        TestCaseError::fail(format!(
            "the planned state does not conform to the schema: {e}"
        ))
    })?;
    let mut errs = plan_errors(attributes, &p.prior, &p.config, &r.planned_state);
    errs.extend(replace_path_errors(
        &p.prior,
        &r.planned_state,
        &r.requires_replace,
    ));
    if !errs.is_empty() {
        return Err(TestCaseError::fail(format!(
            "Provider produced invalid plan:\n  {}\nplanned: {:?}",
            errs.join("\n  "),
            r.planned_state
        )));
    }
    target.reached("plan checked");
    if !r.requires_replace.is_empty() {
        target.reached("plan replaces");
    }
    Ok(())
}

/// A state the plan `planned` could lead to: unknowns filled with values
/// of their type.
pub fn applied(planned: &Value, ty: &Type) -> Value {
    match (planned, ty) {
        (Value::Unknown(_), Type::String) => Value::string("applied"),
        (Value::Unknown(_), Type::Number) => Value::int(1),
        (Value::Unknown(_), Type::Bool) => Value::Bool(false),
        (Value::Unknown(_), Type::List(_)) => Value::List(Vec::new()),
        (Value::Unknown(_), Type::Set(_)) => Value::Set(Vec::new()),
        (Value::Unknown(_), Type::Map(_)) => Value::Map(Default::default()),
        (Value::Unknown(_), Type::Object(attrs)) => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| (k.clone(), applied(&Value::UNKNOWN, t)))
                .collect(),
        ),
        (Value::Unknown(_), _) => Value::Null,
        (Value::List(items), Type::List(t)) => {
            Value::List(items.iter().map(|i| applied(i, t)).collect())
        }
        (Value::Set(items), Type::Set(t)) => {
            Value::Set(items.iter().map(|i| applied(i, t)).collect())
        }
        (Value::Map(m), Type::Map(t)) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), applied(v, t))).collect())
        }
        (Value::Object(m), Type::Object(attrs)) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let t = attrs.get(k).cloned().unwrap_or(Type::Dynamic);
                    (k.clone(), applied(v, &t))
                })
                .collect(),
        ),
        (v, _) => v.clone(),
    }
}

/// The example manifests as resource configurations (every other
/// attribute null).
pub fn example_configs(resource: &KubernetesJobResource) -> Vec<Value> {
    let f = FromManifest::new();
    let ty = resource.schema().value_type();
    let Type::Object(attrs) = &ty else {
        panic!("not an object type")
    };
    example_manifests()
        .iter()
        .map(|m| {
            let converted = f.convert(&decoded(m)).unwrap();
            let mut config: std::collections::BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            config.insert("metadata".into(), converted.get("metadata").clone());
            config.insert("spec".into(), converted.get("spec").clone());
            Value::Object(config)
        })
        .collect()
}

/// The resource's settings outside `metadata` and `spec`, drawn as a
/// configuration would set them, laid over `config`.
fn with_settings(config: &Value, settings: &Value) -> Value {
    let mut out = config.clone();
    if let (Value::Object(m), Some(s)) = (&mut out, settings.as_entries()) {
        for (k, v) in s {
            if k != "metadata" && k != "spec" {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[test]
fn random_configurations_and_states_plan_validly_or_fail_cleanly() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let attributes = schema.block.attributes.clone();
    let ty = schema.value_type();
    let rt = runtime();
    let target = Target::new("PlanResourceChange: random values");
    let inputs = (
        arb_object(&attributes, Shape::Config),
        prop_oneof![1 => Just(Value::Null), 2 => arb_object(&attributes, Shape::State)],
        vec(any::<u8>(), 0..32),
        any::<(bool, bool)>(),
    );
    target.run(cases(300), inputs, |(config, prior, private, caps)| {
        let planned = rt.block_on(plan(
            &resource,
            &prior,
            &config,
            private,
            capabilities(caps),
            &target,
        ));
        if let Some(p) = planned {
            check(&attributes, &ty, &p, &target)?;
        }
        Ok(())
    });
}

#[test]
fn example_manifests_changed_plan_validly_as_create_and_update() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let attributes = schema.block.attributes.clone();
    let ty = schema.value_type();
    let bases = example_configs(&resource);
    let rt = runtime();
    let target = Target::new("PlanResourceChange: changed example manifests");
    let n = bases.len();
    let inputs = (
        0..n,
        arb_object(&attributes, Shape::Config),
        vec(arb_mutation(), 0..4),
        0..n,
        vec(arb_mutation(), 0..4),
        any::<(bool, bool)>(),
    );
    let cases = cases(800);
    target.run(
        cases,
        inputs,
        |(first, settings, first_changes, second, second_changes, caps): (
            usize,
            Value,
            Vec<Mutation>,
            usize,
            Vec<Mutation>,
            (bool, bool),
        )| {
            // Settings such as `timeouts` half of the time.
            let settings_on = first_changes.len() % 2 == 0;
            let mut create = if settings_on {
                with_settings(&bases[first], &settings)
            } else {
                bases[first].clone()
            };
            for m in &first_changes {
                mutate(&mut create, m, false);
            }
            let Some(created) = rt.block_on(plan(
                &resource,
                &Value::Null,
                &create,
                Vec::new(),
                capabilities(caps),
                &target,
            )) else {
                return Ok(());
            };
            check(&attributes, &ty, &created, &target)?;
            if created.response.diagnostics.has_error() {
                return Ok(());
            }
            // The state that create leads to, then another configuration:
            // the same with changes, or another example.
            let state = applied(&created.response.planned_state, &ty);
            let mut update = if second % 2 == 0 {
                create.clone()
            } else {
                bases[second].clone()
            };
            for m in &second_changes {
                mutate(&mut update, m, false);
            }
            if let Some(updated) = rt.block_on(plan(
                &resource,
                &state,
                &update,
                created.response.planned_private.clone(),
                capabilities(caps),
                &target,
            )) {
                target.reached("update planned");
                check(&attributes, &ty, &updated, &target)?;
            }
            // And its destroy: null, whatever the state.
            let destroy = rt.block_on(plan_resource_change(
                &resource,
                PlanInput {
                    prior_state: state,
                    proposed_new_state: Value::Null,
                    config: Value::Null,
                    prior_private: created.response.planned_private,
                    capabilities: capabilities(caps),
                },
            ));
            prop_assert_eq!(destroy.planned_state, Value::Null);
            Ok(())
        },
    );
    target.assert_reached("plan checked", cases, 0.5);
    target.assert_reached("update planned", cases, 0.2);
    target.assert_reached("plan replaces", cases, 0.05);
}

#[test]
fn generated_configuration_of_any_state_is_a_configuration() {
    let resource = KubernetesJobResource::new();
    let schema = resource.schema();
    let attributes = schema.block.attributes.clone();
    let ty = schema.value_type();
    let rt = runtime();
    let target = Target::new("GenerateResourceConfig and identity: random states");
    let cases = cases(500);
    target.run(cases, arb_object(&attributes, Shape::State), |state| {
        let _ = resource.identity(&state);
        let generated = rt.block_on(resource.generate_config(GenerateConfigRequest { state }));
        if generated.diagnostics.has_error() {
            return Ok(());
        }
        target.reached("generated");
        msgpack::encode(&generated.config, &ty).map_err(|e| {
            TestCaseError::fail(format!(
                "generated configuration is not of the schema type: {e}"
            ))
        })?;
        // Nothing a configuration cannot set.
        for a in &attributes {
            if !a.required && !a.optional {
                prop_assert!(
                    generated.config.get(&a.name).is_null(),
                    "generated a value for computed-only {}",
                    a.name
                );
            }
        }
        Ok(())
    });
    target.assert_reached("generated", cases, 0.5);
}
