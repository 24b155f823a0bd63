//! Destroy: the Job first, with the chosen propagation (pods are never
//! orphaned), waiting until it is gone; then the ServiceAccount, Secrets and
//! ConfigMaps; then the Namespace, only when this resource created it or
//! shares it ([`crate::kubernetes_job::model::ownership`]): its claim is withdrawn, and the
//! Namespace is deleted only when no other job claims it and nothing else
//! lives in it (otherwise it stays, with a warning that says why), waiting
//! until it is gone so that a replacement can create it again.
//!
//! Objects already gone are fine. An object whose UID is no longer the one
//! we recorded was replaced by someone else and is left alone, with a
//! warning. When something cannot be deleted, the state keeps exactly the
//! objects that remain.

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::PropagationPolicy;
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::kube::watch::{Seen, WatchError, watch_object};
use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::cluster::{self, Deleted, GetError};
use crate::kubernetes_job::model::attr;
use crate::kubernetes_job::model::options::{DeletePropagation, Options};
use crate::kubernetes_job::model::ownership::{self, Instance};
use crate::kubernetes_job::model::state::{self, Tracked};
use crate::tf::resource::ApplyResponse;
use crate::tf::{Diagnostics, Value};

/// Deletes everything `prior` tracks.
pub async fn delete(
    client: &Client,
    prior: &Value,
    instance: Option<&Instance>,
    cancel: &CancellationToken,
) -> ApplyResponse {
    let options = Options::from_value(prior);
    let deadline = crate::kube::budget::later(Instant::now(), options.delete_timeout());
    let tracked = state::objects_from_value(prior.get(attr::OBJECTS));
    let propagation = match options.delete_propagation {
        DeletePropagation::Background => PropagationPolicy::Background,
        DeletePropagation::Foreground => PropagationPolicy::Foreground,
    };
    let mut d = Diagnostics::new();
    let mut remaining: Vec<Tracked> = Vec::new();

    let (jobs, rest): (Vec<&Tracked>, Vec<&Tracked>) =
        tracked.iter().partition(|t| t.object.kind == "Job");
    let (namespaces, middle): (Vec<&Tracked>, Vec<&Tracked>) =
        rest.into_iter().partition(|t| t.object.kind == "Namespace");

    let job_name = prior
        .get("metadata")
        .get("name")
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (group, wait) in [(jobs, true), (middle, false), (namespaces, true)] {
        if d.has_error() {
            remaining.extend(group.into_iter().cloned());
            continue;
        }
        let group: Vec<&Tracked> = match group.first() {
            Some(t) if t.object.kind == "Namespace" => {
                let mut to_delete = Vec::new();
                for t in group {
                    match may_delete_namespace(client, t, instance, &job_name, &mut d).await {
                        Ok(true) => to_delete.push(t),
                        Ok(false) => {}
                        Err(()) => remaining.push(t.clone()),
                    }
                }
                to_delete
            }
            _ => group,
        };
        let results = join_all(
            group
                .iter()
                .map(|t| cluster::delete(client, &t.object, &t.uid, propagation.clone())),
        )
        .await;
        for (t, result) in group.iter().zip(results) {
            match result {
                Ok(Deleted::Deleted) if wait => {
                    if let Err(e) = wait_gone(client, t, deadline, cancel).await {
                        remaining.push((*t).clone());
                        gone_error(&t.object, e, &mut d);
                    }
                }
                Ok(Deleted::Deleted | Deleted::AlreadyGone) => {}
                Ok(Deleted::NotOurs) => d.warning(
                    "Kubernetes Object Left Alone",
                    format!(
                        "{} now has a different UID than the object this resource created, so someone replaced \
                         it; destroy left it alone.",
                        t.object
                    ),
                ),
                Err(GetError::Api(e)) => {
                    remaining.push((*t).clone());
                    d.extend(errors::diagnostics("deleting", &t.object, &e, &errors::no_fields));
                }
                Err(GetError::Kind(e)) => {
                    remaining.push((*t).clone());
                    d.error("Unexpected Object Kind In State", e.to_string());
                }
            }
        }
    }

    let new_state = if d.has_error() {
        let mut keep = prior.clone();
        state::set(&mut keep, attr::OBJECTS, state::objects_value(&remaining));
        keep
    } else {
        Value::Null
    };
    ApplyResponse {
        new_state,
        private: Vec::new(),
        diagnostics: d,
    }
}

