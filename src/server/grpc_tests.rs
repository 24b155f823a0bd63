//! The provider service driven directly, with the framework's small test
//! provider: schemas and metadata, lists, identities, imports, generated
//! configuration and function calls as Terraform sends and reads them. The
//! rules behind the answers are tested in the framework (`tf::dispatch`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;

use std::sync::Arc;

use super::*;
use crate::server::convert::{decode_value, encode_value};
use crate::tf::Type;
use crate::tf::dispatch::testing::{TYPE, TestProvider, identity, identity_ty, schema, state};
use crate::tf::{Value, function::FunctionError};

fn service(count: usize) -> ProviderService {
    ProviderService::new(Arc::new(TestProvider::new(count)))
}

/// Every event of a ListResource call, in order.
async fn list_events(
    svc: &ProviderService,
    request: pb::list_resource::Request,
) -> Vec<pb::list_resource::Event> {
    svc.list_resource(Request::new(request))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await
}

fn dynamic(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(encode_value(v, ty).unwrap())
}

fn identity_of(data: Option<pb::ResourceIdentityData>) -> Value {
    decode_value(data.unwrap().identity_data.as_ref(), &identity_ty()).unwrap()
}

/// The schema offers the list resource and the generation capability.
#[tokio::test]
async fn schema_offers_list_and_generation() {
    let s = service(0)
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(s.list_resource_schemas.contains_key(TYPE));
    assert!(s.server_capabilities.unwrap().generate_resource_config);
    let m = service(0)
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.list_resources[0].type_name, TYPE);
}

/// An unknown list type is one event carrying one error.
#[tokio::test]
async fn unknown_list_type_is_one_error() {
    let events = list_events(
        &service(1),
        pb::list_resource::Request {
            type_name: "nope".into(),
            config: None,
            include_resource_object: false,
            limit: 10,
        },
    )
    .await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.diagnostic.len(), 1);
    assert!(
        event.diagnostic[0]
            .summary
            .contains("Unknown List Resource Type")
    );
}

fn call_shout(svc: &ProviderService, arg: &Value) -> Result<pb::DynamicValue, FunctionError> {
    calls::call(
        &svc.fw,
        pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![encode_value(arg, &Type::String).unwrap()],
        },
    )
}

/// A call decodes by the parameter type and encodes by the return type;
/// an unknown argument the function does not accept gives an unknown
/// result without a call; a result of the wrong type is an error, not a
/// value Terraform cannot read.
#[tokio::test]
async fn functions_are_called_within_their_promises() {
    let s = service(0);
    let ok = call_shout(&s, &Value::string("hi")).unwrap();
    assert_eq!(
        decode_value(Some(&ok), &Type::String).unwrap(),
        Value::string("HI")
    );
    let unknown = call_shout(&s, &Value::UNKNOWN).unwrap();
    assert!(
        decode_value(Some(&unknown), &Type::String)
            .unwrap()
            .is_unknown()
    );
    let wrong = call_shout(&s, &Value::string("wrong")).unwrap_err();
    assert_eq!(wrong.argument, None);
    assert!(wrong.text.contains("bug in the provider"), "{}", wrong.text);
    let null = call_shout(&s, &Value::Null).unwrap_err();
    assert_eq!(null.argument, Some(0));
    assert_eq!(null.text, "Argument \"text\" must not be null.");
    let extra = calls::call(
        &s.fw,
        pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![pb::DynamicValue::default(), pb::DynamicValue::default()],
        },
    )
    .unwrap_err();
    assert_eq!(extra.argument, None);
    assert!(
        extra
            .text
            .contains("takes 1 argument(s) (text), but the call passed 2")
    );
    let undecodable = calls::call(
        &s.fw,
        pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![pb::DynamicValue {
                msgpack: vec![0x01],
                json: vec![],
            }],
        },
    )
    .unwrap_err();
    assert_eq!(undecodable.argument, Some(0));
}

/// The framework's identity answers reach Terraform as it expects: a
/// derived identity encoded, a kept one exactly as Terraform sent it, a
/// bad one as an error next to the kept one, none for a destroy.
#[tokio::test]
async fn identities_cross_the_wire() {
    let svc = service(0);
    let ty = schema().value_type();
    let planned = Value::object([
        ("name", Value::string("n")),
        ("size", Value::int(1)),
        ("id", Value::UNKNOWN),
    ]);
    let applied = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: None,
            planned_state: dynamic(&planned, &ty),
            config: dynamic(&planned, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_of(applied.new_identity), identity("n"));

    let sent = Some(pb::ResourceIdentityData {
        identity_data: dynamic(&identity("kept"), &identity_ty()),
    });
    let plan = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: applied.new_state.clone(),
            proposed_new_state: applied.new_state.clone(),
            config: applied.new_state.clone(),
            prior_identity: sent.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_of(plan.planned_identity), identity("kept"));

    let destroy = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: applied.new_state,
            prior_identity: sent.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(destroy.planned_identity.is_none());

    let read = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: dynamic(&state("bad"), &ty),
            current_identity: sent,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_of(read.new_identity), identity("kept"));
    assert_eq!(read.diagnostics.len(), 1);
    assert_eq!(
        read.diagnostics[0].summary,
        "Provider Produced An Invalid Value"
    );
}

/// Lists, imports and generated configuration in protocol form: each
/// result's identity and object encoded, an interrupted import with no
/// imported resource, the configuration as a value of the resource type.
#[tokio::test]
async fn answers_cross_the_wire() {
    let svc = service(5);
    let config_ty = Type::object([("prefix", Type::String)]);
    let config = Value::object([("prefix", Value::string("a"))]);
    let events = list_events(
        &svc,
        pb::list_resource::Request {
            type_name: TYPE.into(),
            config: dynamic(&config, &config_ty),
            include_resource_object: true,
            limit: 2,
        },
    )
    .await;
    assert_eq!(events.len(), 2);
    assert_eq!(identity_of(events[1].identity.clone()), identity("a-1"));
    let ty = schema().value_type();
    let object = decode_value(events[0].resource_object.as_ref(), &ty).unwrap();
    assert_eq!(object.get("name"), &Value::string("a-0"));

    let import = svc.import_resource_state(Request::new(pb::import_resource_state::Request {
        type_name: TYPE.into(),
        id: "hang".into(),
        ..Default::default()
    }));
    let stop = svc.stop_provider(Request::new(pb::stop_provider::Request {}));
    let (imported, stopped) = tokio::join!(import, stop);
    stopped.unwrap();
    let imported = imported.unwrap().into_inner();
    assert_eq!(imported.diagnostics[0].summary, "Import Interrupted");
    assert!(imported.imported_resources.is_empty());
    let again = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: TYPE.into(),
            id: "n".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let only = &again.imported_resources[0];
    assert_eq!(identity_of(only.identity.clone()), identity("n"));
    assert_eq!(decode_value(only.state.as_ref(), &ty).unwrap(), state("n"));

    let generated = svc
        .generate_resource_config(Request::new(pb::generate_resource_config::Request {
            type_name: TYPE.into(),
            state: dynamic(&state("n"), &ty),
        }))
        .await
        .unwrap()
        .into_inner();
    let config = decode_value(generated.config.as_ref(), &ty).unwrap();
    assert_eq!(config.get("name"), &Value::string("n"));
    assert_eq!(config.get("id"), &Value::Null);
}
