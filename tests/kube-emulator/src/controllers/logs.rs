//! Container logs written by the kubelet stand-in, served at `pods/{name}/log`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::meta;
use crate::resources::{self, PODS};
use crate::server::{ApiRequest, Reply, State};
use crate::status::ApiError;

/// Log lines per (pod uid, container, run number).
#[derive(Default)]
pub struct Logs {
    lines: HashMap<(String, String, i64), Vec<(f64, String)>>,
}

impl Logs {
    /// Append lines for a container run.
    pub fn write(&mut self, pod_uid: &str, container: &str, run: i64, lines: &[String]) {
        let now = meta::now_secs();
        let entry = self
            .lines
            .entry((pod_uid.to_string(), container.to_string(), run))
            .or_default();
        entry.extend(lines.iter().map(|l| (now, l.clone())));
    }

    /// The lines of a container run.
    pub fn read(&self, pod_uid: &str, container: &str, run: i64) -> Vec<(f64, String)> {
        self.lines
            .get(&(pod_uid.to_string(), container.to_string(), run))
            .cloned()
            .unwrap_or_default()
    }

    /// Forget a pod's logs.
    pub fn forget(&mut self, pod_uid: &str) {
        self.lines.retain(|(uid, _, _), _| uid != pod_uid);
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

fn format_lines(lines: &[(f64, String)], timestamps: bool) -> String {
    let mut out = String::new();
    for (t, l) in lines {
        if timestamps {
            let ts = meta::format_micro_time(*t).replace('Z', "000Z");
            out.push_str(&ts);
            out.push(' ');
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn waiting_message(reason: &str) -> String {
    match reason {
        "ErrImagePull" | "ImagePullBackOff" => "trying and failing to pull image".into(),
        other => other.to_string(),
    }
}

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`
pub async fn serve_log(
    state: &Arc<State>,
    ns: &str,
    name: &str,
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    let rt = resources::by_index(PODS);
    let pod = state
        .store()
        .get(PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    let containers: Vec<String> = meta::get(&pod, &["spec", "containers"])
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let container = match req.param("container").filter(|c| !c.is_empty()) {
        Some(c) => {
            if !containers.iter().any(|x| x == c) {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            c.to_string()
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let status = meta::get(&pod, &["status", "containerStatuses"])
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
                .cloned()
        });
    let restart_count = status
        .as_ref()
        .and_then(|s| s.get("restartCount"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let started = status.as_ref().is_some_and(|s| {
        meta::get(s, &["state", "running"]).is_some()
            || meta::get(s, &["state", "terminated"]).is_some()
            || meta::get(s, &["lastState", "terminated"]).is_some()
    });
    if !started {
        let reason = status
            .as_ref()
            .and_then(|s| meta::get_str(s, &["state", "waiting", "reason"]))
            .unwrap_or("ContainerCreating")
            .to_string();
        return Err(ApiError::bad_request(format!(
            "container {} in pod {} is waiting to start: {}",
            crate::status::go_quote(&container),
            crate::status::go_quote(name),
            waiting_message(&reason)
        )));
    }
    let previous = matches!(req.param("previous"), Some("true" | "1"));
    let run = if previous {
        if restart_count == 0 {
            return Err(ApiError::bad_request(format!(
                "previous terminated container {} in pod {} not found",
                crate::status::go_quote(&container),
                crate::status::go_quote(name)
            )));
        }
        restart_count - 1
    } else {
        restart_count
    };
    let uid = meta::uid(&pod).to_string();
    let timestamps = matches!(req.param("timestamps"), Some("true" | "1"));
    let tail: Option<usize> = req
        .param("tailLines")
        .and_then(|t| t.parse::<i64>().ok())
        .map(|t| t.max(0) as usize);
    let mut lines = state.logs().read(&uid, &container, run);
    if let Some(t) = tail {
        let skip = lines.len().saturating_sub(t);
        lines.drain(..skip);
    }
    let mut text = format_lines(&lines, timestamps);
    if let Some(limit) = req
        .param("limitBytes")
        .and_then(|l| l.parse::<usize>().ok())
    {
        let mut cut = limit.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let follow = matches!(req.param("follow"), Some("true" | "1"));
    if !follow || previous {
        return Ok(Reply::Text {
            code: 200,
            body: text,
        });
    }
    // Follow: stream what exists, then new lines until the container stops.
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let state = state.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let mut sent = state.logs().read(&uid, &container, run).len();
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let all = state.logs().read(&uid, &container, run);
            if all.len() > sent {
                if tx
                    .send(Bytes::from(format_lines(&all[sent..], timestamps)))
                    .await
                    .is_err()
                {
                    return;
                }
                sent = all.len();
            }
            let pod = state.store().get(PODS, &ns, &name);
            let running = pod.is_some_and(|p| {
                meta::get(&p, &["status", "containerStatuses"])
                    .and_then(Value::as_array)
                    .is_some_and(|a| {
                        a.iter().any(|s| {
                            s.get("name").and_then(Value::as_str) == Some(container.as_str())
                                && meta::get(s, &["state", "running"]).is_some()
                                && s.get("restartCount").and_then(Value::as_i64) == Some(run)
                        })
                    })
            });
            if !running || *state.stopping.borrow() {
                return;
            }
        }
    });
    Ok(Reply::Stream(rx))
}
