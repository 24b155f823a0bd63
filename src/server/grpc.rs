//! The `tfplugin6.Provider` service: each RPC logs, hands its request to
//! the conversion in `calls` (which asks the framework, `tf::dispatch`)
//! and wraps the answer. Problems with what Terraform sent become
//! diagnostics; a `Status` is reserved for transport faults. RPCs of
//! object kinds this provider does not offer answer one diagnostic each.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};

use super::calls::{self, BoxStream, pb_error};
use super::convert;
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::tf::Provider;
use crate::tf::dispatch::{Dispatcher, unsupported};

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
            move_resource_state: true,
            // Every resource answers, with the framework's default at least.
            generate_resource_config: true,
        }
    }
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
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("MoveResourceState", &req.target_type_name);
        Ok(Response::new(calls::move_state(&self.fw, req).await))
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
            data_sources: self
                .fw
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
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
            actions: self
                .fw
                .actions
                .keys()
                .map(|name| pb::get_metadata::ActionMetadata {
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
            provider: Some(convert::schema(&self.fw.provider_schema)),
            resource_schemas: self
                .fw
                .resources
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            data_source_schemas: self
                .fw
                .data_sources
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .fw
                .lists
                .iter()
                .map(|(name, e)| (name.clone(), convert::schema(&e.schema)))
                .collect(),
            functions: calls::function_schemas(&self.fw),
            action_schemas: self
                .fw
                .actions
                .iter()
                .map(|(name, e)| {
                    (
                        name.clone(),
                        pb::ActionSchema {
                            schema: Some(convert::schema(&e.schema)),
                        },
                    )
                })
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
        answer(calls::validate_provider(&self.fw, request.into_inner()).await)
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateDataResourceConfig", &req.type_name);
        answer(calls::validate_data_source(&self.fw, req).await)
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ReadDataSource", &req.type_name);
        answer(calls::read_data_source(&self.fw, req).await)
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateResourceConfig", &req.type_name);
        answer(calls::validate_resource(&self.fw, req).await)
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("UpgradeResourceState", &req.type_name);
        answer(calls::upgrade_state(&self.fw, req).await)
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
        answer(calls::upgrade_identity(&self.fw, req).await)
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        log_rpc("ConfigureProvider", "");
        answer(calls::configure(&self.fw, request.into_inner()).await)
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ReadResource", &req.type_name);
        answer(calls::read(&self.fw, req).await)
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        log_rpc("PlanResourceChange", &req.type_name);
        answer(calls::plan(&self.fw, req).await)
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ApplyResourceChange", &req.type_name);
        answer(calls::apply(&self.fw, req).await)
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ImportResourceState", &req.type_name);
        answer(calls::import(&self.fw, req).await)
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("GenerateResourceConfig", &req.type_name);
        answer(calls::generate(&self.fw, req).await)
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = request.into_inner();
        log_rpc("ListResource", &req.type_name);
        match calls::start_list(&self.fw, req) {
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
        answer(calls::validate_list(&self.fw, req).await)
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        log_rpc("GetFunctions", "");
        Ok(Response::new(pb::get_functions::Response {
            functions: calls::function_schemas(&self.fw),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        log_rpc("CallFunction", &req.name);
        Ok(Response::new(match calls::call(&self.fw, req) {
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

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = request.into_inner();
        log_rpc("ValidateActionConfig", &req.type_name);
        answer(calls::validate_action(&self.fw, req).await)
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        log_rpc("PlanAction", &req.action_type);
        answer(calls::plan_action(&self.fw, req).await)
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        let req = request.into_inner();
        log_rpc("InvokeAction", &req.action_type);
        Ok(Response::new(calls::start_action(&self.fw, req)))
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
