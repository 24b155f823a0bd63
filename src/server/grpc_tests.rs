//! The identity, list and configuration-generation RPCs, driven directly
//! on the service with a small provider: identities follow the state,
//! lists stream and stop at the limit, generated configuration drops what
//! a configuration cannot set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use futures::StreamExt;

use super::*;
use crate::tf::resource::{
    ApplyResponse, ImportResponse, ListRequest, ListResult, ListSink, ReadResponse,
};
use crate::tf::schema::IdentityAttribute;
use crate::tf::{Attribute, Block, Diagnostics};

const TYPE: &str = "test_thing";

fn schema() -> Schema {
    Schema::new(Block::new(
        vec![
            Attribute::required("name", Type::String, "Name."),
            Attribute::optional("size", Type::Number, "Size.").with_default(Value::int(1)),
            Attribute::computed("id", Type::String, "Id."),
        ],
        "A thing.",
    ))
}

fn identity_ty() -> Type {
    Type::object([("name", Type::String)])
}

struct Thing;

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        TYPE
    }
    fn schema(&self) -> Schema {
        schema()
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "name".into(),
                ty: Type::String,
                required_for_import: true,
                optional_for_import: false,
                description: "Name.".into(),
            }],
        })
    }
    fn identity(&self, state: &Value) -> Option<Value> {
        let name = state.get("name").as_str()?;
        Some(Value::object([("name", Value::string(name))]))
    }
    async fn validate(&self, _req: ValidateRequest) -> Diagnostics {
        Diagnostics::new()
    }
    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut state = req.planned_state;
        if let Value::Object(m) = &mut state {
            m.insert("id".into(), Value::string("id-1"));
        }
        ApplyResponse {
            new_state: state,
            ..ApplyResponse::default()
        }
    }
    async fn read(&self, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            ..ReadResponse::default()
        }
    }
    /// The ID `hang` never answers, as an import from a silent cluster.
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        if req.id == "hang" {
            futures::future::pending::<()>().await;
        }
        ImportResponse {
            state: Value::object([
                ("name", Value::string(&req.id)),
                ("size", Value::int(1)),
                ("id", Value::string("id-1")),
            ]),
            ..ImportResponse::default()
        }
    }
}

/// Lists `count` things, then reports a warning that concerns none.
struct Things {
    count: usize,
}

#[async_trait]
impl ListResource for Things {
    fn type_name(&self) -> &'static str {
        TYPE
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            vec![Attribute::optional("prefix", Type::String, "Prefix.")],
            "Things.",
        ))
    }
    async fn list(&self, req: ListRequest, out: &ListSink) -> Diagnostics {
        let prefix = req.config.get("prefix").as_str().unwrap_or("t").to_string();
        for i in 0..self.count {
            let name = format!("{prefix}-{i}");
            let state = Value::object([
                ("name", Value::string(&name)),
                ("size", Value::int(1)),
                ("id", Value::string("x")),
            ]);
            let sent = out
                .send(ListResult {
                    identity: Value::object([("name", Value::string(&name))]),
                    display_name: name,
                    resource_object: Some(state),
                    diagnostics: Diagnostics::new(),
                })
                .await;
            if !sent {
                return Diagnostics::new();
            }
        }
        let mut d = Diagnostics::new();
        d.warning("Partial List", "some things could not be read");
        d
    }
}

struct TestProvider {
    count: usize,
}

#[async_trait]
impl Provider for TestProvider {
    fn schema(&self) -> Schema {
        Schema::default()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(Things { count: self.count })]
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Shout)]
    }
}

/// Upper-cases a known string; for "wrong" it returns a value that is not
/// of its return type; unknown arguments must never reach it.
struct Shout;

impl Function for Shout {
    fn name(&self) -> &'static str {
        "shout"
    }
    fn signature(&self) -> Signature {
        Signature {
            summary: "Shouts.".into(),
            description: "Upper-cases `text`.".into(),
            parameters: vec![crate::tf::function::Parameter::new(
                "text",
                Type::String,
                "The text.",
            )],
            variadic_parameter: None,
            return_type: Type::String,
            deprecation: String::new(),
        }
    }
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        match args[0].as_str() {
            Some("wrong") => Ok(Value::int(1)),
            Some(text) => Ok(Value::string(text.to_uppercase())),
            None => panic!("shout called with {:?}", args[0]),
        }
    }
}

