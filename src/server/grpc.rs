//! The `tfplugin6.Provider` service: decodes each request with the types
//! the framework registered, calls the framework (`tf::dispatch`), encodes
//! the answer. Problems with what Terraform sent become diagnostics; a
//! `Status` is reserved for transport faults. No decision about behaviour
//! is made here, except what to send when an answer cannot be encoded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt as _};
use tonic::{Request, Response, Status, Streaming};

use super::convert::{self, decode_value, encode_value, undecodable, unencodable};
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::tf::diag::Diagnostic;
use crate::tf::dispatch::{Dispatcher, Identified, ListEvent, NewIdentity, unsupported};
use crate::tf::function::FunctionError;
use crate::tf::plan::PlanInput;
use crate::tf::resource::{
    ApplyRequest, ConfigureRequest, ImportRequest, MoveRequest, ReadRequest,
    UpgradeIdentityRequest, UpgradeRequest, ValidateRequest,
};
use crate::tf::{Provider, Type};

/// A response stream of a server-streaming RPC.
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The provider service.
pub(crate) struct ProviderService {
    fw: Dispatcher,
}

impl ProviderService {
    /// Registers what the provider offers.
    pub(crate) fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderService {
            fw: Dispatcher::new(provider),
        }
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

/// A framework diagnostic in protobuf form.
fn pb_error(d: &Diagnostic) -> pb::Diagnostic {
    convert::diagnostic(d)
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

/// An identity as protobuf: `prior` when the framework keeps what
/// Terraform sent; the framework's problem (or an encoding failure) is
/// pushed to `diagnostics`, and then the identity falls back as the
/// framework said.
fn identity_data(
    identified: Identified,
    prior: Option<pb::ResourceIdentityData>,
    ty: Option<&Type>,
    type_name: &str,
    diagnostics: &mut Vec<pb::Diagnostic>,
) -> Option<pb::ResourceIdentityData> {
    if let Some(d) = &identified.problem {
        diagnostics.push(pb_error(d));
    }
    match identified.identity {
        NewIdentity::Absent => None,
        NewIdentity::KeepPrior => prior,
        NewIdentity::Set(value) => match ty.map(|ty| encode_value(&value, ty)) {
            Some(Ok(data)) => Some(pb::ResourceIdentityData {
                identity_data: Some(data),
            }),
            Some(Err(e)) => {
                diagnostics.push(unencodable("identity", type_name, &e));
                None
            }
            None => None,
        },
    }
}

/// One list event in protocol form. A value that cannot be encoded
/// becomes the event's diagnostic instead.
fn list_event(
    event: ListEvent,
    identity_ty: &Type,
    resource_ty: &Type,
    type_name: &str,
) -> pb::list_resource::Event {
    let result = match event {
        ListEvent::Found(result) => result,
        ListEvent::Done(diags) => {
            return pb::list_resource::Event {
                diagnostic: convert::diagnostics(&diags),
                ..Default::default()
            };
        }
    };
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
    let resource_object = match result.resource_object {
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
        let config = decode_value(req.config.as_ref(), &self.fw.provider_ty)
            .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
        let diags = self.fw.provider.validate(&config).await;
        Ok(pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&diags),
        })
    }

