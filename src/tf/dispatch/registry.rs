//! What the framework serves, looked up by name: each resource, data
//! source, list resource, function and action the provider offers, with
//! its schema and types derived once at start, and the stop signal
//! in-flight work watches.
//! Lookups of a name that is not offered answer the diagnostic Terraform
//! shows for it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::tf::action::Action;
use crate::tf::diag::Diagnostic;
use crate::tf::function::{Function, FunctionError, Signature};
use crate::tf::resource::{
    DataSource, ListResource, MoveRequest, MoveResponse, Provider, Resource, move_not_supported,
};
use crate::tf::schema::{IdentitySchema, Schema};
use crate::tf::types::Type;

/// A resource type with everything derived from it once, at start.
pub struct ResourceEntry {
    /// The resource.
    pub resource: Arc<dyn Resource>,
    /// Its schema.
    pub schema: Schema,
    /// The object type of its state.
    pub ty: Type,
    /// Its identity schema and the identity's object type, if it has one.
    pub identity: Option<(IdentitySchema, Type)>,
}

/// A data source with its schema and type, derived once.
pub struct DataSourceEntry {
    /// The data source.
    pub data_source: Arc<dyn DataSource>,
    /// Its schema.
    pub schema: Schema,
    /// The object type of its configuration and state.
    pub ty: Type,
}

/// A list resource type with its config schema's type, derived once.
pub struct ListEntry {
    /// The list resource.
    pub list: Arc<dyn ListResource>,
    /// The schema of its `config` block.
    pub schema: Schema,
    /// The object type of that block.
    pub ty: Type,
}

/// An action type with its config schema's type, derived once.
pub struct ActionEntry {
    /// The action.
    pub action: Arc<dyn Action>,
    /// The schema of its `config` block.
    pub schema: Schema,
    /// The object type of that block.
    pub ty: Type,
}

/// A function with its signature, derived once.
pub struct FunctionEntry {
    /// The function.
    pub function: Arc<dyn Function>,
    /// Its signature.
    pub signature: Signature,
}

/// Hands out the token in-flight work watches; a stop cancels it and
/// installs a fresh one so that later requests run normally.
#[derive(Default)]
struct StopSignal(Mutex<CancellationToken>);

impl StopSignal {
    fn token(&self) -> CancellationToken {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn stop(&self) {
        let mut current = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        current.cancel();
        *current = CancellationToken::new();
    }
}

/// The framework's side of every RPC: the provider and what it offers.
/// The transport decodes a request with the types found here, calls the
/// matching method (in the sibling files) and encodes the answer.
pub struct Dispatcher {
    /// The provider.
    pub provider: Arc<dyn Provider>,
    /// The provider block's schema.
    pub provider_schema: Schema,
    /// The object type of the provider block.
    pub provider_ty: Type,
    /// Managed resource types by name.
    pub resources: BTreeMap<String, ResourceEntry>,
    /// Data sources by name.
    pub data_sources: BTreeMap<String, DataSourceEntry>,
    /// List resource types by name.
    pub lists: BTreeMap<String, ListEntry>,
    /// Functions by name.
    pub functions: BTreeMap<String, FunctionEntry>,
    /// Action types by name.
    pub actions: BTreeMap<String, ActionEntry>,
    stop: StopSignal,
}

/// The diagnostic for an object kind this provider does not offer at all
/// (`kind` in Title Case, `plural` in prose).
pub fn unsupported(kind: &str, plural: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} Type"),
        format!("This provider offers no {plural}, so it cannot serve \"{name}\"."),
    )
}

