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
use crate::tf::plan::{PlanInput, plan_resource_change};
use crate::tf::resource::{
    ApplyRequest, ConfigureRequest, ImportRequest, ReadRequest, UpgradeRequest, ValidateRequest,
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
        ProviderService {
            provider,
            provider_schema,
            provider_ty,
            resources,
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

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: false,
            move_resource_state: false,
            generate_resource_config: false,
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
        let diags = entry.resource.validate(ValidateRequest { config }).await;
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
        let new_identity = entry.identity.as_ref().and(req.current_identity);
        Ok(pb::read_resource::Response {
            new_state,
            diagnostics,
            private: resp.private,
            deferred: None,
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
        } else {
            entry.identity.as_ref().and(req.prior_identity)
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
        let new_identity = if deleting {
            None
        } else {
            entry.identity.as_ref().and(req.planned_identity)
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
        let resp = entry
            .resource
            .import(ImportRequest {
                id: req.id,
                identity,
            })
            .await;
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
            _ => None,
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
        answer(Err(convert::error(
            "Configuration Generation Not Supported",
            format!(
                "This provider does not generate configuration for {}; write the resource block by hand \
                 from the imported state.",
                req.type_name
            ),
        )))
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
        let event = pb::list_resource::Event {
            diagnostic: vec![unsupported(
                "List Resource",
                "list resources",
                &req.type_name,
            )],
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateListResourceConfig", &req.type_name);
        answer(Err(unsupported(
            "List Resource",
            "list resources",
            &req.type_name,
        )))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        log_rpc("GetFunctions", "");
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        log_rpc("CallFunction", &req.name);
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "This provider offers no functions, so it cannot call \"{}\".",
                    req.name
                ),
                function_argument: None,
            }),
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