    async fn configure(
        &self,
        req: pb::configure_provider::Request,
    ) -> Result<pb::configure_provider::Response, pb::Diagnostic> {
        let config = decode_value(req.config.as_ref(), &self.fw.provider_ty)
            .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
        let diags = self
            .fw
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let raw = req.raw_state.unwrap_or_default();
        let flatmap_only = raw.json.is_empty() && !raw.flatmap.is_empty();
        let resp = entry
            .upgrade_state(
                UpgradeRequest {
                    version: req.version,
                    raw_json: raw.json,
                },
                flatmap_only,
            )
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let upgraded_state = match resp.state.map(|state| encode_value(&state, &entry.ty)) {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                diagnostics.push(unencodable("upgraded state", &req.type_name, &e));
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let current_state = decode_value(req.current_state.as_ref(), &entry.ty)
            .map_err(|e| undecodable("current state", &req.type_name, &e))?;
        let (resp, identity) = entry
            .read(ReadRequest {
                current_state,
                private: req.private,
                cancel: self.fw.stop_token(),
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
        let identity_ty = entry.identity.as_ref().map(|(_, ty)| ty);
        let new_identity = identity_data(
            identity,
            req.current_identity,
            identity_ty,
            &req.type_name,
            &mut diagnostics,
        );
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let ty = &entry.ty;
        let prior_state = decode_value(req.prior_state.as_ref(), ty)
            .map_err(|e| undecodable("prior state", &req.type_name, &e))?;
        let proposed_new_state = decode_value(req.proposed_new_state.as_ref(), ty)
            .map_err(|e| undecodable("proposed new state", &req.type_name, &e))?;
        let config = decode_value(req.config.as_ref(), ty)
            .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
        let (resp, identity) = entry
            .plan(
                PlanInput {
                    prior_state,
                    proposed_new_state,
                    config,
                    prior_private: req.prior_private,
                    capabilities: convert::client_capabilities(req.client_capabilities.as_ref()),
                },
                req.prior_identity.is_some(),
            )
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let planned_state = match encode_value(&resp.planned_state, ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostics.push(unencodable("planned state", &req.type_name, &e));
                req.proposed_new_state
            }
        };
        let identity_ty = entry.identity.as_ref().map(|(_, ty)| ty);
        let planned_identity = identity_data(
            identity,
            req.prior_identity,
            identity_ty,
            &req.type_name,
            &mut diagnostics,
        );
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let ty = &entry.ty;
        let prior_state = decode_value(req.prior_state.as_ref(), ty)
            .map_err(|e| undecodable("prior state", &req.type_name, &e))?;
        let planned_state = decode_value(req.planned_state.as_ref(), ty)
            .map_err(|e| undecodable("planned state", &req.type_name, &e))?;
        let config = decode_value(req.config.as_ref(), ty)
            .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
        let (resp, identity) = entry
            .apply(ApplyRequest {
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                cancel: self.fw.stop_token(),
            })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let new_state = match encode_value(&resp.new_state, ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diagnostics.push(unencodable("new state", &req.type_name, &e));
                req.prior_state
            }
        };
        let identity_ty = entry.identity.as_ref().map(|(_, ty)| ty);
        let new_identity = identity_data(
            identity,
            req.planned_identity,
            identity_ty,
            &req.type_name,
            &mut diagnostics,
        );
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let identity_ty = entry.identity.as_ref().map(|(_, ty)| ty);
        let identity = match (identity_ty, req.identity.as_ref()) {
            (Some(ity), Some(data)) => Some(
                decode_value(data.identity_data.as_ref(), ity)
                    .map_err(|e| undecodable("identity", &req.type_name, &e))?,
            ),
            _ => None,
        };
        let only = |diagnostics| pb::import_resource_state::Response {
            diagnostics,
            ..Default::default()
        };
        let imported = match entry
            .import(
                ImportRequest {
                    id: req.id,
                    identity,
                },
                self.fw.stop_token(),
            )
            .await
        {
            Ok(imported) => imported,
            Err(diags) => return Ok(only(convert::diagnostics(&diags))),
        };
        let mut diagnostics = convert::diagnostics(&imported.resp.diagnostics);
        if let Some(d) = &imported.state_problem {
            diagnostics.push(pb_error(d));
            return Ok(only(diagnostics));
        }
        let state = match encode_value(&imported.resp.state, &entry.ty) {
            Ok(v) => v,
            Err(e) => {
                diagnostics.push(unencodable("imported state", &req.type_name, &e));
                return Ok(only(diagnostics));
            }
        };
        let before = diagnostics.len();
        let identity = identity_data(
            imported.identity,
            None,
            identity_ty,
            &req.type_name,
            &mut diagnostics,
        );
        if diagnostics.len() > before {
            return Ok(only(diagnostics));
        }
        Ok(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: Some(state),
                private: imported.resp.private,
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
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let state = decode_value(req.state.as_ref(), &entry.ty)
            .map_err(|e| undecodable("state", &req.type_name, &e))?;
        let (config, diags) = entry.generate_config(state).await;
        let mut diagnostics = convert::diagnostics(&diags);
        let config = match config.map(|c| encode_value(&c, &entry.ty)) {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                diagnostics.push(unencodable("generated configuration", &req.type_name, &e));
                None
            }
            None => None,
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
        let entry = self.fw.list(&req.type_name).map_err(|d| pb_error(&d))?;
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
        let types = self
            .fw
            .list_types(&req.type_name)
            .map_err(|d| pb_error(&d))?;
        let config = decode_value(req.config.as_ref(), &types.entry.ty)
            .map_err(|e| undecodable("list configuration", &req.type_name, &e))?;
        let events =
            self.fw
                .start_list(types.entry, config, req.include_resource_object, req.limit);
        let identity_ty = types.identity_ty.clone();
        let resource_ty = types.resource_ty.clone();
        let type_name = req.type_name;
        let stream = tokio_stream::wrappers::ReceiverStream::new(events)
            .map(move |event| Ok(list_event(event, &identity_ty, &resource_ty, &type_name)));
        Ok(Box::pin(stream))
    }

    /// Runs a function: each argument decoded by its parameter's type, the
    /// result encoded by the return type.
    fn call(&self, req: pb::call_function::Request) -> Result<pb::DynamicValue, FunctionError> {
        let name = &req.name;
        let called = self
            .fw
            .call_function(name, req.arguments.len(), |index, param| {
                decode_value(Some(&req.arguments[index]), &param.ty).map_err(|e| {
                    FunctionError::argument(
                        index,
                        format!(
                            "The provider could not read argument \"{}\" as Terraform sent it: {e}. This is always a bug \
                             in the provider (or a Terraform version it does not support); please report it.",
                            param.name
                        ),
                    )
                })
            })?;
        encode_value(&called.value, called.ty).map_err(|e| {
            FunctionError::new(if called.skipped {
                format!(
                    "While sending the unknown result of {name}: {e}. This is always a bug in the provider; please report it."
                )
            } else {
                format!(
                    "While sending the result of {name}: {e}. This is always a bug in the provider; please report it \
                     with the arguments of the call."
                )
            })
        })
    }

    /// Every function's declaration, by name.
    fn function_schemas(&self) -> std::collections::HashMap<String, pb::Function> {
        self.fw
            .functions
            .iter()
            .map(|(name, e)| (name.clone(), convert::function(&e.signature)))
            .collect()
    }

    async fn upgrade_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> Result<pb::upgrade_resource_identity::Response, pb::Diagnostic> {
        let entry = self.fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
        let raw = req.raw_identity.unwrap_or_default();
        let resp = entry
            .resource
            .upgrade_identity(UpgradeIdentityRequest {
                version: req.version,
                raw_json: raw.json,
            })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let identity_ty = entry.identity.as_ref().map(|(_, ty)| ty);
        let upgraded_identity = match (resp.identity, identity_ty) {
            (Some(identity), Some(ty)) => match encode_value(&identity, ty) {
                Ok(data) => Some(pb::ResourceIdentityData {
                    identity_data: Some(data),
                }),
                Err(e) => {
                    diagnostics.push(unencodable("identity", &req.type_name, &e));
                    None
                }
            },
            _ => None,
        };
        Ok(pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics,
        })
    }

    async fn move_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        let resp = self
            .fw
            .move_state(MoveRequest {
                source_type_name: req.source_type_name,
                source_provider_address: req.source_provider_address,
                target_type_name: req.target_type_name.clone(),
            })
            .await;
        let mut diagnostics = convert::diagnostics(&resp.diagnostics);
        let target_state = match resp.state.map(|state| {
            let ty = self.fw.resources.get(&req.target_type_name).map(|e| &e.ty);
            ty.map(|ty| encode_value(&state, ty))
        }) {
            Some(Some(Ok(v))) => Some(v),
            Some(Some(Err(e))) => {
                diagnostics.push(unencodable("moved state", &req.target_type_name, &e));
                None
            }
            _ => None,
        };
        pb::move_resource_state::Response {
            target_state,
            diagnostics,
            ..Default::default()
        }
    }
}