impl Dispatcher {
    /// Registers what `provider` offers. A name registered twice keeps
    /// the first; a list resource is offered only when a managed resource
    /// of its name has an identity (Terraform reads each result with that
    /// resource's schemas).
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.value_type();
        let mut resources = BTreeMap::new();
        for resource in provider.resources() {
            let name = resource.type_name().to_string();
            if resources.contains_key(&name) {
                tracing::warn!(tf_resource_type = %name, "Resource type registered twice; keeping the first");
                continue;
            }
            let schema = resource.schema();
            let ty = schema.value_type();
            let identity = resource.identity_schema().map(|s| {
                let ty = s.value_type();
                (s, ty)
            });
            resources.insert(
                name,
                ResourceEntry {
                    resource,
                    schema,
                    ty,
                    identity,
                },
            );
        }
        let mut data_sources = BTreeMap::new();
        for data_source in provider.data_sources() {
            let name = data_source.type_name().to_string();
            if data_sources.contains_key(&name) {
                tracing::warn!(tf_data_source_type = %name, "Data source registered twice; keeping the first");
                continue;
            }
            let schema = data_source.schema();
            let ty = schema.value_type();
            data_sources.insert(
                name,
                DataSourceEntry {
                    data_source,
                    schema,
                    ty,
                },
            );
        }
        let mut lists = BTreeMap::new();
        for list in provider.list_resources() {
            let name = list.type_name().to_string();
            if resources
                .get(&name)
                .is_none_or(|e: &ResourceEntry| e.identity.is_none())
            {
                tracing::warn!(tf_resource_type = %name, "List resource without a managed resource with identity; not offered");
                continue;
            }
            let schema = list.schema();
            let ty = schema.value_type();
            lists.entry(name).or_insert(ListEntry { list, schema, ty });
        }
        let mut functions = BTreeMap::new();
        for function in provider.functions() {
            let name = function.name().to_string();
            if functions.contains_key(&name) {
                tracing::warn!(tf_function = %name, "Function registered twice; keeping the first");
                continue;
            }
            let signature = function.signature();
            functions.insert(
                name,
                FunctionEntry {
                    function,
                    signature,
                },
            );
        }
        let mut actions = BTreeMap::new();
        for action in provider.actions() {
            let name = action.type_name().to_string();
            let schema = action.schema();
            let ty = schema.value_type();
            actions
                .entry(name)
                .or_insert(ActionEntry { action, schema, ty });
        }
        Dispatcher {
            provider,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            lists,
            functions,
            actions,
            stop: StopSignal::default(),
        }
    }

    /// The managed resource type `type_name`.
    pub fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostic> {
        self.resources.get(type_name).ok_or_else(|| {
            let known = self.resources.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
            Diagnostic::error(
                "Unknown Resource Type",
                format!(
                    "This provider has no managed resource type named \"{type_name}\". \
                     Its resource types are: {known}. Check the resource type in the configuration, \
                     or the provider version if the type was added recently."
                ),
            )
        })
    }

    /// The action type `type_name`.
    pub fn action(&self, type_name: &str) -> Result<&ActionEntry, Diagnostic> {
        self.actions.get(type_name).ok_or_else(|| {
            if self.actions.is_empty() {
                return unsupported("Action", "actions", type_name);
            }
            let known = self.actions.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
            Diagnostic::error(
                "Unknown Action Type",
                format!("This provider has no action type named \"{type_name}\". Its action types are: {known}."),
            )
        })
    }

    /// The list resource type `type_name`.
    pub fn list(&self, type_name: &str) -> Result<&ListEntry, Diagnostic> {
        self.lists.get(type_name).ok_or_else(|| {
            if self.lists.is_empty() {
                return unsupported("List Resource", "list resources", type_name);
            }
            let known = self.lists.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
            Diagnostic::error(
                "Unknown List Resource Type",
                format!(
                    "This provider has no list resource type named \"{type_name}\". Its list resource types \
                     are: {known}."
                ),
            )
        })
    }

    /// The function `name`.
    pub fn function(&self, name: &str) -> Result<&FunctionEntry, FunctionError> {
        self.functions.get(name).ok_or_else(|| {
            if self.functions.is_empty() {
                return FunctionError::new(format!(
                    "This provider offers no functions, so it cannot call \"{name}\"."
                ));
            }
            let known = self
                .functions
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            FunctionError::new(format!(
                "This provider has no function named \"{name}\". Its functions are: {known}."
            ))
        })
    }

    /// MoveResourceState, answered by the target type (a type this
    /// provider does not offer cannot take state either).
    pub async fn move_state(&self, req: MoveRequest) -> MoveResponse {
        match self.resources.get(&req.target_type_name) {
            Some(entry) => entry.resource.move_state(req).await,
            None => MoveResponse {
                state: None,
                private: Vec::new(),
                diagnostics: move_not_supported(&req),
            },
        }
    }

    /// The token the next operation watches for StopProvider.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.token()
    }

    /// StopProvider: cancels everything in flight; later requests run
    /// normally.
    pub fn stop(&self) {
        self.stop.stop();
    }
}
