//! Defaulting, as kube-apiserver applies it when it decodes a request body
//! (`SetDefaults_*` of core/v1 and batch/v1), plus the create-time preparation of
//! each kind's strategy (`PrepareForCreate`: Job selector and labels, cleared status).

use serde_json::{Map, Value, json};

use crate::meta;

fn set_if_absent(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), v);
    }
}

/// Apply the decode-time defaults of `kind`.
pub fn apply_defaults(kind: &str, obj: &mut Value) {
    match kind {
        "Namespace" => {
            let spec = meta::obj_mut(obj, &["spec"]);
            set_if_absent(spec, "finalizers", json!(["kubernetes"]));
            let status = meta::obj_mut(obj, &["status"]);
            set_if_absent(status, "phase", json!("Active"));
        }
        "Secret" => {
            if let Some(m) = obj.as_object_mut() {
                set_if_absent(m, "type", json!("Opaque"));
            }
        }
        "Job" => default_job(obj),
        "Pod" => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec);
                default_pod_only(spec);
            }
        }
        "Event" => {
            if let Some(m) = obj.as_object_mut() {
                set_if_absent(m, "type", json!("Normal"));
            }
        }
        _ => {}
    }
}

fn default_job(obj: &mut Value) {
    let template_labels = meta::get(obj, &["spec", "template", "metadata", "labels"]).cloned();
    let job_labels_empty = meta::get(obj, &["metadata", "labels"])
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    if let Some(Value::Object(l)) = template_labels
        && job_labels_empty
    {
        meta::set(obj, &["metadata", "labels"], Value::Object(l));
    }
    let spec = meta::obj_mut(obj, &["spec"]);
    if spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null)
    {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    set_if_absent(spec, "parallelism", json!(1));
    if spec
        .get("backoffLimitPerIndex")
        .is_some_and(|v| !v.is_null())
    {
        set_if_absent(spec, "backoffLimit", json!(2_147_483_647));
    } else {
        set_if_absent(spec, "backoffLimit", json!(6));
    }
    set_if_absent(spec, "completionMode", json!("NonIndexed"));
    // kube-apiserver 1.36 stores a created Job with `manualSelector: false`.
    set_if_absent(spec, "manualSelector", json!(false));
    set_if_absent(spec, "suspend", json!(false));
    let has_failure_policy = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
    if let Some(rules) = spec
        .get_mut("podFailurePolicy")
        .and_then(|p| p.get_mut("rules"))
        .and_then(Value::as_array_mut)
    {
        for rule in rules {
            if let Some(conds) = rule
                .get_mut("onPodConditions")
                .and_then(Value::as_array_mut)
            {
                for c in conds {
                    if let Some(c) = c.as_object_mut() {
                        set_if_absent(c, "status", json!("True"));
                    }
                }
            }
        }
    }
    set_if_absent(
        spec,
        "podReplacementPolicy",
        json!(if has_failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }),
    );
    let template = spec.entry("template").or_insert_with(|| json!({}));
    if let Some(t) = template.as_object_mut() {
        let pod_spec = t.entry("spec").or_insert_with(|| json!({}));
        default_pod_spec(pod_spec);
    }
}

fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    set_if_absent(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_if_absent(m, "terminationMessagePolicy", json!("File"));
    if !image.is_empty() || m.get("imagePullPolicy").is_some() {
        set_if_absent(m, "imagePullPolicy", json!(image_pull_policy(&image)));
    } else {
        set_if_absent(m, "imagePullPolicy", json!("Always"));
    }
    set_if_absent(m, "resources", json!({}));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if let Some(p) = p.as_object_mut() {
                set_if_absent(p, "protocol", json!("TCP"));
            }
        }
    }
    if let Some(env) = m.get_mut("env").and_then(Value::as_array_mut) {
        for e in env {
            if let Some(fr) = e
                .get_mut("valueFrom")
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                set_if_absent(fr, "apiVersion", json!("v1"));
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe).and_then(Value::as_object_mut) {
            set_if_absent(p, "timeoutSeconds", json!(1));
            set_if_absent(p, "periodSeconds", json!(10));
            set_if_absent(p, "successThreshold", json!(1));
            set_if_absent(p, "failureThreshold", json!(3));
        }
    }
}

