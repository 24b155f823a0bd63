//! Actions (Terraform 1.14 and later): operations a configuration names in
//! an `action` block and Terraform runs on request (`terraform apply
//! -invoke=action.TYPE.NAME`) or when a resource's `action_trigger` fires.
//! An action has a configuration and nothing in state; it is checked
//! (validate, then plan) before it runs, and while it runs it reports
//! progress, which Terraform prints as it arrives.

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::capabilities::{ClientCapabilities, DeferredReason};
use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// PlanAction: the configuration as the plan knows it.
#[derive(Debug, Clone)]
pub struct PlanActionRequest {
    /// The configuration (may contain unknowns).
    pub config: Value,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
}

/// Answer to PlanAction.
#[derive(Debug, Clone, Default)]
pub struct PlanActionResponse {
    /// Problems that stop the plan.
    pub diagnostics: Diagnostics,
    /// Why the action cannot be planned yet, if Terraform allows deferral.
    pub deferred: Option<DeferredReason>,
}

/// InvokeAction: the configuration, now known, and the stop signal.
#[derive(Debug, Clone)]
pub struct InvokeActionRequest {
    /// The configuration.
    pub config: Value,
    /// Cancelled when Terraform asks the provider to stop, or stops
    /// listening.
    pub cancel: CancellationToken,
}

/// Where a running action reports progress; each message is one line of
/// Terraform's output.
#[derive(Debug, Clone)]
pub struct Progress(mpsc::UnboundedSender<String>);

impl Progress {
    /// A sink and the receiver of its messages.
    pub fn channel() -> (Progress, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Progress(tx), rx)
    }

    /// Reports `message`. Nothing happens when nobody listens any more.
    pub fn say(&self, message: impl Into<String>) {
        let _ = self.0.send(message.into());
    }
}

/// An action type.
#[async_trait]
pub trait Action: Send + Sync {
    /// The type name, as in `action "TYPE" "NAME"`.
    fn type_name(&self) -> &'static str;

    /// The schema of its `config` block.
    fn schema(&self) -> Schema;

    /// Checks the configuration without contacting any server.
    async fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Checks the configuration against what the action acts on, before
    /// anything runs.
    async fn plan(&self, req: PlanActionRequest) -> PlanActionResponse {
        let _ = req;
        PlanActionResponse::default()
    }

    /// Runs the action, reporting progress to `progress`; the diagnostics
    /// returned end it (an error fails Terraform's command).
    async fn invoke(&self, req: InvokeActionRequest, progress: &Progress) -> Diagnostics;
}