/// Withdraws this instance's claim on the Namespace `t` and says whether it
/// may be deleted: no other job claims it and nothing else lives in it.
/// `Err` (with diagnostics) when that cannot be found out.
async fn may_delete_namespace(
    client: &Client,
    t: &Tracked,
    instance: Option<&Instance>,
    job_name: &str,
    d: &mut Diagnostics,
) -> Result<bool, ()> {
    let name = t.object.name.as_str();
    // This job's claims: its instance's, or, when the destroy does not know
    // the instance (Terraform sends no private state when it destroys the
    // old half of a replacement, nor do states from before claims), the
    // claims that name this job: two resources with one job name never
    // share a namespace's objects (ownership.rs), so they are this job's.
    let live = match cluster::get(client, &t.object).await {
        Ok(Some(cluster::Live::Namespace(ns))) => ns,
        Ok(_) => return Ok(false),
        Err(GetError::Api(e)) => {
            d.extend(errors::diagnostics(
                "reading",
                &t.object,
                &e,
                &errors::no_fields,
            ));
            return Err(());
        }
        Err(GetError::Kind(_)) => return Ok(false),
    };
    if !t.uid.is_empty() && live.metadata.uid.as_deref() != Some(t.uid.as_str()) {
        // Another namespace now: nothing of ours to delete.
        return Ok(false);
    }
    let mine: Vec<String> = match instance {
        Some(i) => vec![i.as_str().to_string()],
        None => ownership::claims(live.metadata.labels.as_ref())
            .into_iter()
            .filter(|(_, job)| job == job_name)
            .map(|(i, _)| i)
            .collect(),
    };
    let mut live = live;
    for id in &mine {
        let Some(claimant) = Instance::parse(id) else {
            continue;
        };
        match cluster::release_namespace(client, name, &t.uid, &claimant.namespace_manager()).await
        {
            Ok(Some(ns)) => live = ns,
            Ok(None) => return Ok(false),
            Err(e) => {
                d.extend(errors::diagnostics(
                    "releasing",
                    &t.object,
                    &e,
                    &errors::no_fields,
                ));
                return Err(());
            }
        }
    }
    let others: Vec<String> = ownership::claims(live.metadata.labels.as_ref())
        .into_iter()
        .filter(|(i, _)| !mine.contains(i))
        .map(|(_, job)| job)
        .collect();
    if !others.is_empty() {
        tracing::info!(namespace = %name, others = ?others, "Namespace kept: other jobs still declare it");
        return Ok(false);
    }
    match cluster::foreign_contents(client, name, job_name).await {
        Ok(foreign) if foreign.is_empty() => Ok(true),
        Ok(foreign) => {
            const SHOWN: usize = 10;
            let more = foreign.len().saturating_sub(SHOWN);
            let mut list = foreign
                .into_iter()
                .take(SHOWN)
                .collect::<Vec<_>>()
                .join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            d.warning(
                "Namespace Kept",
                format!(
                    "This resource created the namespace {name}, but it now holds objects that are not this \
                     job's ({list}), and deleting a namespace deletes everything in it. The namespace was kept; \
                     delete it yourself (`kubectl delete namespace {name}`) once those objects may go."
                ),
            );
            Ok(false)
        }
        Err(e) => {
            d.extend(errors::diagnostics(
                "listing the contents of",
                &t.object,
                &e,
                &errors::no_fields,
            ));
            Err(())
        }
    }
}

/// Waits until the object `t` no longer exists (another object of the same
/// name with another UID counts as gone).
async fn wait_gone(
    client: &Client,
    t: &Tracked,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), WatchError> {
    match t.object.kind.as_str() {
        "Job" => {
            let api: Api<Job> = Api::namespaced(client.clone(), &t.object.namespace);
            wait_gone_in(&api, t, deadline, cancel).await
        }
        "Namespace" => {
            let api: Api<Namespace> = Api::all(client.clone());
            wait_gone_in(&api, t, deadline, cancel).await
        }
        _ => Ok(()),
    }
}

async fn wait_gone_in<K>(
    api: &Api<K>,
    t: &Tracked,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), WatchError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watch_object(
        api,
        &t.object.name,
        None,
        deadline,
        cancel,
        |seen| match seen {
            Seen::Exists(o) if !t.uid.is_empty() && o.uid().as_deref() != Some(t.uid.as_str()) => {
                Some(())
            }
            Seen::Exists(_) => None,
            Seen::Deleted(_) => Some(()),
        },
    )
    .await
}

fn gone_error(r: &ObjectRef, e: WatchError, d: &mut Diagnostics) {
    match e {
        WatchError::TimedOut => d.error(
            "Timed Out Deleting Kubernetes Object",
            format!(
                "{r} was deleted but is still terminating after the delete timeout (finalizers or, for a \
                 namespace, the objects in it may be holding it). Check it with kubectl, raise \
                 `timeouts.delete`, and run `terraform destroy` again."
            ),
        ),
        WatchError::Cancelled => d.error(
            "Destroy Interrupted",
            format!("Terraform asked the provider to stop while {r} was being deleted. Run `terraform destroy` again."),
        ),
        WatchError::InitialListFailed(k) | WatchError::WatchStartFailed(k) | WatchError::WatchFailed(k) => {
            d.extend(errors::diagnostics("waiting for the deletion of", r, &k, &errors::no_fields))
        }
    }
}
