//! TTL after finished: a Job with `ttlSecondsAfterFinished` is deleted that many
//! seconds after its Complete or Failed condition, with foreground propagation and
//! a uid precondition, as the ttl-after-finished controller does.

use serde_json::Value;

use crate::controllers::{check_write, condition_true};
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions};
use crate::resources::{self, JOBS};
use crate::store::Store;

fn finish_time(job: &Value) -> Option<f64> {
    meta::get(job, &["status", "conditions"])
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .filter(|c| {
                    matches!(
                        c.get("type").and_then(Value::as_str),
                        Some("Complete" | "Failed")
                    ) && c.get("status").and_then(Value::as_str) == Some("True")
                })
                .filter_map(|c| {
                    c.get("lastTransitionTime")
                        .and_then(Value::as_str)
                        .and_then(meta::parse_time)
                })
                .next()
        })
}

/// One pass; returns when it next needs to run.
pub fn reconcile(store: &mut Store, now: f64) -> f64 {
    let mut next = f64::MAX;
    let ctx = Ctx::controller("ttl-after-finished-controller");
    for job in store.list(JOBS, None) {
        let Some(ttl) = meta::get_i64(&job, &["spec", "ttlSecondsAfterFinished"]) else {
            continue;
        };
        if meta::is_deleting(&job)
            || !(condition_true(&job, "Complete") || condition_true(&job, "Failed"))
        {
            continue;
        }
        let Some(finished) = finish_time(&job) else {
            continue;
        };
        let expiry = finished + ttl as f64;
        if now >= expiry {
            let opts = DeleteOptions {
                propagation: Some("Foreground".into()),
                precondition_uid: Some(meta::uid(&job).to_string()),
                ..DeleteOptions::default()
            };
            let deleted = ops::delete(
                store,
                resources::by_index(JOBS),
                meta::namespace(&job),
                meta::name(&job),
                &opts,
                &ctx,
            );
            let what = || format!("delete Job {}/{}", meta::namespace(&job), meta::name(&job));
            check_write(store, &ctx, what, deleted);
        } else {
            next = next.min(expiry);
        }
    }
    next
}
