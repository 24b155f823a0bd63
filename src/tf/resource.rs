//! The provider, resource, data source and list resource traits, with one
//! request/response pair per operation. Methods fill the response; diagnostics accumulate on it. A
//! resource implements create, read, update and delete; the framework
//! (`dispatch`) decides which one an ApplyResourceChange is.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::action::Action;
use super::diag::{Diagnostic, Diagnostics};
use super::function::Function;
use super::schema::{IdentitySchema, Schema};
use super::value::Value;

pub use super::capabilities::{ClientCapabilities, DeferredReason};

/// ValidateResourceConfig.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// The configuration (may contain unknowns).
    pub config: Value,
    /// Terraform's capabilities (write-only attributes need 1.11 or later).
    pub capabilities: ClientCapabilities,
}

/// UpgradeResourceState.
#[derive(Debug, Clone)]
pub struct UpgradeRequest {
    /// The version the state was written with.
    pub version: i64,
    /// The state as JSON of that version's schema.
    pub raw_json: Vec<u8>,
}

/// Answer to UpgradeResourceState.
#[derive(Debug, Clone, Default)]
pub struct UpgradeResponse {
    /// The state in the current schema.
    pub state: Option<Value>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// PlanResourceChange, after the framework's plan pipeline has run.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Prior state (`Null` on create).
    pub prior_state: Value,
    /// Configuration (`Null` on destroy).
    pub config: Value,
    /// Prior private bytes.
    pub prior_private: Vec<u8>,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
}

/// Answer to PlanResourceChange; pre-filled by the framework pipeline.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned state; the resource may refine it.
    pub planned_state: Value,
    /// Paths whose change forces replacement.
    pub requires_replace: Vec<super::path::AttributePath>,
    /// Private bytes to carry to apply.
    pub planned_private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
    /// Set to defer the change.
    pub deferred: Option<DeferredReason>,
}

/// ApplyResourceChange, as Terraform sends it. The framework turns it into
/// a create, an update or a delete (see `tf::dispatch`).
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// Prior state (`Null` on create).
    pub prior_state: Value,
    /// Planned state (`Null` on delete).
    pub planned_state: Value,
    /// Configuration.
    pub config: Value,
    /// Private bytes from the plan.
    pub planned_private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Create: there is no prior state.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The planned state (may hold unknowns the create fills in).
    pub planned_state: Value,
    /// Configuration.
    pub config: Value,
    /// Private bytes from the plan.
    pub planned_private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Update in place: both the prior and the planned state exist.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// Prior state.
    pub prior_state: Value,
    /// The planned state (may hold unknowns the update fills in).
    pub planned_state: Value,
    /// Configuration.
    pub config: Value,
    /// Private bytes from the plan.
    pub planned_private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Delete: the plan is null.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    /// Prior state.
    pub prior_state: Value,
    /// Private bytes from the plan.
    pub planned_private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Answer to a create, an update or a delete (and so to
/// ApplyResourceChange).
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// New state (`Null` after a delete; what still exists when one
    /// fails).
    pub new_state: Value,
    /// Private bytes to store.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// ReadResource.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Current state.
    pub current_state: Value,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Answer to ReadResource.
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// New state; `Null` when the object is gone.
    pub new_state: Value,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
    /// Set (with the current state as `new_state`) to defer the refresh;
    /// only when Terraform allows deferral.
    pub deferred: Option<DeferredReason>,
}

/// ImportResourceState.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The import ID (empty for identity import).
    pub id: String,
    /// The identity, for identity import.
    pub identity: Option<Value>,
}

/// Answer to ImportResourceState.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The imported state (Read fills the rest).
    pub state: Value,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Identity of the imported object.
    pub identity: Option<Value>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// GenerateResourceConfig: configuration for an object Terraform holds only
/// as state (after `import` blocks without configuration, or
/// `terraform query -generate-config-out`).
#[derive(Debug, Clone)]
pub struct GenerateConfigRequest {
    /// The state to write configuration for.
    pub state: Value,
}

/// Answer to GenerateResourceConfig.
#[derive(Debug, Clone, Default)]
pub struct GenerateConfigResponse {
    /// The configuration: an object of the resource's type in which every
    /// attribute a configuration cannot set is null.
    pub config: Value,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// MoveResourceState: state of another resource type (or provider) to
/// take over.
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The type the state was written for.
    pub source_type_name: String,
    /// The provider that wrote it.
    pub source_provider_address: String,
    /// The schema version the source state was written with.
    pub source_schema_version: i64,
    /// The source state as JSON (empty when Terraform holds it only in the
    /// legacy flatmap form).
    pub source_state: Vec<u8>,
    /// The type to move it to (one of ours).
    pub target_type_name: String,
}

