//! The `planton_kubernetes_job` resource: Project Planton's KubernetesJob as
//! a Terraform resource. Its parts, bottom to top; each uses only the ones
//! listed before it:
//!
//! - [`model`]: what the resource is, as data: the schema, the typed spec,
//!   the resource's own settings and computed attributes, quantities,
//!   CloudResourceKind names, name rules, ownership labels and write-only
//!   secrets.
//! - [`validate`]: plan-time checks (Planton's rules, what Kubernetes would
//!   reject, and what Terraform cannot do), each on its attribute path.
//! - [`render`]: the Kubernetes objects a known configuration stands for.
//! - [`cluster`]: typed access to the objects of those kinds on a cluster
//!   (get, create, server-side apply, delete), by object reference.
//! - [`adopt`]: Jobs that exist before Terraform knows them: import, what
//!   is kept of Jobs made by other tools, the plan right after an import,
//!   `terraform query`, and the configuration generated for them.
//! - [`lifecycle`]: the plan of a change, then apply, read, wait and
//!   delete against a cluster.
//! - [`manifest`]: the provider functions that read and write Planton
//!   `KubernetesJob` manifests.
//! - [`run`]: the action `planton_kubernetes_job_run`, which runs a managed
//!   Job once more from its pod template.
//! - [`data_source`]: the data source of the same name, which reads any
//!   Job without managing it.
//! - this module: ties the parts to the framework's [`Resource`],
//!   [`DataSource`] and [`ListResource`] traits.
//!
//! It knows Terraform values and Kubernetes, but not the wire protocol
//! (`server`). Validation and planning never contact a cluster.

pub mod adopt;
pub mod cluster;
pub mod data_source;
pub mod lifecycle;
pub mod manifest;
pub mod model;
pub mod render;
pub mod run;
pub mod validate;

#[cfg(test)]
mod fidelity_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::kube::clusters::{ClusterRef, Clusters, PlanVerdict};
use crate::kube::connection::collapse_cluster_errors;
use crate::kube::lists::Writing;
use crate::tf::resource::{
    ApplyResponse, CreateRequest, DataSource, DeferredReason, DeleteRequest, GenerateConfigRequest,
    GenerateConfigResponse, ImportRequest, ImportResponse, ListRequest, ListResource, ListSink,
    MoveRequest, MoveResponse, PlanRequest, PlanResponse, ReadDataRequest, ReadDataResponse,
    ReadRequest, ReadResponse, UpdateRequest, ValidateRequest,
};
use crate::tf::schema::IdentitySchema;
use crate::tf::{AttributePath, Diagnostics, Resource, Schema, Value};
use adopt::identity::{self, ImportId};
use adopt::private::ImportPrivate;
use adopt::{after_import, fetch, generate, list, moved, reverse};
use lifecycle::{apply, buckets, delete, read};
use model::{options, ownership, schema, state, write_only};

/// The resource type name.
pub const TYPE_NAME: &str = "planton_kubernetes_job";

/// The `planton_kubernetes_job` resource type.
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobResource {
    clients: Arc<Clusters>,
}

impl KubernetesJobResource {
    /// The resource, with clients of its own (unconfigured until a provider
    /// configures them; for tests).
    pub fn new() -> Self {
        KubernetesJobResource::default()
    }

    /// The resource, using the provider's clients.
    pub fn with_clients(clients: Arc<Clusters>) -> Self {
        KubernetesJobResource { clients }
    }
}

