//! One function per provider RPC that carries values: decode the request
//! with the types the framework registered, call `tf::dispatch`, encode
//! the answer. A value that cannot be encoded becomes a diagnostic, and the
//! answer falls back to what Terraform sent (for states) or to what the
//! framework said to keep (for identities).

use std::pin::Pin;

use futures::{Stream, StreamExt as _};
use tonic::Status;

use super::convert::{self, decode_value, encode_value, undecodable, unencodable};
use super::proto::tfplugin6 as pb;
use crate::tf::Type;
use crate::tf::action::PlanActionRequest;
use crate::tf::diag::{Diagnostic, PROVIDER_BUG};
use crate::tf::dispatch::{ActionEvent, Dispatcher, Identified, ListEvent, NewIdentity};
use crate::tf::function::FunctionError;
use crate::tf::plan::PlanInput;
use crate::tf::resource::{
    ApplyRequest, ConfigureRequest, ImportRequest, MoveRequest, ReadRequest,
    UpgradeIdentityRequest, UpgradeRequest, ValidateRequest,
};

/// A response stream of a server-streaming RPC.
pub(super) type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A framework diagnostic in protobuf form.
pub(super) fn pb_error(d: &Diagnostic) -> pb::Diagnostic {
    convert::diagnostic(d)
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

pub(super) async fn validate_provider(
    fw: &Dispatcher,
    req: pb::validate_provider_config::Request,
) -> Result<pb::validate_provider_config::Response, pb::Diagnostic> {
    let config = decode_value(req.config.as_ref(), &fw.provider_ty)
        .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
    let diags = fw.provider.validate(&config).await;
    Ok(pb::validate_provider_config::Response {
        diagnostics: convert::diagnostics(&diags),
    })
}

pub(super) async fn configure(
    fw: &Dispatcher,
    req: pb::configure_provider::Request,
) -> Result<pb::configure_provider::Response, pb::Diagnostic> {
    let config = decode_value(req.config.as_ref(), &fw.provider_ty)
        .map_err(|e| undecodable("provider configuration", "the provider", &e))?;
    let diags = fw
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

pub(super) async fn validate_resource(
    fw: &Dispatcher,
    req: pb::validate_resource_config::Request,
) -> Result<pb::validate_resource_config::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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

pub(super) async fn upgrade_state(
    fw: &Dispatcher,
    req: pb::upgrade_resource_state::Request,
) -> Result<pb::upgrade_resource_state::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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

pub(super) async fn read(
    fw: &Dispatcher,
    req: pb::read_resource::Request,
) -> Result<pb::read_resource::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
    let current_state = decode_value(req.current_state.as_ref(), &entry.ty)
        .map_err(|e| undecodable("current state", &req.type_name, &e))?;
    let (resp, identity) = entry
        .read(ReadRequest {
            current_state,
            private: req.private,
            cancel: fw.stop_token(),
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

pub(super) async fn plan(
    fw: &Dispatcher,
    req: pb::plan_resource_change::Request,
) -> Result<pb::plan_resource_change::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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

pub(super) async fn apply(
    fw: &Dispatcher,
    req: pb::apply_resource_change::Request,
) -> Result<pb::apply_resource_change::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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
            cancel: fw.stop_token(),
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

pub(super) async fn import(
    fw: &Dispatcher,
    req: pb::import_resource_state::Request,
) -> Result<pb::import_resource_state::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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
            fw.stop_token(),
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

pub(super) async fn generate(
    fw: &Dispatcher,
    req: pb::generate_resource_config::Request,
) -> Result<pb::generate_resource_config::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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

pub(super) async fn validate_data_source(
    fw: &Dispatcher,
    req: pb::validate_data_resource_config::Request,
) -> Result<pb::validate_data_resource_config::Response, pb::Diagnostic> {
    let entry = fw.data_source(&req.type_name).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &entry.ty)
        .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
    let diags = entry.data_source.validate(&config).await;
    Ok(pb::validate_data_resource_config::Response {
        diagnostics: convert::diagnostics(&diags),
    })
}

pub(super) async fn read_data_source(
    fw: &Dispatcher,
    req: pb::read_data_source::Request,
) -> Result<pb::read_data_source::Response, pb::Diagnostic> {
    let entry = fw.data_source(&req.type_name).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &entry.ty)
        .map_err(|e| undecodable("configuration", &req.type_name, &e))?;
    let capabilities = convert::client_capabilities(req.client_capabilities.as_ref());
    let resp = fw.read_data_source(entry, config, capabilities).await;
    let mut diagnostics = convert::diagnostics(&resp.diagnostics);
    let state = match encode_value(&resp.state, &entry.ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diagnostics.push(unencodable("state", &req.type_name, &e));
            None
        }
    };
    Ok(pb::read_data_source::Response {
        state,
        diagnostics,
        deferred: convert::deferred(resp.deferred),
    })
}

pub(super) async fn validate_list(
    fw: &Dispatcher,
    req: pb::validate_list_resource_config::Request,
) -> Result<pb::validate_list_resource_config::Response, pb::Diagnostic> {
    let entry = fw.list(&req.type_name).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &entry.ty)
        .map_err(|e| undecodable("list configuration", &req.type_name, &e))?;
    let diags = entry.list.validate(&config).await;
    Ok(pb::validate_list_resource_config::Response {
        diagnostics: convert::diagnostics(&diags),
    })
}