/// Answer to MoveResourceState.
#[derive(Debug, Clone, Default)]
pub struct MoveResponse {
    /// The state in the target type's schema.
    pub state: Option<Value>,
    /// The target's private state.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// The diagnostics of a move nothing can serve: this framework offers no
/// state moves (the server says so in its capabilities).
pub fn move_not_supported(req: &MoveRequest) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        "Move Not Supported",
        format!(
            "This provider cannot move state from {} ({}) to {}. Remove the old resource from state \
             and import the object into the new one instead.",
            req.source_type_name, req.source_provider_address, req.target_type_name
        ),
    );
    d
}

/// UpgradeResourceIdentity.
#[derive(Debug, Clone)]
pub struct UpgradeIdentityRequest {
    /// The identity schema version the identity was written with.
    pub version: i64,
    /// The identity as JSON of that version.
    pub raw_json: Vec<u8>,
}

/// Answer to UpgradeResourceIdentity.
#[derive(Debug, Clone, Default)]
pub struct UpgradeIdentityResponse {
    /// The identity in the current identity schema.
    pub identity: Option<Value>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The full type name, e.g. `planton_kubernetes_job`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// The identity schema, once the resource supports identity.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The identity of the object `state` describes, as a value of the
    /// identity schema's object type; `None` when the resource has no
    /// identity or the state does not determine it yet. The server derives
    /// every identity Terraform receives (import, read, plan, apply) from
    /// this, so an identity is the same for the whole life of an object
    /// as long as it depends only on attributes whose change replaces it.
    fn identity(&self, state: &Value) -> Option<Value> {
        let _ = state;
        None
    }

    /// Checks a configuration without contacting any server. Unknown values
    /// skip their checks.
    async fn validate(&self, req: ValidateRequest) -> Diagnostics;

    /// Brings a stored state up to the current schema. The default decodes
    /// JSON of the current version.
    async fn upgrade_state(&self, req: UpgradeRequest) -> UpgradeResponse {
        let mut resp = UpgradeResponse::default();
        let schema = self.schema();
        if req.version != schema.version {
            resp.diagnostics.error(
                "Unsupported State Version",
                format!(
                    "The state was written with schema version {} and this provider knows only version {}. \
                     Use a provider release that matches the state, or remove the resource from state and import it again.",
                    req.version, schema.version
                ),
            );
            return resp;
        }
        match super::value::json::decode(&req.raw_json, &schema.value_type()) {
            Ok(v) => resp.state = Some(v),
            Err(e) => resp.diagnostics.provider_bug(
                None,
                "Unreadable Resource State",
                format!("While decoding the stored state: {e}."),
            ),
        }
        resp
    }

    /// Refines the plan the framework computed.
    async fn plan(&self, _req: &PlanRequest, _resp: &mut PlanResponse) {}

    /// Creates the object the plan describes. The answer's state must
    /// match the plan wherever the plan is known.
    async fn create(&self, req: CreateRequest) -> ApplyResponse;

    /// Refreshes the state from the real world.
    async fn read(&self, req: ReadRequest) -> ReadResponse;

    /// Changes the object in place to match the plan.
    async fn update(&self, req: UpdateRequest) -> ApplyResponse;

    /// Deletes the object. On success the framework answers a null state
    /// whatever this returns; on failure the returned state is what still
    /// exists.
    async fn delete(&self, req: DeleteRequest) -> ApplyResponse;

    /// Writes configuration for an object known only as state. The default
    /// keeps what a configuration can set (see
    /// [`super::generate::config_from_state`]).
    async fn generate_config(&self, req: GenerateConfigRequest) -> GenerateConfigResponse {
        GenerateConfigResponse {
            config: super::generate::config_from_state(&self.schema().block, &req.state),
            diagnostics: Diagnostics::new(),
        }
    }

    /// Takes over state written for another resource type. No resource
    /// of this provider does yet.
    async fn move_state(&self, req: MoveRequest) -> MoveResponse {
        MoveResponse {
            state: None,
            private: Vec::new(),
            diagnostics: move_not_supported(&req),
        }
    }

    /// Brings a stored identity up to the current identity schema. The
    /// default decodes JSON of the current version.
    async fn upgrade_identity(&self, req: UpgradeIdentityRequest) -> UpgradeIdentityResponse {
        let mut resp = UpgradeIdentityResponse::default();
        let Some(schema) = self.identity_schema() else {
            resp.diagnostics.error(
                "Resource Identity Not Supported",
                format!(
                    "{} has no resource identity, so there is nothing to upgrade.",
                    self.type_name()
                ),
            );
            return resp;
        };
        if req.version != schema.version {
            resp.diagnostics.error(
                "Unsupported Identity Version",
                format!(
                    "The stored identity of {} has version {} and this provider knows only version {}. \
                     Use a provider release that matches the state.",
                    self.type_name(),
                    req.version,
                    schema.version
                ),
            );
            return resp;
        }
        match super::value::json::decode(&req.raw_json, &schema.value_type()) {
            Ok(v) => resp.identity = Some(v),
            Err(e) => resp.diagnostics.add(Diagnostic::undecodable(
                "stored identity",
                self.type_name(),
                &e,
            )),
        }
        resp
    }