#[async_trait]
impl Resource for KubernetesJobResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::identity_schema())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        identity::identity_of_state(state)
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut d = validate::validate(&req.config);
        d.extend(options::validate(&req.config));
        d.extend(write_only::validate(&req.config, &req.capabilities));
        d
    }

    async fn plan(&self, req: &PlanRequest, resp: &mut PlanResponse) {
        // Right after an import, some differences replace nothing (adopt/after_import.rs).
        match after_import::before_plan(req, resp) {
            Some(prior_state) => {
                let adjusted = PlanRequest {
                    prior_state,
                    ..req.clone()
                };
                buckets::refine_plan(&adjusted, resp);
            }
            None => buckets::refine_plan(req, resp),
        }
        after_import::after_plan(req, resp);
        // The job's cluster: never contacted here, but it must exist, and
        // settings known only after apply defer or plan without it.
        let on = if req.config.is_null() {
            &req.prior_state
        } else {
            &req.config
        };
        match self.clients.plan(
            &target_cluster(on),
            &cluster_name_path(),
            req.capabilities.deferral_allowed,
        ) {
            PlanVerdict::Ready | PlanVerdict::PlanWithoutCluster => {}
            PlanVerdict::Defer(reason) => resp.deferred = Some(reason),
            PlanVerdict::Error(d) => resp.diagnostics.extend(d),
        }
    }

    // Every request of a create, update or delete, the wait's included,
    // runs within the operation's timeout and until StopProvider; each
    // cluster-wide failure is said once.

    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        let budget = options::apply_budget(&Value::Null, &req.planned_state, req.cancel.clone());
        let mut resp = budget.run(self.create_on_cluster(req)).await;
        resp.diagnostics = collapse_cluster_errors(resp.diagnostics);
        resp
    }

    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        let budget =
            options::apply_budget(&req.prior_state, &req.planned_state, req.cancel.clone());
        let mut resp = budget.run(self.update_on_cluster(req)).await;
        resp.diagnostics = collapse_cluster_errors(resp.diagnostics);
        resp
    }

    async fn delete(&self, req: DeleteRequest) -> ApplyResponse {
        let budget = options::apply_budget(&req.prior_state, &Value::Null, req.cancel.clone());
        let mut resp = budget.run(self.delete_on_cluster(req)).await;
        resp.diagnostics = collapse_cluster_errors(resp.diagnostics);
        resp
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let budget = options::read_budget(req.cancel.clone());
        let mut resp = budget.run(self.read_from_cluster(req)).await;
        resp.diagnostics = collapse_cluster_errors(resp.diagnostics);
        resp
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let parsed = match (&req.identity, req.id.is_empty()) {
            (Some(identity), true) => ImportId::from_identity(identity),
            _ => ImportId::parse(&req.id),
        };
        let id = match parsed {
            Ok(id) => id,
            Err(e) => {
                return ImportResponse {
                    diagnostics: e.diagnostics(),
                    ..ImportResponse::default()
                };
            }
        };
        let cluster = match &id.cluster {
            Some(c) => ClusterRef::Named(c.clone()),
            None => ClusterRef::Provider,
        };
        // Import has no stop token of its own: the server drops the call on
        // StopProvider, which ends its requests.
        let budget = options::import_budget(CancellationToken::new());
        let client = match budget.clone().run(self.clients.connect(&cluster)).await {
            Ok(c) => c.client,
            Err(diagnostics) => {
                return ImportResponse {
                    diagnostics,
                    ..ImportResponse::default()
                };
            }
        };
        let (found, mut diagnostics) = match budget.run(fetch::fetch(&client, &id)).await {
            Ok(found) => found,
            Err(diagnostics) => {
                return ImportResponse {
                    diagnostics,
                    ..ImportResponse::default()
                };
            }
        };
        let imported = reverse::reverse(&id, &found, &self.schema().value_type());
        diagnostics.extend(imported.diagnostics);
        // A Job this provider made keeps its resource instance's identity.
        let mut private = imported.private.merge_into(Vec::new());
        if let Some(instance) = ownership::Instance::of(found.job.metadata.labels.as_ref()) {
            private = instance.merge_into(private);
        }
        ImportResponse {
            state: imported.state,
            private,
            identity: Some(id.identity()),
            diagnostics,
        }
    }

    async fn generate_config(&self, req: GenerateConfigRequest) -> GenerateConfigResponse {
        generate::generate(&req.state)
    }

    /// `moved` from hashicorp/kubernetes's Job resources. Offline:
    /// Terraform asks before it configures the provider.
    async fn move_state(&self, req: MoveRequest) -> MoveResponse {
        moved::accept(&req, &self.schema().value_type())
    }
}

/// The list resource `planton_kubernetes_job` (`terraform query`).
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobList {
    clients: Arc<Clusters>,
}

impl KubernetesJobList {
    /// The list resource, using the provider's clients.
    pub fn with_clients(clients: Arc<Clusters>) -> Self {
        KubernetesJobList { clients }
    }
}

