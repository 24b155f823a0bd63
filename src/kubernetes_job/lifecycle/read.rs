//! Refresh: every tracked object read at once (one GET each; a Job through
//! the cluster's shared list, see [`crate::kube::lists`]), and the state updated
//! so that the next plan shows what changed outside Terraform.
//!
//! - Contents that map onto an attribute are reflected into it, so the plan
//!   diffs them and apply puts them back: ConfigMap data, env Secret values,
//!   `docker_config_json`, and the Job's mutable fields we set
//!   (`parallelism`, `completions`, `backoff_limit`,
//!   `active_deadline_seconds`, `ttl_seconds_after_finished`, `suspend`).
//!   Fields we never set are someone else's and are not compared.
//! - Deleted objects and changed labels are listed in `drift` (and missing
//!   objects in the private state), which the plan clears by an update.
//! - A deleted Job: when its TTL explains it and `after_ttl_deletion` is
//!   "keep", the state stays as it was (finished), and apply leaves the Job
//!   deleted. Otherwise it is drift like any deleted object: the next plan
//!   shows an update that creates it again (so it runs again). The state is
//!   never dropped, so destroy always finds every object to delete.
//!
//! Only tracked objects are read (and, for the shared list, this
//! provider's Jobs in their namespaces), so a namespace this resource did
//! not create is never touched.

use std::collections::BTreeMap;

use futures::future::join_all;
use kube::Client;
use tokio_util::sync::CancellationToken;

use crate::kube::lists::SharedLists;
use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::adopt::kept::Adopted;
use crate::kubernetes_job::cluster::{self, GetError, Live};
use crate::kubernetes_job::model::attr;
use crate::kubernetes_job::model::options::{AfterTtlDeletion, Options};
use crate::kubernetes_job::model::ownership::Instance;
use crate::kubernetes_job::model::state::{self, MissingObject, Private, Tracked};
use crate::kubernetes_job::model::write_only::{self, Record};
use crate::kubernetes_job::render::{self, DOCKER_CONFIG_KEY, Rendered};
use crate::tf::resource::ReadResponse;
use crate::tf::{Diagnostics, Value};

/// Refreshes `current` (a known state), reading each object by name.
pub async fn read(client: &Client, current: Value, cancel: &CancellationToken) -> ReadResponse {
    read_adopted(client, None, current, None, None, None, cancel).await
}

/// [`read`] for the resource instance `instance` (its labels are part of
/// what is compared), and for a Job that import adopted from another tool
/// ([`crate::kubernetes_job::adopt::kept`]): its labels are compared with the ones it kept.
/// With `lists`, objects are found through the cluster's shared lists
/// ([`cluster::get_shared`]).
pub async fn read_adopted(
    client: &Client,
    lists: Option<&SharedLists>,
    current: Value,
    instance: Option<&Instance>,
    record: Option<&Record>,
    adopted: Option<&Adopted>,
    cancel: &CancellationToken,
) -> ReadResponse {
    let tracked = state::objects_from_value(current.get(attr::OBJECTS));
    if tracked.is_empty() {
        return ReadResponse {
            new_state: current,
            ..ReadResponse::default()
        };
    }
    let fetch = join_all(tracked.iter().map(|t| async move {
        match lists {
            Some(lists) => cluster::get_shared(client, lists, &t.object).await,
            None => cluster::get(client, &t.object).await,
        }
    }));
    let results = tokio::select! {
        biased;
        () = cancel.cancelled() => {
            let mut d = Diagnostics::new();
            d.error("Refresh Interrupted", "Terraform asked the provider to stop while it read the Job's objects; the state was not refreshed.");
            return ReadResponse { new_state: current, diagnostics: d, ..ReadResponse::default() };
        }
        results = fetch => results,
    };
    let mut d = Diagnostics::new();
    let mut live = Vec::new();
    for (t, result) in tracked.iter().zip(results) {
        match result {
            Ok(found) => live.push(found),
            Err(GetError::Api(e)) => d.extend(errors::diagnostics(
                "reading",
                &t.object,
                &e,
                &errors::no_fields,
            )),
            Err(GetError::Kind(e)) => d.error("Unexpected Object Kind In State", e.to_string()),
        }
    }
    if d.has_error() {
        return ReadResponse {
            new_state: current,
            diagnostics: d,
            ..ReadResponse::default()
        };
    }
    let (new_state, private, refreshed) =
        refresh_adopted(current, &tracked, &live, instance, record, adopted);
    d.extend(refreshed);
    ReadResponse {
        new_state,
        private: private.to_bytes(),
        diagnostics: d,
        ..ReadResponse::default()
    }
}

