//! The plan right after an import: adopt's adjustments
//! ([`before_plan`], [`after_plan`]), then the buckets, so that an imported
//! Job plans no replacement the configuration does not ask for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::batch::v1::Job;
use serde_json::json;

use crate::kube::ObjectRef;
use crate::kubernetes_job::adopt::after_import::{after_plan, before_plan};
use crate::kubernetes_job::adopt::kept::Adopted;
use crate::kubernetes_job::adopt::private::ImportPrivate;
use crate::kubernetes_job::lifecycle::buckets::classify;
use crate::kubernetes_job::model::state;
use crate::kubernetes_job::testing::{self, with_defaults};
use crate::tf::resource::{PlanRequest, PlanResponse};
use crate::tf::{AttributePath, Value};

fn plan_req(prior: Value, config: Value, private: Vec<u8>) -> (PlanRequest, PlanResponse) {
    let req = PlanRequest {
        prior_state: prior,
        config: config.clone(),
        prior_private: private.clone(),
        capabilities: Default::default(),
    };
    let mut planned = config;
    for computed in ["id", "outputs", "status", "objects", "drift"] {
        state::set(
            &mut planned,
            computed,
            req.prior_state.get(computed).clone(),
        );
    }
    let resp = PlanResponse {
        planned_state: planned,
        planned_private: private,
        ..PlanResponse::default()
    };
    (req, resp)
}

/// Equal quantities keep the prior spelling; after an import, values
/// that render the same objects and the triggers import cannot read are
/// taken without replacing.
#[test]
fn plan_after_import() {
    let base = json!({
        "metadata": {"name": "r"},
        "spec": {"namespace": {"value": "ns"}, "image": {"repo": "busybox", "tag": "1.36"},
                 "volume_mounts": [{"name": "v", "mount_path": "/v", "config_map": {"name": "c"}}]}
    });
    let prior = testing::config(&with_defaults(base.clone())).unwrap();
    let mut config = base.clone();
    config["spec"]["image"] = json!({"repo": "busybox:1.36"});
    config["spec"]["volume_mounts"][0]["read_only"] = json!(false);
    config["spec"]["volume_mounts"][0]["config_map"]["default_mode"] = json!(420);
    config["spec"]["resources"] = json!({"limits": {"cpu": "1", "memory": "1024Mi"}, "requests": {"cpu": "0.05", "memory": "100Mi"}});
    config["rerun_triggers"] = json!({"v": "1"});
    let config = testing::config(&with_defaults(config)).unwrap();
    let imported = ImportPrivate {
        imported: true,
        adopted: None,
        moved: false,
    }
    .merge_into(Vec::new());

    // Not imported: quantities keep their spelling, the rest is a change.
    let (req, mut resp) = plan_req(prior.clone(), config.clone(), Vec::new());
    resp.requires_replace
        .push(AttributePath::root("rerun_triggers"));
    assert!(before_plan(&req, &mut resp).is_none());
    assert_eq!(
        resp.planned_state
            .get("spec")
            .get("resources")
            .get("limits")
            .get("cpu"),
        &Value::string("1000m")
    );
    assert_eq!(resp.requires_replace.len(), 1);

    // Imported: classified against a prior that agrees.
    let (req, mut resp) = plan_req(prior.clone(), config.clone(), imported);
    resp.requires_replace
        .push(AttributePath::root("rerun_triggers"));
    let adjusted = before_plan(&req, &mut resp).expect("adjusted prior");
    assert!(
        resp.requires_replace.is_empty(),
        "{:?}",
        resp.requires_replace
    );
    let changes = classify(&adjusted, &resp.planned_state);
    assert_eq!(changes, Default::default());

    // Imported, but a real change (another image) still replaces.
    let mut other = config.clone();
    state::set(
        state::get_mut(&mut other, &["spec", "image"]).unwrap(),
        "repo",
        Value::string("busybox:1.37"),
    );
    let (req, mut resp) = plan_req(
        prior,
        other,
        ImportPrivate {
            imported: true,
            adopted: None,
            moved: false,
        }
        .merge_into(Vec::new()),
    );
    let adjusted = before_plan(&req, &mut resp).expect("triggers adjusted");
    let changes = classify(&adjusted, &resp.planned_state);
    assert_eq!(changes.replace, [AttributePath::root("spec").attr("image")]);
}

/// For an adopted Job: a change of the labels on its kept template
/// replaces it, and the ServiceAccount it does not use is not planned.
#[test]
fn plan_of_an_adopted_job() {
    let config = json!({
        "metadata": {"name": "legacy"},
        "spec": {"namespace": {"value": "team"}, "image": {"repo": "busybox", "tag": "1.36"}}
    });
    let mut prior = testing::config(&with_defaults(config.clone())).unwrap();
    let job_only = vec![state::Tracked {
        object: ObjectRef::of::<Job>("team", "legacy"),
        uid: "u".into(),
    }];
    state::set(&mut prior, "objects", state::objects_value(&job_only));
    let private = ImportPrivate {
        imported: false,
        adopted: Some(Adopted::default()),
        moved: false,
    }
    .merge_into(Vec::new());

    // Unchanged: the prior objects stand, although Planton would add a
    // ServiceAccount.
    let (req, mut resp) = plan_req(
        prior.clone(),
        testing::config(&with_defaults(config.clone())).unwrap(),
        private.clone(),
    );
    state::set(&mut resp.planned_state, "objects", Value::UNKNOWN);
    after_plan(&req, &mut resp);
    assert!(resp.requires_replace.is_empty());
    assert_eq!(resp.planned_state.get("objects"), prior.get("objects"));

    // A new organization label replaces.
    let mut changed = config;
    changed["metadata"]["org"] = json!("acme");
    let (req, mut resp) = plan_req(
        prior,
        testing::config(&with_defaults(changed)).unwrap(),
        private,
    );
    after_plan(&req, &mut resp);
    assert_eq!(
        resp.requires_replace,
        [AttributePath::root("metadata").attr("org")]
    );
    assert!(resp.planned_state.get("objects").is_unknown());
}