fn service(count: usize) -> ProviderService {
    ProviderService::new(Arc::new(TestProvider { count }))
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

/// Results stream with identity and display name; the limit stops the
/// list; the list's own diagnostics come last.
#[tokio::test]
async fn list_streams_and_stops_at_the_limit() {
    let svc = service(5);
    let config_ty = Type::object([("prefix", Type::String)]);
    let config = Value::object([("prefix", Value::string("a"))]);
    let run = |limit: i64, include: bool| {
        list_events(
            &svc,
            pb::list_resource::Request {
                type_name: TYPE.into(),
                config: dynamic(&config, &config_ty),
                include_resource_object: include,
                limit,
            },
        )
    };
    let events = run(3, false).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[2].display_name, "a-2");
    assert_eq!(
        identity_of(events[0].identity.clone()),
        Value::object([("name", Value::string("a-0"))])
    );
    assert!(events[0].resource_object.is_none());

    let events = run(100, true).await;
    assert_eq!(events.len(), 6);
    let object = decode_value(events[0].resource_object.as_ref(), &schema().value_type()).unwrap();
    assert_eq!(object.get("name"), &Value::string("a-0"));
    let last = events.last().unwrap();
    assert!(last.identity.is_none());
    assert_eq!(last.diagnostic[0].summary, "Partial List");
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

/// Create, read and import return the identity of the state; an update
/// keeps the prior identity; a destroy plans none.
#[tokio::test]
async fn identities_follow_the_state() {
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
    let want = Value::object([("name", Value::string("n"))]);
    assert_eq!(identity_of(applied.new_identity.clone()), want);

    let read = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: applied.new_state.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_of(read.new_identity), want);

    let state = decode_value(applied.new_state.as_ref(), &ty).unwrap();
    let plan = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: applied.new_state.clone(),
            proposed_new_state: applied.new_state.clone(),
            config: dynamic(&state, &ty),
            prior_identity: applied.new_identity.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_of(plan.planned_identity), want);

    let destroy = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: applied.new_state,
            proposed_new_state: None,
            config: None,
            prior_identity: applied.new_identity,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(destroy.planned_identity.is_none());
}

/// StopProvider ends an import that is waiting (ImportRequest carries no
/// stop token): it answers at once that it was interrupted.
#[tokio::test]
async fn stop_provider_interrupts_an_import() {
    let svc = service(0);
    let import = svc.import_resource_state(Request::new(pb::import_resource_state::Request {
        type_name: TYPE.into(),
        id: "hang".into(),
        ..Default::default()
    }));
    // `join!` polls the import first: it is waiting when the stop comes.
    let stop = svc.stop_provider(Request::new(pb::stop_provider::Request {}));
    let (imported, stopped) = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        tokio::join!(import, stop)
    })
    .await
    .expect("the import ended on StopProvider");
    stopped.unwrap();
    let imported = imported.unwrap().into_inner();
    assert_eq!(imported.diagnostics.len(), 1);
    assert_eq!(imported.diagnostics[0].summary, "Import Interrupted");
    assert!(imported.imported_resources.is_empty());

    // Later imports run normally.
    let again = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: TYPE.into(),
            id: "n".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    assert_eq!(again.imported_resources.len(), 1);
}

/// Generated configuration leaves out computed attributes and defaults.
#[tokio::test]
async fn generated_configuration() {
    let ty = schema().value_type();
    let state = Value::object([
        ("name", Value::string("n")),
        ("size", Value::int(1)),
        ("id", Value::string("x")),
    ]);
    let resp = service(0)
        .generate_resource_config(Request::new(pb::generate_resource_config::Request {
            type_name: TYPE.into(),
            state: dynamic(&state, &ty),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let config = decode_value(resp.config.as_ref(), &ty).unwrap();
    assert_eq!(
        config,
        Value::object([
            ("name", Value::string("n")),
            ("size", Value::Null),
            ("id", Value::Null),
        ])
    );
}

fn call_shout(svc: &ProviderService, arg: &Value) -> Result<pb::DynamicValue, FunctionError> {
    svc.call(pb::call_function::Request {
        name: "shout".into(),
        arguments: vec![encode_value(arg, &Type::String).unwrap()],
    })
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
    let extra = s
        .call(pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![pb::DynamicValue::default(), pb::DynamicValue::default()],
        })
        .unwrap_err();
    assert_eq!(extra.argument, None);
    assert!(
        extra
            .text
            .contains("takes 1 argument(s) (text), but the call passed 2")
    );
    let undecodable = s
        .call(pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![pb::DynamicValue {
                msgpack: vec![0x01],
                json: vec![],
            }],
        })
        .unwrap_err();
    assert_eq!(undecodable.argument, Some(0));
}