/// Starts a list; results stream as the resource finds them. A problem
/// before the list starts is one event carrying only diagnostics.
pub(super) fn start_list(
    fw: &Dispatcher,
    req: pb::list_resource::Request,
) -> Result<BoxStream<pb::list_resource::Event>, pb::Diagnostic> {
    let types = fw.list_types(&req.type_name).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &types.entry.ty)
        .map_err(|e| undecodable("list configuration", &req.type_name, &e))?;
    let events = fw.start_list(types.entry, config, req.include_resource_object, req.limit);
    let identity_ty = types.identity_ty.clone();
    let resource_ty = types.resource_ty.clone();
    let type_name = req.type_name;
    let stream = tokio_stream::wrappers::ReceiverStream::new(events)
        .map(move |event| Ok(list_event(event, &identity_ty, &resource_ty, &type_name)));
    Ok(Box::pin(stream))
}

pub(super) async fn validate_action(
    fw: &Dispatcher,
    req: pb::validate_action_config::Request,
) -> Result<pb::validate_action_config::Response, pb::Diagnostic> {
    let entry = fw.action(&req.type_name).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &entry.ty)
        .map_err(|e| undecodable("action configuration", &req.type_name, &e))?;
    let diags = entry.action.validate(&config).await;
    Ok(pb::validate_action_config::Response {
        diagnostics: convert::diagnostics(&diags),
    })
}

pub(super) async fn plan_action(
    fw: &Dispatcher,
    req: pb::plan_action::Request,
) -> Result<pb::plan_action::Response, pb::Diagnostic> {
    let entry = fw.action(&req.action_type).map_err(|d| pb_error(&d))?;
    let config = decode_value(req.config.as_ref(), &entry.ty)
        .map_err(|e| undecodable("action configuration", &req.action_type, &e))?;
    let resp = entry
        .action
        .plan(PlanActionRequest {
            config,
            capabilities: convert::client_capabilities(req.client_capabilities.as_ref()),
        })
        .await;
    Ok(pb::plan_action::Response {
        diagnostics: convert::diagnostics(&resp.diagnostics),
        deferred: convert::deferred(resp.deferred),
    })
}

/// Starts an action; its progress streams as it runs, and the last event
/// carries its diagnostics. A problem before it starts is that last event
/// alone.
pub(super) fn start_action(
    fw: &Dispatcher,
    req: pb::invoke_action::Request,
) -> BoxStream<pb::invoke_action::Event> {
    use pb::invoke_action::event::{Completed, Progress, Type};
    let completed = |diagnostics| pb::invoke_action::Event {
        r#type: Some(Type::Completed(Completed { diagnostics })),
    };
    let started = fw
        .action(&req.action_type)
        .map_err(|d| pb_error(&d))
        .and_then(|entry| {
            let config = decode_value(req.config.as_ref(), &entry.ty)
                .map_err(|e| undecodable("action configuration", &req.action_type, &e))?;
            Ok(fw.start_action(entry, config))
        });
    match started {
        Ok(events) => Box::pin(tokio_stream::wrappers::ReceiverStream::new(events).map(
            move |event| {
                Ok(match event {
                    ActionEvent::Progress(message) => pb::invoke_action::Event {
                        r#type: Some(Type::Progress(Progress { message })),
                    },
                    ActionEvent::Done(diags) => completed(convert::diagnostics(&diags)),
                })
            },
        )),
        Err(d) => Box::pin(futures::stream::iter([Ok(completed(vec![d]))])),
    }
}

/// Runs a function: each argument decoded by its parameter's type, the
/// result encoded by the return type.
pub(super) fn call(
    fw: &Dispatcher,
    req: pb::call_function::Request,
) -> Result<pb::DynamicValue, FunctionError> {
    let name = &req.name;
    let called = fw
        .call_function(name, req.arguments.len(), |index, param| {
            decode_value(Some(&req.arguments[index]), &param.ty).map_err(|e| {
                FunctionError::argument(
                    index,
                    format!(
                        "The provider could not read argument \"{}\" as Terraform sent it: {e}. Unless this \
                         Terraform version is one the provider does not support: {PROVIDER_BUG}",
                        param.name
                    ),
                )
            })
        })?;
    encode_value(&called.value, called.ty).map_err(|e| {
        FunctionError::new(if called.skipped {
            format!(
                "While sending the unknown result of {name}: {e}. {PROVIDER_BUG}"
            )
        } else {
            format!(
                "While sending the result of {name}: {e}. {PROVIDER_BUG} Include the arguments of the call."
            )
        })
    })
}

/// Every function's declaration, by name.
pub(super) fn function_schemas(fw: &Dispatcher) -> std::collections::HashMap<String, pb::Function> {
    fw.functions
        .iter()
        .map(|(name, e)| (name.clone(), convert::function(&e.signature)))
        .collect()
}

pub(super) async fn upgrade_identity(
    fw: &Dispatcher,
    req: pb::upgrade_resource_identity::Request,
) -> Result<pb::upgrade_resource_identity::Response, pb::Diagnostic> {
    let entry = fw.resource(&req.type_name).map_err(|d| pb_error(&d))?;
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

pub(super) async fn move_state(
    fw: &Dispatcher,
    req: pb::move_resource_state::Request,
) -> pb::move_resource_state::Response {
    let resp = fw
        .move_state(MoveRequest {
            source_type_name: req.source_type_name,
            source_provider_address: req.source_provider_address,
            source_schema_version: req.source_schema_version,
            source_state: req.source_state.map(|raw| raw.json).unwrap_or_default(),
            target_type_name: req.target_type_name.clone(),
        })
        .await;
    let mut diagnostics = convert::diagnostics(&resp.diagnostics);
    let target_state = match resp.state.map(|state| {
        let ty = fw.resources.get(&req.target_type_name).map(|e| &e.ty);
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
        target_private: match target_state {
            Some(_) => resp.private,
            None => Vec::new(),
        },
        target_state,
        diagnostics,
        ..Default::default()
    }
}