/// PodSpec defaults shared by pods and pod templates.
pub fn default_pod_spec(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    set_if_absent(m, "dnsPolicy", json!("ClusterFirst"));
    set_if_absent(m, "restartPolicy", json!("Always"));
    set_if_absent(m, "terminationGracePeriodSeconds", json!(30));
    set_if_absent(m, "securityContext", json!({}));
    set_if_absent(m, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(default_container);
        }
    }
    if let Some(vols) = m.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols {
            let Some(v) = v.as_object_mut() else { continue };
            for source in ["secret", "configMap", "downwardAPI", "projected"] {
                if let Some(s) = v.get_mut(source).and_then(Value::as_object_mut) {
                    set_if_absent(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

/// Defaults that apply to Pods but not to pod templates (SetDefaults_Pod and the
/// admission plugins every cluster runs: ServiceAccount, Priority, DefaultTolerationSeconds).
pub fn default_pod_only(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    set_if_absent(m, "enableServiceLinks", json!(true));
    set_if_absent(m, "priority", json!(0));
    set_if_absent(m, "preemptionPolicy", json!("PreemptLowerPriority"));
    let sa = m
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            m.get("serviceAccount")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("default")
        .to_string();
    m.insert("serviceAccountName".into(), json!(sa));
    m.insert("serviceAccount".into(), json!(sa));
    let tolerations = m.entry("tolerations").or_insert_with(|| json!([]));
    if let Some(t) = tolerations.as_array_mut() {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            if !t
                .iter()
                .any(|x| x.get("key").and_then(Value::as_str) == Some(key))
            {
                t.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
    // Requests default to limits on Pods (not on templates).
    if let Some(cs) = m.get_mut("containers").and_then(Value::as_array_mut) {
        for c in cs {
            let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else {
                continue;
            };
            let requests = res.entry("requests").or_insert_with(|| json!({}));
            if let Some(r) = requests.as_object_mut() {
                for (k, v) in limits {
                    r.entry(k).or_insert(v);
                }
            }
        }
    }
}

/// The Job strategy's PrepareForCreate: generated selector and pod-template labels.
pub fn prepare_job_create(obj: &mut Value) {
    let uid = meta::uid(obj).to_string();
    let name = meta::name(obj).to_string();
    let manual = meta::get_bool(obj, &["spec", "manualSelector"]).unwrap_or(false);
    if manual {
        return;
    }
    let labels = meta::obj_mut(obj, &["spec", "template", "metadata", "labels"]);
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        labels.entry(k.to_string()).or_insert_with(|| json!(v));
    }
    let spec = meta::obj_mut(obj, &["spec"]);
    if spec.get("selector").is_none_or(Value::is_null) {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
}

/// The pod QoS class from its containers' resources.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let limits = meta::get(c, &["resources", "limits"]).and_then(Value::as_object);
        let requests = meta::get(c, &["resources", "requests"]).and_then(Value::as_object);
        if limits.is_some_and(|l| !l.is_empty()) || requests.is_some_and(|r| !r.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = limits.and_then(|l| l.get(res));
            let r = requests.and_then(|r| r.get(res)).or(l);
            if l.is_none() || l != r {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_defaults_match_batch_v1() {
        let mut job = json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
        apply_defaults("Job", &mut job);
        prepare_job_create(&mut job);
        assert_eq!(job["spec"]["backoffLimit"], 6);
        assert_eq!(job["spec"]["completions"], 1);
        assert_eq!(job["spec"]["completionMode"], "NonIndexed");
        assert_eq!(job["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(job["metadata"]["labels"]["a"], "b");
        assert_eq!(
            job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u"
        );
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(image_pull_policy("busybox:1.36"), "IfNotPresent");
        assert_eq!(image_pull_policy("localhost:5000/busybox"), "Always");
    }
}