    /// Imports an existing object.
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let _ = req;
        let mut resp = ImportResponse::default();
        resp.diagnostics.error(
            "Import Not Supported",
            format!("{} does not support import yet.", self.type_name()),
        );
        resp
    }
}

/// ListResource: find existing objects (`terraform query`).
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `config` block of the `list` block, in the list resource's schema.
    pub config: Value,
    /// Whether each result should carry the whole object as state.
    pub include_resource_object: bool,
    /// Terraform stops reading after this many results (0 or less: no
    /// limit was given).
    pub limit: i64,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// One object a list found.
#[derive(Debug, Clone, Default)]
pub struct ListResult {
    /// Its identity (the managed resource's identity type). Terraform
    /// imports by it.
    pub identity: Value,
    /// How Terraform shows it.
    pub display_name: String,
    /// The object as state of the managed resource, when asked for.
    pub resource_object: Option<Value>,
    /// Problems with this object.
    pub diagnostics: Diagnostics,
}

/// Where a list sends its results, one at a time, as they are found.
#[derive(Debug, Clone)]
pub struct ListSink(tokio::sync::mpsc::Sender<ListResult>);

impl ListSink {
    /// A sink and the receiving end the server streams from.
    pub fn channel(capacity: usize) -> (ListSink, tokio::sync::mpsc::Receiver<ListResult>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        (ListSink(tx), rx)
    }

    /// Sends one result; false once Terraform stopped reading (the list
    /// should then stop).
    pub async fn send(&self, result: ListResult) -> bool {
        self.0.send(result).await.is_ok()
    }
}

/// A list resource: finds existing objects of the managed resource type of
/// the same name, for `terraform query` (Terraform 1.14+).
#[async_trait]
pub trait ListResource: Send + Sync {
    /// The type name; a managed resource type of this name (with an
    /// identity) must exist.
    fn type_name(&self) -> &'static str;

    /// The schema of the `config` block of a `list` block.
    fn schema(&self) -> Schema;

    /// Checks a `config` block without contacting any server.
    async fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Sends every matching object to `out`, stopping early when `out`
    /// says Terraform stopped reading. Diagnostics that concern no single
    /// object are returned.
    async fn list(&self, req: ListRequest, out: &ListSink) -> Diagnostics;
}

/// ReadDataSource.
#[derive(Debug, Clone)]
pub struct ReadDataRequest {
    /// The data source's configuration (wholly known: Terraform reads a
    /// data source whose configuration is not until apply).
    pub config: Value,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

/// Answer to ReadDataSource.
#[derive(Debug, Clone, Default)]
pub struct ReadDataResponse {
    /// The configuration with every computed attribute filled in.
    pub state: Value,
    /// Problems.
    pub diagnostics: Diagnostics,
    /// Set to defer the read (only when Terraform allows deferral); the
    /// framework then answers the configuration with its computed
    /// attributes unknown, whatever `state` holds.
    pub deferred: Option<DeferredReason>,
}

/// A data source: reads an object Terraform does not manage, afresh on
/// every plan.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The full type name, e.g. `planton_kubernetes_job`.
    fn type_name(&self) -> &'static str;

    /// The schema: what a configuration sets, and what the read computes.
    fn schema(&self) -> Schema;

    /// Checks a configuration without contacting any server. Unknown values
    /// skip their checks.
    async fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Reads the object the configuration names.
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse;
}

/// ConfigureProvider.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// Terraform's version.
    pub terraform_version: String,
    /// The provider configuration (may hold unknowns).
    pub config: Value,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
}

/// A provider: its own schema and configuration, and its resource types.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider block's schema.
    fn schema(&self) -> Schema;

    /// Every resource type the provider offers.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// Every data source the provider offers (none by default).
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    /// Every list resource type the provider offers (none by default).
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }

    /// Every function the provider offers (none by default).
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }

    /// Every action type the provider offers (none by default).
    fn actions(&self) -> Vec<Arc<dyn Action>> {
        Vec::new()
    }

    /// Checks the provider block.
    async fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Configures the provider for later operations.
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        let _ = req;
        Diagnostics::new()
    }
}