#[async_trait]
impl ListResource for KubernetesJobList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        list::schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        list::validate(config)
    }

    async fn list(&self, req: ListRequest, out: &ListSink) -> Diagnostics {
        let cluster = ClusterRef::from_name(req.config.get("cluster"));
        let budget = options::list_budget(req.cancel.clone());
        budget
            .run(async {
                match self.clients.connect(&cluster).await {
                    Ok(c) => list::list(&c.client, &req, out).await,
                    Err(diagnostics) => diagnostics,
                }
            })
            .await
    }
}

/// The data source `planton_kubernetes_job`: one Job, read without
/// managing it.
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobDataSource {
    clients: Arc<Clusters>,
}

impl KubernetesJobDataSource {
    /// The data source, using the provider's clients.
    pub fn with_clients(clients: Arc<Clusters>) -> Self {
        KubernetesJobDataSource { clients }
    }
}

#[async_trait]
impl DataSource for KubernetesJobDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        data_source::schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        data_source::validate(config)
    }

    /// A plain GET of the Job and a LIST of its pods, within import's time
    /// (a budget of its own, so that errors name it) and until
    /// StopProvider; settings known only after apply defer the read when
    /// Terraform allows, and are an error otherwise.
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let failed = |diagnostics| ReadDataResponse {
            diagnostics,
            ..ReadDataResponse::default()
        };
        let id = match data_source::job_of(&req.config) {
            Ok(id) => id,
            Err(d) => return failed(d),
        };
        let cluster = ClusterRef::from_name(req.config.get("cluster"));
        if self.clients.is_unknown(&cluster) && req.capabilities.deferral_allowed {
            return ReadDataResponse {
                deferred: Some(DeferredReason::ProviderConfigUnknown),
                ..ReadDataResponse::default()
            };
        }
        let budget = options::data_source_budget(req.cancel.clone());
        let read = async {
            let connection = self.clients.connect(&cluster).await?;
            data_source::read(&connection.client, &id, &req.config).await
        };
        match budget.run(read).await {
            Ok(state) => ReadDataResponse {
                state,
                ..ReadDataResponse::default()
            },
            Err(d) => failed(collapse_cluster_errors(d)),
        }
    }
}

impl KubernetesJobResource {
    /// A client of the cluster `on` names, for a call that writes: reads
    /// meanwhile and after ask for what it wrote (see
    /// [`crate::kube::lists::SharedLists::writing`]). When there is no
    /// client, the answer keeps `state`.
    async fn client_for(
        &self,
        on: &Value,
        state: &Value,
    ) -> Result<(::kube::Client, Writing), ApplyResponse> {
        match self.clients.connect(&target_cluster(on)).await {
            Ok(c) => Ok((c.client, c.target.lists().writing())),
            Err(diagnostics) => Err(ApplyResponse {
                new_state: state.clone(),
                private: Vec::new(),
                diagnostics,
            }),
        }
    }

