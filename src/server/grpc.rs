//! The `tfplugin6.Provider` service: decodes each request, calls the
//! framework, encodes the answer. Problems with what Terraform sent become
//! diagnostics; a `Status` is reserved for transport faults.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{self, decode_value, encode_value, undecodable, unencodable};
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::tf::function::{Function, FunctionError, Signature};
use crate::tf::plan::{PlanInput, plan_resource_change};
use crate::tf::resource::{
    ApplyRequest, ConfigureRequest, GenerateConfigRequest, ImportRequest, ListRequest,
    ListResource, ListResult, ListSink, ReadRequest, UpgradeRequest, ValidateRequest,
};
use crate::tf::schema::IdentitySchema;
use crate::tf::{Provider, Resource, Schema, Type, Value};

/// A response stream of a server-streaming RPC.
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A resource type with everything derived from it once, at start.
struct ResourceEntry {
    resource: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    identity: Option<(IdentitySchema, Type)>,
}

impl ResourceEntry {
    /// The identity Terraform should hold for `state`, encoded; `None` when
    /// the resource has no identity or cannot tell it from `state`.
    fn identity_of(
        &self,
        state: &Value,
        type_name: &str,
    ) -> Result<Option<pb::ResourceIdentityData>, pb::Diagnostic> {
        let Some((_, ty)) = &self.identity else {
            return Ok(None);
        };
        if state.is_null() {
            return Ok(None);
        }
        let Some(identity) = self.resource.identity(state) else {
            return Ok(None);
        };
        let data =
            encode_value(&identity, ty).map_err(|e| unencodable("identity", type_name, &e))?;
        Ok(Some(pb::ResourceIdentityData {
            identity_data: Some(data),
        }))
    }
}

/// A list resource type with its config schema's type, derived once.
struct ListEntry {
    list: Arc<dyn ListResource>,
    schema: Schema,
    ty: Type,
}

/// A function with its signature, derived once.
struct FunctionEntry {
    function: Arc<dyn Function>,
    signature: Signature,
}

/// Hands out the token in-flight work watches; StopProvider cancels it and
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

/// The provider service.
pub(crate) struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_ty: Type,
    resources: BTreeMap<String, ResourceEntry>,
    lists: BTreeMap<String, ListEntry>,
    functions: BTreeMap<String, FunctionEntry>,
    stop: StopSignal,
}