/// The RPCs of object kinds this provider does not offer: each answers one
/// "Unknown ... Type" error naming the type Terraform asked for. Written
/// in the form `tonic::async_trait` gives async methods, since it does not
/// look inside macros.
macro_rules! unsupported_rpcs {
    ($($rpc:ident($module:ident, $name:literal, $field:ident) => $kind:literal, $plural:literal;)*) => {$(
        fn $rpc<'life0, 'async_trait>(
            &'life0 self,
            request: Request<pb::$module::Request>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<pb::$module::Response>, Status>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            let req = request.into_inner();
            log_rpc($name, &req.$field);
            Box::pin(std::future::ready(answer(Err(pb_error(&unsupported(
                $kind, $plural, &req.$field,
            ))))))
        }
    )*};
}

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    unsupported_rpcs! {
        validate_data_resource_config(validate_data_resource_config, "ValidateDataResourceConfig", type_name) => "Data Source", "data sources";
        read_data_source(read_data_source, "ReadDataSource", type_name) => "Data Source", "data sources";
        validate_ephemeral_resource_config(validate_ephemeral_resource_config, "ValidateEphemeralResourceConfig", type_name) => "Ephemeral Resource", "ephemeral resources";
        open_ephemeral_resource(open_ephemeral_resource, "OpenEphemeralResource", type_name) => "Ephemeral Resource", "ephemeral resources";
        renew_ephemeral_resource(renew_ephemeral_resource, "RenewEphemeralResource", type_name) => "Ephemeral Resource", "ephemeral resources";
        close_ephemeral_resource(close_ephemeral_resource, "CloseEphemeralResource", type_name) => "Ephemeral Resource", "ephemeral resources";
        validate_state_store_config(validate_state_store, "ValidateStateStoreConfig", type_name) => "State Store", "state stores";
        configure_state_store(configure_state_store, "ConfigureStateStore", type_name) => "State Store", "state stores";
        lock_state(lock_state, "LockState", type_name) => "State Store", "state stores";
        unlock_state(unlock_state, "UnlockState", type_name) => "State Store", "state stores";
        get_states(get_states, "GetStates", type_name) => "State Store", "state stores";
        delete_state(delete_state, "DeleteState", type_name) => "State Store", "state stores";
        plan_action(plan_action, "PlanAction", action_type) => "Action", "actions";
        validate_action_config(validate_action_config, "ValidateActionConfig", type_name) => "Action", "actions";
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("MoveResourceState", &req.target_type_name);
        Ok(Response::new(self.move_state(req).await))
    }

    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        log_rpc("GetMetadata", "");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            resources: self
                .fw
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            list_resources: self
                .fw
                .lists
                .keys()
                .map(|name| pb::get_metadata::ListResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            functions: self
                .fw
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
            provider: Some(convert::schema(&self.fw.provider_schema)),
            resource_schemas: self
                .fw
                .resources
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .fw
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
                .fw
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
        answer(self.upgrade_identity(req).await)
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

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("GenerateResourceConfig", &req.type_name);
        answer(self.generate(req).await)
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

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        let req = request.into_inner();
        log_rpc("ReadStateBytes", &req.type_name);
        let chunk = pb::read_state_bytes::Response {
            diagnostics: vec![pb_error(&unsupported(
                "State Store",
                "state stores",
                &req.type_name,
            ))],
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
        answer(Err(pb_error(&unsupported(
            "State Store",
            "state stores",
            &type_name,
        ))))
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
                diagnostics: vec![pb_error(&unsupported(
                    "Action",
                    "actions",
                    &req.action_type,
                ))],
            })),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        log_rpc("StopProvider", "");
        self.fw.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
#[path = "grpc_tests.rs"]
mod tests;