/// Compares the state with the live objects (`live[i]` is `tracked[i]`,
/// `None` when it does not exist) and returns the refreshed state and
/// private state, with an error should the state not render (a bug).
/// Pure, so drift rules are unit-tested.
pub fn refresh(
    current: Value,
    tracked: &[Tracked],
    live: &[Option<Live>],
) -> (Value, Private, Diagnostics) {
    refresh_adopted(current, tracked, live, None, None, None)
}

/// [`refresh`] for an adopted Job ([`read_adopted`]).
pub fn refresh_adopted(
    current: Value,
    tracked: &[Tracked],
    live: &[Option<Live>],
    instance: Option<&Instance>,
    record: Option<&Record>,
    adopted: Option<&Adopted>,
) -> (Value, Private, Diagnostics) {
    let mut state = current;
    let mut d = Diagnostics::new();
    let options = Options::from_value(&state);
    // Without a rendering, the labels are not compared (the error says why).
    let rendered = match render::from_value(&state) {
        Ok(prepared) => Some(prepared.rendered),
        Err(e) => {
            e.report("the stored state", "Stored State", &mut d);
            None
        }
    };
    let rendered = rendered.map(|mut r| {
        if let Some(a) = adopted {
            a.restore(&mut r, None);
        }
        if let Some(record) = record {
            // The recorded names, for the labels of the Secrets they live in.
            r.add_write_only(&record.placeholders());
        }
        if let Some(instance) = instance {
            r.stamp(instance);
        }
        r
    });
    let job_name = state
        .get("metadata")
        .get("name")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut private = Private::default();
    let mut drift: Vec<String> = Vec::new();
    let mut new_tracked = Vec::new();

    for (t, found) in tracked.iter().zip(live) {
        let r = &t.object;
        // Ours is the object with the recorded UID (labels decide only for
        // an entry recorded without one). Another object of the same name
        // was made by someone else: the one we made is gone.
        let ours = |l: &&Live| match t.uid.is_empty() {
            true => render::is_owned_by(l.metadata().labels.as_ref(), &job_name),
            false => l.uid() == t.uid,
        };
        let replaced = found.as_ref().is_some_and(|l| !ours(&l));
        let found = found.as_ref().filter(ours);
        let Some(found) = found else {
            if replaced {
                drift.push(format!(
                    "{r} was deleted and another object of the same name was created outside Terraform; it is \
                     not this resource's"
                ));
                private.missing.push(MissingObject::of(r));
                new_tracked.push(t.clone());
                continue;
            }
            // 0 means no TTL, as in Planton.
            let ttl_set = state
                .get("spec")
                .get("ttl_seconds_after_finished")
                .as_number()
                .is_some_and(|n| !n.is_zero());
            match (r.kind.as_str(), ttl_set, options.after_ttl_deletion) {
                ("Job", true, AfterTtlDeletion::Keep) => {
                    private.job_reaped = true;
                    new_tracked.push(t.clone());
                    continue;
                }
                ("Job", true, AfterTtlDeletion::Recreate) => drift.push(format!(
                    "{r} was deleted by its TTL after it finished; after_ttl_deletion = \"recreate\" creates it \
                     again"
                )),
                _ => drift.push(format!("{r} was deleted")),
            }
            private.missing.push(MissingObject::of(r));
            new_tracked.push(t.clone());
            continue;
        };
        new_tracked.push(Tracked {
            object: r.clone(),
            uid: found.uid(),
        });
        if let Some(rendered) = &rendered {
            label_drift(r, found, rendered, &mut drift);
        }
        match found {
            Live::Job(job) => {
                state::set(&mut state, attr::STATUS, state::status_value(job));
                reflect_job(&mut state, job);
            }
            Live::ConfigMap(cm) => {
                let data = cm.data.clone().unwrap_or_default();
                reflect_config_map(&mut state, r, &data, &mut drift);
            }
            Live::Secret(secret) => {
                let data: BTreeMap<String, String> = secret
                    .data
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                    .collect();
                reflect_secret(&mut state, r, &job_name, &data, record, &mut drift);
            }
            Live::Namespace(_) | Live::ServiceAccount(_) => {}
        }
    }
    state::set(
        &mut state,
        attr::OBJECTS,
        state::objects_value(&new_tracked),
    );
    state::set(
        &mut state,
        attr::DRIFT,
        Value::List(drift.into_iter().map(Value::String).collect()),
    );
    (state, private, d)
}

/// Our labels that are missing or changed on a live object.
fn label_drift(r: &ObjectRef, found: &Live, rendered: &Rendered, drift: &mut Vec<String>) {
    let want = match rendered
        .objects()
        .into_iter()
        .find(|o| &o.object_ref() == r)
    {
        Some(o) => o.to_json()["metadata"]["labels"].clone(),
        None => return,
    };
    let have = found.metadata().labels.clone().unwrap_or_default();
    let Some(want) = want.as_object() else {
        return;
    };
    for (key, value) in want {
        let value = value.as_str().unwrap_or_default();
        match have.get(key) {
            None => drift.push(format!("{r}: label {key} was removed")),
            Some(v) if v != value => {
                drift.push(format!("{r}: label {key} is {v:?} instead of {value:?}"))
            }
            Some(_) => {}
        }
    }
}