    /// Create on the job's cluster.
    async fn create_on_cluster(&self, req: CreateRequest) -> ApplyResponse {
        let (client, _writing) = match self.client_for(&req.planned_state, &Value::Null).await {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        let wo = write_only::WriteOnly::from_config(&req.config);
        let mut resp = apply::create(&client, req.planned_state, &wo, &req.cancel).await;
        if !resp.new_state.is_null() {
            let record = write_only::Record::of(&wo, None);
            resp.private = write_only::Record::merge_into(record.as_ref(), resp.private);
        }
        resp
    }

    /// Update on the job's cluster.
    async fn update_on_cluster(&self, req: UpdateRequest) -> ApplyResponse {
        let (client, _writing) = match self.client_for(&req.planned_state, &req.prior_state).await {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        let wo = write_only::WriteOnly::from_config(&req.config);
        let recorded = write_only::Record::from_private(&req.planned_private);
        let private = state::Private::from_bytes(&req.planned_private);
        let carried = ImportPrivate::from_private(&req.planned_private);
        let instance = ownership::Instance::from_private(&req.planned_private);
        let mut resp = apply::update(
            &client,
            &req.prior_state,
            req.planned_state,
            apply::Carried {
                private: &private,
                instance: instance.as_ref(),
                adopted: carried.adopted.as_ref(),
                wo: &wo,
            },
            &req.cancel,
        )
        .await;
        // The values applied, or (when the apply failed before the
        // Secrets) still the ones recorded before.
        let record = match resp.diagnostics.has_error() {
            false => write_only::Record::of(&wo, recorded.as_ref()),
            true => recorded,
        };
        resp.private = write_only::Record::merge_into(record.as_ref(), resp.private);
        // An adopted Job stays adopted; once applied, the state no
        // longer needs the import's allowances.
        let keep = ImportPrivate {
            imported: carried.imported && resp.diagnostics.has_error(),
            adopted: carried.adopted,
            moved: carried.moved,
        };
        resp.private = keep.merge_into(resp.private);
        resp
    }

    /// Delete on the job's cluster.
    async fn delete_on_cluster(&self, req: DeleteRequest) -> ApplyResponse {
        let (client, _writing) = match self.client_for(&req.prior_state, &req.prior_state).await {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        let instance = ownership::Instance::from_private(&req.planned_private);
        delete::delete(&client, &req.prior_state, instance.as_ref(), &req.cancel).await
    }

    /// Refresh from the job's cluster.
    async fn read_from_cluster(&self, req: ReadRequest) -> ReadResponse {
        if req.current_state.is_null() {
            return ReadResponse::default();
        }
        let cluster = target_cluster(&req.current_state);
        if self.clients.is_unknown(&cluster) {
            // Planning with provider settings known only after apply: keep
            // the state as it is (deferred when Terraform allows) rather
            // than ask any other cluster.
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: Diagnostics::new(),
                deferred: self.clients.read_deferral(&cluster),
            };
        }
        let connection = match self.clients.connect(&cluster).await {
            Ok(c) => c,
            Err(diagnostics) => {
                return ReadResponse {
                    new_state: req.current_state,
                    private: req.private,
                    diagnostics,
                    deferred: None,
                };
            }
        };
        let mut carried = ImportPrivate::from_private(&req.private);
        if carried.moved {
            moved::take_live_template(&connection.client, &req.current_state, &mut carried).await;
        }
        let instance = ownership::Instance::from_private(&req.private);
        let record = write_only::Record::from_private(&req.private);
        let mut resp = read::read_adopted(
            &connection.client,
            Some(connection.target.lists()),
            req.current_state,
            instance.as_ref(),
            record.as_ref(),
            carried.adopted.as_ref(),
            &req.cancel,
        )
        .await;
        resp.private = write_only::Record::merge_into(record.as_ref(), resp.private);
        resp.private = carried.merge_into(resp.private);
        if let Some(instance) = &instance {
            resp.private = instance.merge_into(resp.private);
        }
        resp
    }
}

/// The cluster a configuration, plan or state names in
/// `spec.target_cluster.cluster_name`.
fn target_cluster(value: &Value) -> ClusterRef {
    ClusterRef::from_name(value.get("spec").get("target_cluster").get("cluster_name"))
}

fn cluster_name_path() -> AttributePath {
    AttributePath::root("spec")
        .attr("target_cluster")
        .attr("cluster_name")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::tf::Value;
    use crate::tf::dispatch::apply_resource_change;
    use crate::tf::resource::ApplyRequest;
    use tokio_util::sync::CancellationToken;

    /// Without a configured provider, apply and read fail clearly and keep
    /// the state.
    #[tokio::test]
    async fn unconfigured_provider_keeps_state() {
        let r = KubernetesJobResource::new();
        let state = Value::object([("id", Value::string("batch/nightly"))]);
        let resp = apply_resource_change(
            &r,
            ApplyRequest {
                prior_state: state.clone(),
                planned_state: Value::Null,
                config: Value::Null,
                planned_private: Vec::new(),
                cancel: CancellationToken::new(),
            },
        )
        .await;
        assert!(resp.diagnostics.has_error());
        assert_eq!(resp.diagnostics.0[0].summary, "Provider Not Configured");
        assert_eq!(resp.new_state, state);

        let read = r
            .read(ReadRequest {
                current_state: state.clone(),
                private: vec![1, 2],
                cancel: CancellationToken::new(),
            })
            .await;
        assert_eq!(read.new_state, state);
        assert_eq!(read.private, vec![1, 2]);
        assert!(read.diagnostics.has_error());
        assert_eq!(r.type_name(), "planton_kubernetes_job");
    }
}
