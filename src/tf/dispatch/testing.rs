//! A small provider for the framework's tests and the transport's: one
//! resource `test_thing` with an identity, its data source and list
//! resource, and one function. Each behaviour a test needs is keyed by a value (an import ID
//! `hang` never answers, a prior state named `stuck` cannot be deleted).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::tf::diag::Diagnostics;
use crate::tf::function::{Function, FunctionError, Parameter, Signature};
use crate::tf::resource::{
    ApplyResponse, CreateRequest, DataSource, DeferredReason, DeleteRequest, ImportRequest,
    ImportResponse, ListRequest, ListResource, ListResult, ListSink, Provider, ReadDataRequest,
    ReadDataResponse, ReadRequest, ReadResponse, Resource, UpdateRequest, ValidateRequest,
};
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::schema::{IdentityAttribute, IdentitySchema};
use crate::tf::types::Type;
use crate::tf::value::Value;

/// The resource type name.
pub const TYPE: &str = "test_thing";

/// The resource's schema.
pub fn schema() -> Schema {
    Schema::new(Block::new(
        vec![
            Attribute::required("name", Type::String, "Name."),
            Attribute::optional("size", Type::Number, "Size.").with_default(Value::int(1)),
            Attribute::computed("id", Type::String, "Id."),
        ],
        "A thing.",
    ))
}

/// The identity's object type.
pub fn identity_ty() -> Type {
    Type::object([("name", Type::String)])
}

/// A state of the thing named `name`.
pub fn state(name: &str) -> Value {
    Value::object([
        ("name", Value::string(name)),
        ("size", Value::int(1)),
        ("id", Value::string("id-1")),
    ])
}

/// The identity of the thing named `name`.
pub fn identity(name: &str) -> Value {
    Value::object([("name", Value::string(name))])
}

/// The resource. It records which operation ran; its identity is its
/// name, except for the name `nameless` (no identity) and `bad` (an
/// identity of the wrong type).
#[derive(Default)]
pub struct Thing {
    /// The operations called, in order.
    pub calls: Mutex<Vec<&'static str>>,
}

impl Thing {
    fn called(&self, op: &'static str) {
        self.calls.lock().unwrap().push(op);
    }
}

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
        match state.get("name").as_str()? {
            "nameless" => None,
            "bad" => Some(Value::object([("name", Value::int(1))])),
            name => Some(Value::object([("name", Value::string(name))])),
        }
    }
    async fn validate(&self, _req: ValidateRequest) -> Diagnostics {
        Diagnostics::new()
    }
    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        self.called("create");
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
        self.called("read");
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            ..ReadResponse::default()
        }
    }
    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        self.called("update");
        ApplyResponse {
            new_state: req.planned_state,
            ..ApplyResponse::default()
        }
    }
    /// Answers the prior state even on success, so that the framework's
    /// rule shows; `stuck` cannot be deleted.
    async fn delete(&self, req: DeleteRequest) -> ApplyResponse {
        self.called("delete");
        let mut diagnostics = Diagnostics::new();
        if req.prior_state.get("name").as_str() == Some("stuck") {
            diagnostics.error("Stuck", "It cannot be deleted.");
        }
        ApplyResponse {
            new_state: req.prior_state,
            private: Vec::new(),
            diagnostics,
        }
    }
    /// The ID `hang` never answers, as an import from a silent cluster;
    /// `missing` is an error.
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        if req.id == "hang" {
            futures::future::pending::<()>().await;
        }
        let mut resp = ImportResponse {
            state: state(&req.id),
            ..ImportResponse::default()
        };
        if req.id == "missing" {
            resp.diagnostics.error("Not Found", "No such thing.");
        }
        resp
    }
}

/// Lists `count` things, then reports a warning that concerns none.
pub struct Things {
    /// How many things exist.
    pub count: usize,
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

/// Reads a thing by `name`: `size` is the name's length; the name
/// `later` defers, `nothing` answers no state.
pub struct Looked;

#[async_trait]
impl DataSource for Looked {
    fn type_name(&self) -> &'static str {
        TYPE
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            vec![
                Attribute::required("name", Type::String, "Name."),
                Attribute::computed("size", Type::Number, "Size."),
            ],
            "A thing, looked up.",
        ))
    }
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let name = req
            .config
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut resp = ReadDataResponse::default();
        match name.as_str() {
            "later" => resp.deferred = Some(DeferredReason::ProviderConfigUnknown),
            "nothing" => {}
            _ => {
                resp.state = Value::object([
                    ("name", Value::string(&name)),
                    ("size", Value::int(name.len() as i64)),
                ]);
            }
        }
        resp
    }
}

/// The provider: [`Thing`], [`Looked`], [`Things`] and [`Shout`].
pub struct TestProvider {
    /// How many things the list finds.
    pub count: usize,
    /// The resource.
    pub thing: Arc<Thing>,
}

impl TestProvider {
    /// A provider whose list finds `count` things.
    pub fn new(count: usize) -> Self {
        TestProvider {
            count,
            thing: Arc::new(Thing::default()),
        }
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn schema(&self) -> Schema {
        Schema::default()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![self.thing.clone()]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Looked)]
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
pub struct Shout;

impl Function for Shout {
    fn name(&self) -> &'static str {
        "shout"
    }
    fn signature(&self) -> Signature {
        Signature {
            summary: "Shouts.".into(),
            description: "Upper-cases `text`.".into(),
            parameters: vec![Parameter::new("text", Type::String, "The text.")],
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