/// The Job's mutable fields we set, as they are live.
fn reflect_job(state: &mut Value, job: &k8s_openapi::api::batch::v1::Job) {
    let Some(spec) = job.spec.as_ref() else {
        return;
    };
    let int = |v: Option<i32>| v.map(|n| Value::int(i64::from(n)));
    let fields: [(&str, Option<Value>); 6] = [
        ("parallelism", int(spec.parallelism)),
        ("completions", int(spec.completions)),
        ("backoff_limit", int(spec.backoff_limit)),
        (
            "active_deadline_seconds",
            spec.active_deadline_seconds.map(Value::int),
        ),
        (
            "ttl_seconds_after_finished",
            int(spec.ttl_seconds_after_finished),
        ),
        ("suspend", spec.suspend.map(Value::Bool)),
    ];
    let Some(state_spec) = state::get_mut(state, &["spec"]) else {
        return;
    };
    for (name, live) in fields {
        let Some(slot) = state::get_mut(state_spec, &[name]) else {
            continue;
        };
        // A field we do not set belongs to whoever set it, and so does one
        // whose 0 leaves it unset (Planton's rule, see render).
        if slot.is_null()
            || (render::ZERO_MEANS_UNSET.contains(&name)
                && slot.as_number().is_some_and(|n| n.is_zero()))
        {
            continue;
        }
        let Some(live) = live else { continue };
        let same = match (slot.as_number(), live.as_number()) {
            (Some(a), Some(b)) => a == b,
            _ => *slot == live,
        };
        if !same {
            *slot = live;
        }
    }
}

fn reflect_config_map(
    state: &mut Value,
    r: &ObjectRef,
    data: &BTreeMap<String, String>,
    drift: &mut Vec<String>,
) {
    let Some(slot) = state::get_mut(state, &["spec", "config_maps", r.name.as_str()]) else {
        return;
    };
    match data.get(&r.name) {
        Some(live) => {
            if slot.as_str() != Some(live.as_str()) {
                *slot = Value::string(live.clone());
            }
        }
        None => drift.push(format!("{r}: data key {} was removed", r.name)),
    }
}

fn reflect_secret(
    state: &mut Value,
    r: &ObjectRef,
    job_name: &str,
    data: &BTreeMap<String, String>,
    record: Option<&Record>,
    drift: &mut Vec<String>,
) {
    if r.name == render::pull_secret_name(job_name) {
        if let Some(hash) = record.and_then(|w| w.docker_config_json.as_ref()) {
            // Write-only: compared by its keyed hash, never put in state.
            match data.get(DOCKER_CONFIG_KEY) {
                Some(live) if record.is_some_and(|w| !w.matches(hash, live)) => {
                    drift.push(format!(
                        "{r}: the value of `{}` was changed outside Terraform",
                        write_only::DOCKER_CONFIG
                    ))
                }
                Some(_) => {}
                None => drift.push(format!("{r}: data key {DOCKER_CONFIG_KEY} was removed")),
            }
            return;
        }
        // Only a value the configuration set is reflected (never into a
        // null attribute: that would put a secret in state).
        if let Some(slot) = state::get_mut(state, &[attr::DOCKER_CONFIG_JSON])
            && slot.as_str().is_some()
        {
            match data.get(DOCKER_CONFIG_KEY) {
                Some(live) if slot.as_str() != Some(live.as_str()) => {
                    *slot = Value::string(live.clone())
                }
                Some(_) => {}
                None => drift.push(format!("{r}: data key {DOCKER_CONFIG_KEY} was removed")),
            }
        }
        return;
    }
    if r.name != render::env_secret_name(job_name) {
        return;
    }
    if let Some(record) = record {
        for (key, hash) in &record.env {
            match data.get(key) {
                Some(live) if !record.matches(hash, live) => drift.push(format!(
                    "{r}: the value of {key} (`{}`) was changed outside Terraform",
                    write_only::ENV_SECRETS
                )),
                Some(_) => {}
                None => drift.push(format!("{r}: data key {key} was removed")),
            }
        }
    }
    let Some(Value::Map(secrets)) = state::get_mut(state, &["spec", "env", "secrets"]) else {
        return;
    };
    for (key, entry) in secrets.iter_mut() {
        let Some(slot) = state::get_mut(entry, &["value"]) else {
            continue;
        };
        if slot.is_null() {
            continue;
        }
        // Never put a value in a message: only its key.
        match data.get(key) {
            Some(live) if slot.as_str() != Some(live.as_str()) => {
                *slot = Value::string(live.clone())
            }
            Some(_) => {}
            None => drift.push(format!("{r}: data key {key} was removed")),
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
