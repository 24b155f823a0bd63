//! The managed-resource RPCs as the framework runs them: ApplyResourceChange
//! becomes a create, an update or a delete by which of its states is null;
//! a delete that succeeds answers a null state; a destroy plans a null
//! state and no identity; an import stops when Terraform asks the provider
//! to stop; state upgrades that produce nothing are reported. Identities
//! follow the rules in the identity file.

use tokio_util::sync::CancellationToken;

use super::identity::{self, Identified, NewIdentity};
use super::registry::ResourceEntry;
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::plan::{PlanInput, plan_resource_change};
use crate::tf::resource::{
    ApplyRequest, ApplyResponse, CreateRequest, DeleteRequest, GenerateConfigRequest,
    ImportRequest, ImportResponse, PlanResponse, ReadRequest, ReadResponse, Resource,
    UpdateRequest, UpgradeRequest, UpgradeResponse,
};
use crate::tf::value::Value;

/// Runs ApplyResourceChange on `resource`: a null planned state deletes,
/// a null prior state creates, anything else updates. A delete that
/// reports no error leaves nothing behind, whatever the resource answered.
pub async fn apply_resource_change(resource: &dyn Resource, req: ApplyRequest) -> ApplyResponse {
    if req.planned_state.is_null() {
        let mut resp = resource
            .delete(DeleteRequest {
                prior_state: req.prior_state,
                planned_private: req.planned_private,
                cancel: req.cancel,
            })
            .await;
        if !resp.diagnostics.has_error() {
            resp.new_state = Value::Null;
        }
        resp
    } else if req.prior_state.is_null() {
        resource
            .create(CreateRequest {
                planned_state: req.planned_state,
                config: req.config,
                planned_private: req.planned_private,
                cancel: req.cancel,
            })
            .await
    } else {
        resource
            .update(UpdateRequest {
                prior_state: req.prior_state,
                planned_state: req.planned_state,
                config: req.config,
                planned_private: req.planned_private,
                cancel: req.cancel,
            })
            .await
    }
}

/// The answer to an import, once the resource answered without error.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The resource's answer (its state, private bytes, warnings).
    pub resp: ImportResponse,
    /// The identity to send with the imported object.
    pub identity: Identified,
    /// Set when the state does not fit the schema (nothing is imported).
    pub state_problem: Option<Diagnostic>,
}

impl ResourceEntry {
    /// UpgradeResourceState. `flatmap_only` is true when Terraform sent
    /// the state only in the flat format of Terraform 0.11, which this
    /// provider never wrote.
    pub async fn upgrade_state(&self, req: UpgradeRequest, flatmap_only: bool) -> UpgradeResponse {
        let type_name = self.resource.type_name();
        if flatmap_only {
            let mut resp = UpgradeResponse::default();
            resp.diagnostics.error(
                "Unsupported State Format",
                format!(
                    "The stored state of this {type_name} is in the flat format of Terraform 0.11 and earlier, \
                     which this provider never wrote. Remove the resource from state and import it again.",
                ),
            );
            return resp;
        }
        let mut resp = self.resource.upgrade_state(req).await;
        if resp.state.is_none() && !resp.diagnostics.has_error() {
            resp.diagnostics.provider_bug(
                None,
                "Provider Produced No State",
                format!("Upgrading the stored state of {type_name} produced neither a state nor an error."),
            );
        }
        resp
    }

    /// ReadResource; the identity follows the refreshed state, or stays
    /// what Terraform had (also when the object is gone).
    pub async fn read(&self, req: ReadRequest) -> (ReadResponse, Identified) {
        let resp = self.resource.read(req).await;
        let identity = identity::derived_or_kept(self, &resp.new_state);
        (resp, identity)
    }

    /// PlanResourceChange: the plan pipeline, a null plan for a destroy
    /// (Terraform proposes null only then, as plan_destroy is offered),
    /// and the planned identity.
    pub async fn plan(
        &self,
        input: PlanInput,
        has_prior_identity: bool,
    ) -> (PlanResponse, Identified) {
        let destroying = input.proposed_new_state.is_null();
        let prior_state = input.prior_state.clone();
        let mut resp = plan_resource_change(self.resource.as_ref(), input).await;
        if destroying {
            resp.planned_state = Value::Null;
        }
        let identity = identity::planned(
            self,
            destroying,
            has_prior_identity,
            &prior_state,
            &resp.planned_state,
        );
        (resp, identity)
    }

    /// ApplyResourceChange, with the identity of the new state (none after
    /// a delete or when nothing exists; the planned identity when the
    /// resource cannot tell).
    pub async fn apply(&self, req: ApplyRequest) -> (ApplyResponse, Identified) {
        let deleting = req.planned_state.is_null();
        let resp = apply_resource_change(self.resource.as_ref(), req).await;
        let identity = if deleting || resp.new_state.is_null() {
            Identified {
                identity: NewIdentity::Absent,
                problem: None,
            }
        } else {
            identity::derived_or_kept(self, &resp.new_state)
        };
        (resp, identity)
    }

    /// ImportResourceState. `stop` ends a waiting import (ImportRequest
    /// carries no token of its own: the import is dropped, which ends
    /// whatever it waited for). An error answers only diagnostics.
    pub async fn import(
        &self,
        req: ImportRequest,
        stop: CancellationToken,
    ) -> Result<Imported, Diagnostics> {
        let type_name = self.resource.type_name();
        let resp = tokio::select! {
            biased;
            () = stop.cancelled() => {
                let mut d = Diagnostics::new();
                d.error(
                    "Import Interrupted",
                    "Terraform asked the provider to stop before the import finished; nothing was imported.",
                );
                return Err(d);
            }
            resp = self.resource.import(req) => resp,
        };
        if resp.diagnostics.has_error() {
            return Err(resp.diagnostics);
        }
        let state_problem =
            identity::check_encodable(&resp.state, &self.ty, "imported state", type_name).err();
        // The identity the resource gave, else the one of the state.
        let identity = match (&self.identity, &resp.identity) {
            (Some((_, ty)), Some(given)) => {
                match identity::check_encodable(given, ty, "identity", type_name) {
                    Ok(()) => Identified {
                        identity: NewIdentity::Set(given.clone()),
                        problem: None,
                    },
                    Err(d) => Identified {
                        identity: NewIdentity::Absent,
                        problem: Some(d),
                    },
                }
            }
            _ => match identity::identity_of(self, &resp.state) {
                Ok(Some(v)) => Identified {
                    identity: NewIdentity::Set(v),
                    problem: None,
                },
                Ok(None) => Identified {
                    identity: NewIdentity::Absent,
                    problem: None,
                },
                Err(d) => Identified {
                    identity: NewIdentity::Absent,
                    problem: Some(d),
                },
            },
        };
        Ok(Imported {
            resp,
            identity,
            state_problem,
        })
    }

    /// GenerateResourceConfig: the configuration, unless the resource
    /// reported an error.
    pub async fn generate_config(&self, state: Value) -> (Option<Value>, Diagnostics) {
        let resp = self
            .resource
            .generate_config(GenerateConfigRequest { state })
            .await;
        if resp.diagnostics.has_error() {
            (None, resp.diagnostics)
        } else {
            (Some(resp.config), resp.diagnostics)
        }
    }
}