impl ProviderService {
    /// Builds the type-name map and derives schemas and types once.
    pub(crate) fn new(provider: Arc<dyn Provider>) -> Self {
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
                let ty = convert::identity_type(&s);
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
        let mut lists = BTreeMap::new();
        for list in provider.list_resources() {
            let name = list.type_name().to_string();
            // Terraform reads each result's identity and object with the
            // managed resource's schemas; without them a list cannot work.
            if resources.get(&name).is_none_or(|e| e.identity.is_none()) {
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
        ProviderService {
            provider,
            provider_schema,
            provider_ty,
            resources,
            lists,
            functions,
            stop: StopSignal::default(),
        }
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry, pb::Diagnostic> {
        self.resources.get(type_name).ok_or_else(|| {
            let known = self.resources.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
            convert::error(
                "Unknown Resource Type",
                format!(
                    "This provider has no managed resource type named \"{type_name}\". \
                     Its resource types are: {known}. Check the resource type in the configuration, \
                     or the provider version if the type was added recently."
                ),
            )
        })
    }

    fn list(&self, type_name: &str) -> Result<&ListEntry, pb::Diagnostic> {
        self.lists.get(type_name).ok_or_else(|| {
            if self.lists.is_empty() {
                return unsupported("List Resource", "list resources", type_name);
            }
            let known = self.lists.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
            convert::error(
                "Unknown List Resource Type",
                format!(
                    "This provider has no list resource type named \"{type_name}\". Its list resource types \
                     are: {known}."
                ),
            )
        })
    }

    /// Runs a function: each argument decoded by its parameter's type, the
    /// result encoded by the return type. Terraform's promises about null
    /// and unknown arguments are checked again here, so that a function
    /// can rely on them.
    fn call(&self, req: pb::call_function::Request) -> Result<pb::DynamicValue, FunctionError> {
        let Some(entry) = self.functions.get(&req.name) else {
            if self.functions.is_empty() {
                return Err(FunctionError::new(format!(
                    "This provider offers no functions, so it cannot call \"{}\".",
                    req.name
                )));
            }
            let known = self
                .functions
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(FunctionError::new(format!(
                "This provider has no function named \"{}\". Its functions are: {known}.",
                req.name
            )));
        };
        let signature = &entry.signature;
        let fixed = signature.parameters.len();
        let given = req.arguments.len();
        if given < fixed || (given > fixed && signature.variadic_parameter.is_none()) {
            let names = signature
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(FunctionError::new(format!(
                "{} takes {fixed} argument(s) ({names}), but the call passed {given}.",
                req.name
            )));
        }
        let unknown_result = || {
            encode_value(&Value::UNKNOWN, &signature.return_type).map_err(|e| {
                FunctionError::new(format!(
                    "While sending the unknown result of {}: {e}. This is always a bug in the provider; please report it.",
                    req.name
                ))
            })
        };
        let mut args = Vec::with_capacity(given);
        for (index, raw) in req.arguments.iter().enumerate() {
            let Some(param) = signature.parameter(index) else {
                return Err(FunctionError::new(format!(
                    "{} has no parameter for argument {}.",
                    req.name,
                    index + 1
                )));
            };
            let value = decode_value(Some(raw), &param.ty).map_err(|e| {
                FunctionError::argument(
                    index,
                    format!(
                        "The provider could not read argument \"{}\" as Terraform sent it: {e}. This is always a bug \
                         in the provider (or a Terraform version it does not support); please report it.",
                        param.name
                    ),
                )
            })?;
            if !param.allow_unknown_values && !value.is_wholly_known() {
                return unknown_result();
            }
            if !param.allow_null_value && value.is_null() {
                return Err(FunctionError::argument(
                    index,
                    format!("Argument \"{}\" must not be null.", param.name),
                ));
            }
            args.push(value);
        }
        let result = entry.function.call(args)?;
        encode_value(&result, &signature.return_type).map_err(|e| {
            FunctionError::new(format!(
                "While sending the result of {}: {e}. This is always a bug in the provider; please report it \
                 with the arguments of the call.",
                req.name
            ))
        })
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: false,
            move_resource_state: false,
            // Every resource answers, with the framework's default at least.
            generate_resource_config: true,
        }
    }
}

/// The diagnostic for an object kind this provider does not offer at all.
fn unsupported(kind: &str, plural: &str, name: &str) -> pb::Diagnostic {
    convert::error(
        format!("Unknown {kind} Type"),
        format!("This provider offers no {plural}, so it cannot serve \"{name}\"."),
    )
}

/// Responses that can carry nothing but diagnostics.
trait Failed: Default {
    fn failed(diagnostics: Vec<pb::Diagnostic>) -> Self;
}

macro_rules! failed {
    ($($t:ty),* $(,)?) => {$(
        impl Failed for $t {
            #[allow(clippy::needless_update)] // some responses have no other field
            fn failed(diagnostics: Vec<pb::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

failed!(
    pb::validate_provider_config::Response,
    pb::validate_resource_config::Response,
    pb::validate_data_resource_config::Response,
    pb::upgrade_resource_state::Response,
    pb::upgrade_resource_identity::Response,
    pb::configure_provider::Response,
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
    pb::move_resource_state::Response,
    pb::read_data_source::Response,
    pb::generate_resource_config::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::validate_list_resource_config::Response,
    pb::validate_state_store::Response,
    pb::configure_state_store::Response,
    pb::write_state_bytes::Response,
    pb::lock_state::Response,
    pb::unlock_state::Response,
    pb::get_states::Response,
    pb::delete_state::Response,
    pb::plan_action::Response,
    pb::validate_action_config::Response,
);

/// Wraps a handler's result: a diagnostic instead of a value becomes a
/// response carrying only that diagnostic.
#[allow(clippy::unnecessary_wraps)] // every RPC returns Result<Response, Status>
fn answer<R: Failed>(result: Result<R, pb::Diagnostic>) -> Result<Response<R>, Status> {
    Ok(Response::new(result.unwrap_or_else(|d| R::failed(vec![d]))))
}

fn log_rpc(rpc: &'static str, type_name: &str) {
    if type_name.is_empty() {
        tracing::debug!(tf_rpc = rpc, "Received request");
    } else {
        tracing::debug!(
            tf_rpc = rpc,
            tf_resource_type = type_name,
            "Received request"
        );
    }
}

/// One list result as a protocol event. A value that cannot be encoded
/// becomes the event's diagnostic instead.
fn list_event(
    result: ListResult,
    identity_ty: &Type,
    resource_ty: &Type,
    include: bool,
    type_name: &str,
) -> pb::list_resource::Event {
    let mut diagnostic = convert::diagnostics(&result.diagnostics);
    let identity = match encode_value(&result.identity, identity_ty) {
        Ok(v) => Some(pb::ResourceIdentityData {
            identity_data: Some(v),
        }),
        Err(e) => {
            diagnostic.push(unencodable("listed identity", type_name, &e));
            None
        }
    };
    let resource_object = match result.resource_object.filter(|_| include) {
        Some(object) => match encode_value(&object, resource_ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostic.push(unencodable("listed object", type_name, &e));
                None
            }
        },
        None => None,
    };
    pb::list_resource::Event {
        identity,
        display_name: result.display_name,
        resource_object,
        diagnostic,
    }
}

impl ProviderService {
    async fn validate_provider(
        &self,
        req: pb::validate_provider_config::Request,
    ) -> Result<pb::validate_provider_config::Response, pb::Diagnostic> {
        let config = decode_value(req.config.as_ref(), &self.provider_ty)
            .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
        let diags = self.provider.validate(&config).await;
        Ok(pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&diags),
        })
    }

    async fn configure(
        &self,
        req: pb::configure_provider::Request,
    ) -> Result<pb::configure_provider::Response, pb::Diagnostic> {
        let config = decode_value(req.config.as_ref(), &self.provider_ty)
            .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
        let diags = self
            .provider
            .configure(ConfigureRequest {
                terraform_version: req.terraform_version,
                config,
                capabilities: convert::client_capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        Ok(pb::configure_provider::Response {
            diagnostics: convert::diagnostics(&diags),
        })
    }

    async fn validate_resource(
        &self,
        req: pb::validate_resource_config::Request,
    ) -> Result<pb::validate_resource_config::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let config = decode_value(req.config.as_ref(), &entry.ty)
            .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
        let capabilities = convert::client_capabilities(req.client_capabilities.as_ref());
        let diags = entry
            .resource
            .validate(ValidateRequest {
                config,
                capabilities,
            })
            .await;
        Ok(pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        })
    }

    async fn upgrade_state(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> Result<pb::upgrade_resource_state::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() && !raw.flatmap.is_empty() {
            return Err(convert::error(
                "Unsupported State Format",
                format!(
                    "The stored state of this {} is in the flat format of Terraform 0.11 and earlier, \
                     which this provider never wrote. Remove the resource from state and import it again.",
                    req.type_name
                ),
            ));
        }
        let resp = entry
            .resource
            .upgrade_state(UpgradeRequest {
                version: req.version,
                raw_json: raw.json,
            })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let upgraded_state = match resp.state {
            Some(state) => match encode_value(&state, &entry.ty) {
                Ok(v) => Some(v),
                Err(e) => {
                    diagnostics.push(unencodable("upgraded state", &req.type_name, &e));
                    None
                }
            },
            None if !resp.diagnostics.has_error() => {
                diagnostics.push(convert::error(
                    "Provider Produced No State",
                    format!(
                        "Upgrading the stored state of {} produced neither a state nor an error. \
                         This is always a bug in the provider; please report it.",
                        req.type_name
                    ),
                ));
                None
            }
            None => None,
        };
        Ok(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics,
        })
    }

    async fn read(
        &self,
        req: pb::read_resource::Request,
    ) -> Result<pb::read_resource::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let current_state = decode_value(req.current_state.as_ref(), &entry.ty)
            .map_err(|e| undecodable("current state", &req.type_name, &e))?;
        let resp = entry
            .resource
            .read(ReadRequest {
                current_state,
                private: req.private,
                cancel: self.stop.token(),
            })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let new_state = match encode_value(&resp.new_state, &entry.ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostics.push(unencodable("refreshed state", &req.type_name, &e));
                // Keep what Terraform had rather than losing the object.
                req.current_state
            }
        };
        // The identity follows the refreshed state; without one (or when the
        // object is gone) Terraform keeps what it had.
        let new_identity = match entry.identity_of(&resp.new_state, &req.type_name) {
            Ok(Some(identity)) => Some(identity),
            Ok(None) => entry.identity.as_ref().and(req.current_identity),
            Err(d) => {
                diagnostics.push(d);
                entry.identity.as_ref().and(req.current_identity)
            }
        };
        Ok(pb::read_resource::Response {
            new_state,
            diagnostics,
            private: resp.private,
            deferred: convert::deferred(resp.deferred),
            new_identity,
        })
    }

    async fn plan(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> Result<pb::plan_resource_change::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let ty = &entry.ty;
        let prior_state = decode_value(req.prior_state.as_ref(), ty)
            .map_err(|e| undecodable("prior state", &req.type_name, &e))?;
        let proposed_new_state = decode_value(req.proposed_new_state.as_ref(), ty)
            .map_err(|e| undecodable("proposed new state", &req.type_name, &e))?;
        let config = decode_value(req.config.as_ref(), ty)
            .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
        // Terraform proposes null only for a destroy (we advertise plan_destroy).
        let destroying = proposed_new_state.is_null();
        // An update keeps the object's identity; a create plans it from the
        // configuration when that already tells.
        let identity_source = if prior_state.is_null() {
            None
        } else {
            Some(prior_state.clone())
        };
        let mut resp = plan_resource_change(
            entry.resource.as_ref(),
            PlanInput {
                prior_state,
                proposed_new_state,
                config,
                prior_private: req.prior_private,
                capabilities: convert::client_capabilities(req.client_capabilities.as_ref()),
            },
        )
        .await;
        if destroying {
            resp.planned_state = Value::Null;
        }
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let planned_state = match encode_value(&resp.planned_state, ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostics.push(unencodable("planned state", &req.type_name, &e));
                req.proposed_new_state
            }
        };
        let planned_identity = if destroying {
            None
        } else if req.prior_identity.is_some() {
            entry.identity.as_ref().and(req.prior_identity)
        } else {
            let source = identity_source.as_ref().unwrap_or(&resp.planned_state);
            if source.is_wholly_known() {
                entry
                    .identity_of(source, &req.type_name)
                    .unwrap_or_else(|d| {
                        diagnostics.push(d);
                        None
                    })
            } else {
                None
            }
        };
        Ok(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: resp
                .requires_replace
                .iter()
                .map(convert::attribute_path)
                .collect(),
            planned_private: resp.planned_private,
            diagnostics,
            legacy_type_system: false,
            deferred: convert::deferred(resp.deferred),
            planned_identity,
        })
    }

    async fn apply(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> Result<pb::apply_resource_change::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let ty = &entry.ty;
        let prior_state = decode_value(req.prior_state.as_ref(), ty)
            .map_err(|e| undecodable("prior state", &req.type_name, &e))?;
        let planned_state = decode_value(req.planned_state.as_ref(), ty)
            .map_err(|e| undecodable("planned state", &req.type_name, &e))?;
        let config = decode_value(req.config.as_ref(), ty)
            .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
        let deleting = planned_state.is_null();
        let mut resp = entry
            .resource
            .apply(ApplyRequest {
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                cancel: self.stop.token(),
            })
            .await;
        // A successful delete leaves nothing behind, whatever the resource said.
        if deleting && !resp.diagnostics.has_error() {
            resp.new_state = Value::Null;
        }
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let new_state = match encode_value(&resp.new_state, ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostics.push(unencodable("new state", &req.type_name, &e));
                req.prior_state
            }
        };
        let new_identity = if deleting || resp.new_state.is_null() {
            None
        } else {
            match entry.identity_of(&resp.new_state, &req.type_name) {
                Ok(Some(identity)) => Some(identity),
                Ok(None) => entry.identity.as_ref().and(req.planned_identity),
                Err(d) => {
                    diagnostics.push(d);
                    entry.identity.as_ref().and(req.planned_identity)
                }
            }
        };
        Ok(pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics,
            legacy_type_system: false,
            new_identity,
        })
    }

    async fn import(
        &self,
        req: pb::import_resource_state::Request,
    ) -> Result<pb::import_resource_state::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let identity = match (&entry.identity, req.identity.as_ref()) {
            (Some((_, ity)), Some(data)) => Some(
                decode_value(data.identity_data.as_ref(), ity)
                    .map_err(|e| undecodable("identity", &req.type_name, &e))?,
            ),
            _ => None,
        };
        // ImportRequest carries no stop token: on StopProvider the import is
        // dropped, which ends whatever it was waiting for.
        let stop = self.stop.token();
        let import = entry.resource.import(ImportRequest {
            id: req.id,
            identity,
        });
        let resp = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(convert::error(
                "Import Interrupted",
                "Terraform asked the provider to stop before the import finished; nothing was imported.",
            )),
            resp = import => resp,
        };
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        if resp.diagnostics.has_error() {
            return Ok(pb::import_resource_state::Response {
                diagnostics,
                ..Default::default()
            });
        }
        let state = match encode_value(&resp.state, &entry.ty) {
            Ok(v) => v,
            Err(e) => {
                diagnostics.push(unencodable("imported state", &req.type_name, &e));
                return Ok(pb::import_resource_state::Response {
                    diagnostics,
                    ..Default::default()
                });
            }
        };
        let identity = match (&entry.identity, &resp.identity) {
            (Some((_, ity)), Some(v)) => match encode_value(v, ity) {
                Ok(v) => Some(pb::ResourceIdentityData {
                    identity_data: Some(v),
                }),
                Err(e) => {
                    diagnostics.push(unencodable("identity", &req.type_name, &e));
                    return Ok(pb::import_resource_state::Response {
                        diagnostics,
                        ..Default::default()
                    });
                }
            },
            _ => match entry.identity_of(&resp.state, &req.type_name) {
                Ok(identity) => identity,
                Err(d) => {
                    diagnostics.push(d);
                    return Ok(pb::import_resource_state::Response {
                        diagnostics,
                        ..Default::default()
                    });
                }
            },
        };
        Ok(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: Some(state),
                private: resp.private,
                identity,
            }],
            diagnostics,
            deferred: None,
        })
    }

    async fn generate(
        &self,
        req: pb::generate_resource_config::Request,
    ) -> Result<pb::generate_resource_config::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let state = decode_value(req.state.as_ref(), &entry.ty)
            .map_err(|e| undecodable("state", &req.type_name, &e))?;
        let resp = entry
            .resource
            .generate_config(GenerateConfigRequest { state })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let config = if resp.diagnostics.has_error() {
            None
        } else {
            match encode_value(&resp.config, &entry.ty) {
                Ok(v) => Some(v),
                Err(e) => {
                    diagnostics.push(unencodable("generated configuration", &req.type_name, &e));
                    None
                }
            }
        };
        Ok(pb::generate_resource_config::Response {
            config,
            diagnostics,
        })
    }

    async fn validate_list(
        &self,
        req: pb::validate_list_resource_config::Request,
    ) -> Result<pb::validate_list_resource_config::Response, pb::Diagnostic> {
        let entry = self.list(&req.type_name)?;
        let config = decode_value(req.config.as_ref(), &entry.ty)
            .map_err(|e| undecodable("list configuration", &req.type_name, &e))?;
        let diags = entry.list.validate(&config).await;
        Ok(pb::validate_list_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        })
    }

    /// Starts a list; results stream as the resource finds them. A problem
    /// before the list starts is one event carrying only diagnostics.
    fn start_list(
        &self,
        req: pb::list_resource::Request,
    ) -> Result<BoxStream<pb::list_resource::Event>, pb::Diagnostic> {
        let entry = self.list(&req.type_name)?;
        let resource = self.resource(&req.type_name)?;
        let Some((_, identity_ty)) = resource.identity.clone() else {
            return Err(unsupported(
                "List Resource",
                "list resources",
                &req.type_name,
            ));
        };
        let config = decode_value(req.config.as_ref(), &entry.ty)
            .map_err(|e| undecodable("list configuration", &req.type_name, &e))?;
        let list = entry.list.clone();
        let resource_ty = resource.ty.clone();
        let type_name = req.type_name.clone();
        let include = req.include_resource_object;
        let limit = req.limit;
        let (sink, mut results) = ListSink::channel(16);
        let request = ListRequest {
            config,
            include_resource_object: include,
            limit,
            cancel: self.stop.token(),
        };
        let (events, stream) =
            tokio::sync::mpsc::channel::<Result<pb::list_resource::Event, Status>>(16);
        tokio::spawn(async move {
            let producer = async move {
                let diags = list.list(request, &sink).await;
                // Closing the sink ends the forwarding below.
                drop(sink);
                diags
            };
            let forwarder = {
                let events = events.clone();
                let type_name = type_name.clone();
                async move {
                    let mut sent: i64 = 0;
                    while let Some(result) = results.recv().await {
                        let event =
                            list_event(result, &identity_ty, &resource_ty, include, &type_name);
                        if events.send(Ok(event)).await.is_err() {
                            return true;
                        }
                        sent += 1;
                        if limit > 0 && sent >= limit {
                            return true;
                        }
                    }
                    // `results` is dropped on return, which tells the list
                    // to stop.
                    false
                }
            };
            let (diags, stopped) = tokio::join!(producer, forwarder);
            // Terraform reads nothing after the limit.
            if !stopped && !diags.is_empty() {
                let _ = events
                    .send(Ok(pb::list_resource::Event {
                        diagnostic: convert::diagnostics(&diags),
                        ..Default::default()
                    }))
                    .await;
            }
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(
            stream,
        )))
    }

    /// Every function's declaration, by name.
    fn function_schemas(&self) -> std::collections::HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, e)| (name.clone(), convert::function(&e.signature)))
            .collect()
    }

    fn upgrade_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> Result<pb::upgrade_resource_identity::Response, pb::Diagnostic> {
        let entry = self.resource(&req.type_name)?;
        let Some((schema, ty)) = &entry.identity else {
            return Err(convert::error(
                "Resource Identity Not Supported",
                format!(
                    "{} has no resource identity, so there is nothing to upgrade.",
                    req.type_name
                ),
            ));
        };
        if req.version != schema.version {
            return Err(convert::error(
                "Unsupported Identity Version",
                format!(
                    "The stored identity of {} has version {} and this provider knows only version {}. \
                     Use a provider release that matches the state.",
                    req.type_name, req.version, schema.version
                ),
            ));
        }
        let raw = req.raw_identity.unwrap_or_default();
        let identity = crate::tf::value::json::decode(&raw.json, ty)
            .map_err(|e| undecodable("stored identity", &req.type_name, &e))?;
        let data =
            encode_value(&identity, ty).map_err(|e| unencodable("identity", &req.type_name, &e))?;
        Ok(pb::upgrade_resource_identity::Response {
            upgraded_identity: Some(pb::ResourceIdentityData {
                identity_data: Some(data),
            }),
            diagnostics: Vec::new(),
        })
    }
}

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        log_rpc("GetMetadata", "");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            resources: self
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|name| pb::get_metadata::ListResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|name| pb::get_metadata::FunctionMetadata { name: name.clone() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        log_rpc("GetProviderSchema", "");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .lists
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            functions: self.function_schemas(),
            server_capabilities: Some(Self::capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        log_rpc("ValidateProviderConfig", "");
        answer(self.validate_provider(request.into_inner()).await)
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateResourceConfig", &req.type_name);
        answer(self.validate_resource(req).await)
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateDataResourceConfig", &req.type_name);
        answer(Err(unsupported(
            "Data Source",
            "data sources",
            &req.type_name,
        )))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("UpgradeResourceState", &req.type_name);
        answer(self.upgrade_state(req).await)
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        log_rpc("GetResourceIdentitySchemas", "");
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .resources
                .iter()
                .filter_map(|(name, e)| {
                    e.identity
                        .as_ref()
                        .map(|(s, _)| (name.clone(), convert::identity_schema(s)))
                })
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = request.into_inner();
        log_rpc("UpgradeResourceIdentity", &req.type_name);
        answer(self.upgrade_identity(req))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        log_rpc("ConfigureProvider", "");
        answer(self.configure(request.into_inner()).await)
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ReadResource", &req.type_name);
        answer(self.read(req).await)
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        log_rpc("PlanResourceChange", &req.type_name);
        answer(self.plan(req).await)
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ApplyResourceChange", &req.type_name);
        answer(self.apply(req).await)
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ImportResourceState", &req.type_name);
        answer(self.import(req).await)
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("MoveResourceState", &req.target_type_name);
        answer(Err(convert::error(
            "Move Not Supported",
            format!(
                "This provider cannot move state from {} ({}) to {}. Remove the old resource from state \
                 and import the object into the new one instead.",
                req.source_type_name, req.source_provider_address, req.target_type_name
            ),
        )))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ReadDataSource", &req.type_name);
        answer(Err(unsupported(
            "Data Source",
            "data sources",
            &req.type_name,
        )))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("GenerateResourceConfig", &req.type_name);
        answer(self.generate(req).await)
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateEphemeralResourceConfig", &req.type_name);
        answer(Err(unsupported(
            "Ephemeral Resource",
            "ephemeral resources",
            &req.type_name,
        )))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        log_rpc("OpenEphemeralResource", &req.type_name);
        answer(Err(unsupported(
            "Ephemeral Resource",
            "ephemeral resources",
            &req.type_name,
        )))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        log_rpc("RenewEphemeralResource", &req.type_name);
        answer(Err(unsupported(
            "Ephemeral Resource",
            "ephemeral resources",
            &req.type_name,
        )))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        log_rpc("CloseEphemeralResource", &req.type_name);
        answer(Err(unsupported(
            "Ephemeral Resource",
            "ephemeral resources",
            &req.type_name,
        )))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = request.into_inner();
        log_rpc("ListResource", &req.type_name);
        match self.start_list(req) {
            Ok(stream) => Ok(Response::new(stream)),
            Err(d) => {
                let event = pb::list_resource::Event {
                    diagnostic: vec![d],
                    ..Default::default()
                };
                Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
            }
        }
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateListResourceConfig", &req.type_name);
        answer(self.validate_list(req).await)
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        log_rpc("GetFunctions", "");
        Ok(Response::new(pb::get_functions::Response {
            functions: self.function_schemas(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        log_rpc("CallFunction", &req.name);
        Ok(Response::new(match self.call(req) {
            Ok(result) => pb::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(convert::function_error(&e)),
            },
        }))
    }

    async fn validate_state_store_config(
        &self,
        request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateStateStoreConfig", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    async fn configure_state_store(
        &self,
        request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ConfigureStateStore", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        let req = request.into_inner();
        log_rpc("ReadStateBytes", &req.type_name);
        let chunk = pb::read_state_bytes::Response {
            diagnostics: vec![unsupported("State Store", "state stores", &req.type_name)],
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(chunk)]))))
    }

    async fn write_state_bytes(
        &self,
        request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        // The first chunk names the store; answer as soon as we know it.
        let mut chunks = request.into_inner();
        let type_name = match chunks.message().await {
            Ok(Some(chunk)) => chunk.meta.map(|m| m.type_name).unwrap_or_default(),
            _ => String::new(),
        };
        log_rpc("WriteStateBytes", &type_name);
        answer(Err(unsupported("State Store", "state stores", &type_name)))
    }

    async fn lock_state(
        &self,
        request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("LockState", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    async fn unlock_state(
        &self,
        request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("UnlockState", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    async fn get_states(
        &self,
        request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        let req = request.into_inner();
        log_rpc("GetStates", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    async fn delete_state(
        &self,
        request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("DeleteState", &req.type_name);
        answer(Err(unsupported(
            "State Store",
            "state stores",
            &req.type_name,
        )))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        log_rpc("PlanAction", &req.action_type);
        answer(Err(unsupported("Action", "actions", &req.action_type)))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        use pb::invoke_action::event::{Completed, Type};
        let req = request.into_inner();
        log_rpc("InvokeAction", &req.action_type);
        let event = pb::invoke_action::Event {
            r#type: Some(Type::Completed(Completed {
                diagnostics: vec![unsupported("Action", "actions", &req.action_type)],
            })),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateActionConfig", &req.type_name);
        answer(Err(unsupported("Action", "actions", &req.type_name)))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        log_rpc("StopProvider", "");
        self.stop.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
#[path = "grpc_tests.rs"]
mod tests;
