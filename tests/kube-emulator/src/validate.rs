//! Validation with kube-apiserver's field paths and messages (apimachinery
//! `validation` helpers, core/v1 pod validation, batch Job validation, and the
//! update rules: immutable fields, finalizers of terminating objects).

use serde_json::{Map, Value, json};

use crate::meta;
use crate::quantity::Quantity;
use crate::resources::ResourceType;
use crate::status::FieldError;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const QUALIFIED_NAME_MSG: &str = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const ENV_NAME_MSG: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const NON_NEGATIVE: &str = "must be greater than or equal to 0";

fn is_alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// DNS-1123 label messages (empty when valid).
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && is_alnum_lower(b[0])
        && is_alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| is_alnum_lower(c) || c == b'-');
    if !ok {
        out.push(DNS1123_LABEL_MSG.to_string());
    }
    out
}

/// DNS-1123 subdomain messages (empty when valid).
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push("must be no more than 253 characters".to_string());
    }
    let ok = !s.is_empty()
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && is_alnum_lower(b[0])
                && is_alnum_lower(b[b.len() - 1])
                && b.iter().all(|&c| is_alnum_lower(c) || c == b'-')
        });
    if !ok {
        out.push(DNS1123_SUBDOMAIN_MSG.to_string());
    }
    out
}

fn name_part_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// Qualified name (label and annotation keys) messages.
pub fn qualified_name(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => return vec![QUALIFIED_NAME_MSG.to_string()],
    };
    let mut out = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            out.push("prefix part must be non-empty".to_string());
        } else {
            out.extend(
                dns1123_subdomain(prefix)
                    .into_iter()
                    .map(|m| format!("prefix part {m}")),
            );
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        out.push("name part must be no more than 63 characters".to_string());
    }
    if !name.is_empty() && !name_part_ok(name) {
        out.push(QUALIFIED_NAME_PART_MSG.to_string());
    }
    out
}

/// Label value messages.
pub fn label_value(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    if !s.is_empty() && !name_part_ok(s) {
        out.push(LABEL_VALUE_MSG.to_string());
    }
    out
}

/// ConfigMap / Secret key messages.
pub fn config_key(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push("must be no more than 253 characters".to_string());
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
    {
        out.push(CONFIG_KEY_MSG.to_string());
    }
    if s == "." {
        out.push("must not be '.'".to_string());
    } else if s == ".." {
        out.push("must not be '..'".to_string());
    } else if s.starts_with("..") {
        out.push("must not start with '..'".to_string());
    }
    out
}

fn env_name(s: &str) -> Vec<String> {
    if s.bytes().all(|c| (0x20..0x7f).contains(&c) && c != b'=') {
        Vec::new()
    } else {
        vec![ENV_NAME_MSG.to_string()]
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The elements of the array at `key`; none where it is absent or not an array.
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn push_invalid(errs: &mut Vec<FieldError>, field: &str, value: &str, msgs: Vec<String>) {
    for m in msgs {
        errs.push(FieldError::invalid(field, &json!(value), m));
    }
}

/// `name` of the list element at `path`: required, a DNS-1123 label, and not
/// one already in `names` (to which it is added).
fn unique_label_name(v: &Value, path: &str, names: &mut Vec<String>, errs: &mut Vec<FieldError>) {
    let name = str_at(v, "name");
    if name.is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), ""));
    } else {
        push_invalid(errs, &format!("{path}.name"), name, dns1123_label(name));
        if names.iter().any(|n| n == name) {
            errs.push(FieldError::duplicate(format!("{path}.name"), &json!(name)));
        }
        names.push(name.to_string());
    }
}

/// Every entry of `imagePullSecrets` (reported under `path`) needs a name.
fn validate_pull_secrets(v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for (i, s) in items(v, "imagePullSecrets").enumerate() {
        if str_at(s, "name").is_empty() {
            errs.push(FieldError::required(format!("{path}[{i}].name"), ""));
        }
    }
}

fn validate_labels(labels: Option<&Value>, field: &str, errs: &mut Vec<FieldError>) {
    for (k, v) in meta::string_map(labels) {
        push_invalid(errs, field, k, qualified_name(k));
        push_invalid(errs, field, v, label_value(v));
    }
}

fn validate_object_meta(rt: &ResourceType, obj: &Value, errs: &mut Vec<FieldError>) {
    let name = meta::name(obj);
    let generate = meta::get_str(obj, &["metadata", "generateName"]).unwrap_or("");
    if name.is_empty() && generate.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if !name.is_empty() {
        let msgs = match rt.kind {
            "Namespace" => dns1123_label(name),
            _ => dns1123_subdomain(name),
        };
        push_invalid(errs, "metadata.name", name, msgs);
    }
    let ns = meta::namespace(obj);
    if rt.namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    validate_labels(
        meta::get(obj, &["metadata", "labels"]),
        "metadata.labels",
        errs,
    );
    let mut total = 0;
    for (k, v) in meta::string_map(meta::get(obj, &["metadata", "annotations"])) {
        push_invalid(
            errs,
            "metadata.annotations",
            k,
            qualified_name(&k.to_lowercase()),
        );
        total += k.len() + v.len();
    }
    if total > 256 * 1024 {
        errs.push(FieldError::too_long(
            "metadata.annotations",
            "may not be more than 262144 bytes",
        ));
    }
    for (i, f) in meta::finalizers(obj).iter().enumerate() {
        let msgs = qualified_name(f);
        if !msgs.is_empty() {
            push_invalid(errs, &format!("metadata.finalizers[{i}]"), f, msgs);
        }
    }
}

/// Validate a new object.
pub fn validate_create(rt: &ResourceType, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_object_meta(rt, obj, &mut errs);
    validate_kind(rt, obj, &mut errs);
    errs
}

fn validate_kind(rt: &ResourceType, obj: &Value, errs: &mut Vec<FieldError>) {
    match rt.kind {
        "ConfigMap" => validate_data(obj, false, errs),
        "Secret" => validate_secret(obj, errs),
        "Pod" => {
            if let Some(spec) = obj.get("spec") {
                validate_pod_spec(spec, "spec", errs);
            } else {
                errs.push(FieldError::required("spec.containers", ""));
            }
        }
        "Job" => validate_job(obj, errs),
        "ServiceAccount" => {
            validate_pull_secrets(obj, "imagePullSecrets", errs);
        }
        _ => {}
    }
}

fn validate_data(obj: &Value, secret: bool, errs: &mut Vec<FieldError>) {
    let mut size = 0usize;
    let mut seen = std::collections::HashSet::new();
    for field in ["data", "binaryData"] {
        if secret && field == "binaryData" {
            continue;
        }
        for (k, v) in obj
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let path = format!("{field}[{k}]");
            push_invalid(errs, &path, k, config_key(k));
            if !seen.insert(k.clone()) {
                errs.push(FieldError::duplicate(&path, &json!(k)));
            }
            size += k.len()
                + v.as_str()
                    .map_or(0, |s| if secret { s.len() * 3 / 4 } else { s.len() });
        }
    }
    if size > 1024 * 1024 {
        errs.push(FieldError::too_long("", "must have at most 1048576 bytes"));
    }
}

fn validate_secret(obj: &Value, errs: &mut Vec<FieldError>) {
    validate_data(obj, true, errs);
    let ty = str_at(obj, "type");
    let data = obj.get("data").and_then(Value::as_object);
    let decoded = |k: &str| -> Option<Vec<u8>> {
        let s = data?.get(k)?.as_str()?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).ok()
    };
    let mut require_json = |key: &str| {
        let path = format!("data[{key}]");
        match decoded(key) {
            None => errs.push(FieldError::required(path, "")),
            Some(bytes) => {
                if let Err(e) = serde_json::from_slice::<Value>(&bytes) {
                    errs.push(FieldError::invalid(
                        path,
                        &json!("<secret contents redacted>"),
                        e.to_string(),
                    ));
                }
            }
        }
    };
    match ty {
        "kubernetes.io/dockerconfigjson" => require_json(".dockerconfigjson"),
        "kubernetes.io/dockercfg" => require_json(".dockercfg"),
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if decoded(key).is_none() {
                    errs.push(FieldError::required(format!("data[{key}]"), ""));
                }
            }
        }
        "kubernetes.io/basic-auth"
            if decoded("username").is_none() && decoded("password").is_none() =>
        {
            errs.push(FieldError::required("data[username]", ""));
        }
        "kubernetes.io/ssh-auth" if decoded("ssh-privatekey").is_none() => {
            errs.push(FieldError::required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/service-account-token"
            if meta::get_str(
                obj,
                &[
                    "metadata",
                    "annotations",
                    "kubernetes.io/service-account.name",
                ],
            )
            .is_none() =>
        {
            errs.push(FieldError::required(
                "metadata.annotations[kubernetes.io/service-account.name]",
                "",
            ));
        }
        _ => {}
    }
}

fn int_at(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn validate_job(obj: &Value, errs: &mut Vec<FieldError>) {
    let Some(spec) = obj.get("spec") else {
        errs.push(FieldError::required("spec.selector", ""));
        return;
    };
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        if let Some(n) = int_at(spec, f)
            && n < 0
        {
            errs.push(FieldError::invalid(
                format!("spec.{f}"),
                &json!(n),
                NON_NEGATIVE,
            ));
        }
    }
    let mode = str_at(spec, "completionMode");
    if !matches!(mode, "NonIndexed" | "Indexed") {
        errs.push(FieldError::not_supported(
            "spec.completionMode",
            &json!(mode),
            &["NonIndexed", "Indexed"],
        ));
    }
    if mode == "Indexed" {
        match int_at(spec, "completions") {
            None => errs.push(FieldError::required(
                "spec.completions",
                "when completion mode is Indexed",
            )),
            Some(c) if c > 100_000 => errs.push(FieldError::invalid(
                "spec.completions",
                &json!(c),
                "must be less than or equal to 100000 when completion mode is Indexed",
            )),
            _ => {}
        }
        if let Some(p) = int_at(spec, "parallelism")
            && p > 100_000
        {
            errs.push(FieldError::invalid(
                "spec.parallelism",
                &json!(p),
                "must be less than or equal to 100000 when completion mode is Indexed",
            ));
        }
    } else if spec
        .get("backoffLimitPerIndex")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            "spec.backoffLimitPerIndex",
            "requires indexed completion mode",
        ));
    }
    let prp = str_at(spec, "podReplacementPolicy");
    if spec.get("podFailurePolicy").is_some_and(|v| !v.is_null()) {
        if prp != "Failed" {
            errs.push(FieldError::not_supported(
                "spec.podReplacementPolicy",
                &json!(prp),
                &["Failed"],
            ));
        }
    } else if !matches!(prp, "TerminatingOrFailed" | "Failed") {
        errs.push(FieldError::not_supported(
            "spec.podReplacementPolicy",
            &json!(prp),
            &["TerminatingOrFailed", "Failed"],
        ));
    }
    let template = spec.get("template").cloned().unwrap_or_else(|| json!({}));
    validate_labels(
        meta::get(&template, &["metadata", "labels"]),
        "spec.template.labels",
        errs,
    );
    for (k, _) in meta::string_map(meta::get(&template, &["metadata", "annotations"])) {
        push_invalid(
            errs,
            "spec.template.annotations",
            k,
            qualified_name(&k.to_lowercase()),
        );
    }
    let pod_spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    validate_pod_spec(&pod_spec, "spec.template.spec", errs);
    let restart = str_at(&pod_spec, "restartPolicy");
    // kube-apiserver reports any other policy (even a set one) as a
    // required value, listing the two it accepts.
    if !matches!(restart, "OnFailure" | "Never") {
        errs.push(FieldError::required(
            "spec.template.spec.restartPolicy",
            "valid values: \"OnFailure\", \"Never\"",
        ));
    }
    match spec.get("selector").filter(|s| !s.is_null()) {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => match crate::selectors::LabelSelector::from_object(sel) {
            None => errs.push(FieldError::invalid(
                "spec.selector",
                sel,
                "invalid label selector",
            )),
            Some(ls) => {
                let labels = meta::string_map(meta::get(&template, &["metadata", "labels"]));
                if ls.is_empty() {
                    errs.push(FieldError::invalid(
                        "spec.selector",
                        sel,
                        "empty selector is invalid for deployment",
                    ));
                } else if !ls.matches(&labels) {
                    let value = meta::get(&template, &["metadata", "labels"])
                        .cloned()
                        .unwrap_or(Value::Null);
                    errs.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        &value,
                        "`selector` does not match template `labels`",
                    ));
                }
                if !meta::get_bool(obj, &["spec", "manualSelector"]).unwrap_or(false) {
                    let uid = meta::uid(obj);
                    let expected = [("batch.kubernetes.io/controller-uid", uid)];
                    if !uid.is_empty() && !ls.matches(&expected) {
                        errs.push(FieldError::invalid(
                            "spec.selector",
                            sel,
                            "`selector` not auto-generated",
                        ));
                    }
                }
            }
        },
    }
}

const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

fn validate_mode(v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(m) = v.get("defaultMode").and_then(Value::as_i64)
        && !(0..=0o777).contains(&m)
    {
        errs.push(FieldError::invalid(
            format!("{path}.defaultMode"),
            &json!(m),
            "must be a number between 0 and 0777 (octal), both inclusive",
        ));
    }
    for (i, item) in items(v, "items").enumerate() {
        if str_at(item, "key").is_empty() {
            errs.push(FieldError::required(format!("{path}.items[{i}].key"), ""));
        }
        let p = str_at(item, "path");
        if p.is_empty() {
            errs.push(FieldError::required(format!("{path}.items[{i}].path"), ""));
        } else if p.starts_with('/') {
            errs.push(FieldError::invalid(
                format!("{path}.items[{i}].path"),
                &json!(p),
                "must be a relative path",
            ));
        } else if p.split('/').any(|s| s == "..") {
            errs.push(FieldError::invalid(
                format!("{path}.items[{i}].path"),
                &json!(p),
                "must not contain '..'",
            ));
        }
    }
}

fn validate_volumes(spec: &Value, p: &str, errs: &mut Vec<FieldError>) -> Vec<String> {
    let mut names = Vec::new();
    for (i, v) in items(spec, "volumes").enumerate() {
        let path = format!("{p}.volumes[{i}]");
        unique_label_name(v, &path, &mut names, errs);
        let sources: Vec<&str> = VOLUME_SOURCES
            .iter()
            .copied()
            .filter(|s| v.get(*s).is_some_and(|x| !x.is_null()))
            .collect();
        match sources.as_slice() {
            [] => errs.push(FieldError::required(
                path.clone(),
                "must specify a volume type",
            )),
            [_] => {}
            [_, rest @ ..] => {
                for s in rest {
                    errs.push(FieldError::forbidden(
                        format!("{path}.{s}"),
                        "may not specify more than 1 volume type",
                    ));
                }
            }
        }
        if let Some(s) = v.get("secret") {
            if str_at(s, "secretName").is_empty() {
                errs.push(FieldError::required(
                    format!("{path}.secret.secretName"),
                    "",
                ));
            }
            validate_mode(s, &format!("{path}.secret"), errs);
        }
        if let Some(c) = v.get("configMap") {
            if str_at(c, "name").is_empty() {
                errs.push(FieldError::required(format!("{path}.configMap.name"), ""));
            }
            validate_mode(c, &format!("{path}.configMap"), errs);
        }
        if let Some(pvc) = v.get("persistentVolumeClaim")
            && str_at(pvc, "claimName").is_empty()
        {
            errs.push(FieldError::required(
                format!("{path}.persistentVolumeClaim.claimName"),
                "",
            ));
        }
        if let Some(q) = meta::get(v, &["emptyDir", "sizeLimit"]).and_then(Value::as_str)
            && Quantity::parse(q).is_ok_and(|q| q.is_negative())
        {
            errs.push(FieldError::invalid(
                format!("{path}.emptyDir.sizeLimit"),
                &json!(q),
                NON_NEGATIVE,
            ));
        }
    }
    names
}

const FIELD_REF_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn validate_env(c: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for (i, e) in items(c, "env").enumerate() {
        let ep = format!("{path}.env[{i}]");
        let name = str_at(e, "name");
        if name.is_empty() {
            errs.push(FieldError::required(format!("{ep}.name"), ""));
        } else {
            push_invalid(errs, &format!("{ep}.name"), name, env_name(name));
        }
        let Some(from) = e.get("valueFrom").filter(|v| !v.is_null()) else {
            continue;
        };
        if !str_at(e, "value").is_empty() {
            errs.push(FieldError::invalid(
                format!("{ep}.valueFrom"),
                &json!(""),
                "may not be specified when `value` is not empty",
            ));
        }
        let sources: Vec<&str> = [
            "fieldRef",
            "resourceFieldRef",
            "configMapKeyRef",
            "secretKeyRef",
            "fileKeyRef",
        ]
        .into_iter()
        .filter(|s| from.get(*s).is_some_and(|x| !x.is_null()))
        .collect();
        match sources.len() {
            0 => errs.push(FieldError::invalid(
                format!("{ep}.valueFrom"),
                &json!(""),
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )),
            1 => {}
            _ => errs.push(FieldError::invalid(
                format!("{ep}.valueFrom"),
                &json!(""),
                "may not have more than one field specified at a time",
            )),
        }
        for r in ["secretKeyRef", "configMapKeyRef"] {
            if let Some(sel) = from.get(r) {
                let key = str_at(sel, "key");
                if key.is_empty() {
                    errs.push(FieldError::required(format!("{ep}.valueFrom.{r}.key"), ""));
                } else {
                    push_invalid(
                        errs,
                        &format!("{ep}.valueFrom.{r}.key"),
                        key,
                        config_key(key),
                    );
                }
                if str_at(sel, "name").is_empty() {
                    errs.push(FieldError::required(format!("{ep}.valueFrom.{r}.name"), ""));
                }
            }
        }
        if let Some(fr) = from.get("fieldRef") {
            let fp = str_at(fr, "fieldPath");
            let labelish = ["metadata.labels['", "metadata.annotations['"]
                .iter()
                .any(|p| fp.starts_with(p))
                && fp.ends_with("']");
            if fp.is_empty() {
                errs.push(FieldError::required(
                    format!("{ep}.valueFrom.fieldRef.fieldPath"),
                    "",
                ));
            } else if !FIELD_REF_PATHS.contains(&fp)
                && !labelish
                && !matches!(fp, "metadata.labels" | "metadata.annotations")
            {
                let mut supported: Vec<&str> = vec!["metadata.annotations", "metadata.labels"];
                supported.extend(FIELD_REF_PATHS);
                errs.push(FieldError::not_supported(
                    format!("{ep}.valueFrom.fieldRef.fieldPath"),
                    &json!(fp),
                    &supported,
                ));
            }
        }
    }
}

fn validate_resources(c: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let res = c.get("resources");
    let limits = res.and_then(|r| r.get("limits")).and_then(Value::as_object);
    let requests = res
        .and_then(|r| r.get("requests"))
        .and_then(Value::as_object);
    for (kind, map) in [("limits", limits), ("requests", requests)] {
        for (k, v) in map.into_iter().flatten() {
            let s = v.as_str().unwrap_or("");
            if let Ok(q) = Quantity::parse(s)
                && q.is_negative()
            {
                errs.push(FieldError::invalid(
                    format!("{path}.resources.{kind}[{k}]"),
                    &json!(s),
                    NON_NEGATIVE,
                ));
            }
        }
    }
    if let (Some(l), Some(r)) = (limits, requests) {
        for (k, rv) in r {
            let Some(lv) = l.get(k) else { continue };
            let (Some(rs), Some(ls)) = (rv.as_str(), lv.as_str()) else {
                continue;
            };
            if let (Ok(rq), Ok(lq)) = (Quantity::parse(rs), Quantity::parse(ls))
                && let (Some(rn), Some(ln)) = (rq.nanos(), lq.nanos())
                && rn > ln
            {
                errs.push(FieldError::invalid(
                    format!("{path}.resources.requests[{k}]"),
                    &json!(rs),
                    format!("must be less than or equal to {k} limit of {ls}"),
                ));
            }
        }
    }
}

fn validate_containers(spec: &Value, p: &str, volumes: &[String], errs: &mut Vec<FieldError>) {
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(Vec::is_empty) {
        errs.push(FieldError::required(format!("{p}.containers"), ""));
    }
    let mut names: Vec<String> = Vec::new();
    for list in ["initContainers", "containers"] {
        for (i, c) in items(spec, list).enumerate() {
            let path = format!("{p}.{list}[{i}]");
            unique_label_name(c, &path, &mut names, errs);
            if str_at(c, "image").trim().is_empty() {
                errs.push(FieldError::required(format!("{path}.image"), ""));
            }
            let pull = str_at(c, "imagePullPolicy");
            if !matches!(pull, "Always" | "IfNotPresent" | "Never") {
                errs.push(FieldError::not_supported(
                    format!("{path}.imagePullPolicy"),
                    &json!(pull),
                    &["Always", "IfNotPresent", "Never"],
                ));
            }
            let tmp = str_at(c, "terminationMessagePolicy");
            if !matches!(tmp, "File" | "FallbackToLogsOnError") {
                errs.push(FieldError::not_supported(
                    format!("{path}.terminationMessagePolicy"),
                    &json!(tmp),
                    &["File", "FallbackToLogsOnError"],
                ));
            }
            validate_env(c, &path, errs);
            for (j, port) in items(c, "ports").enumerate() {
                let n = int_at(port, "containerPort").unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    errs.push(FieldError::invalid(
                        format!("{path}.ports[{j}].containerPort"),
                        &json!(n),
                        "must be between 1 and 65535, inclusive",
                    ));
                }
                let proto = str_at(port, "protocol");
                if !matches!(proto, "TCP" | "UDP" | "SCTP") {
                    errs.push(FieldError::not_supported(
                        format!("{path}.ports[{j}].protocol"),
                        &json!(proto),
                        &["SCTP", "TCP", "UDP"],
                    ));
                }
            }
            let mut mount_paths: Vec<String> = Vec::new();
            for (j, m) in items(c, "volumeMounts").enumerate() {
                let mp = format!("{path}.volumeMounts[{j}]");
                let vname = str_at(m, "name");
                if vname.is_empty() {
                    errs.push(FieldError::required(format!("{mp}.name"), ""));
                } else if !volumes.iter().any(|v| v == vname) {
                    errs.push(FieldError::not_found(format!("{mp}.name"), &json!(vname)));
                }
                let mount = str_at(m, "mountPath");
                if mount.is_empty() {
                    errs.push(FieldError::required(format!("{mp}.mountPath"), ""));
                } else if mount_paths.iter().any(|x| x == mount) {
                    errs.push(FieldError::invalid(
                        format!("{mp}.mountPath"),
                        &json!(mount),
                        "must be unique",
                    ));
                } else {
                    mount_paths.push(mount.to_string());
                }
                let sub = str_at(m, "subPath");
                if sub.starts_with('/') {
                    errs.push(FieldError::invalid(
                        format!("{mp}.subPath"),
                        &json!(sub),
                        "must be a relative path",
                    ));
                }
            }
            validate_resources(c, &path, errs);
        }
    }
}

/// Validate a PodSpec at path prefix `p`.
pub fn validate_pod_spec(spec: &Value, p: &str, errs: &mut Vec<FieldError>) {
    let volumes = validate_volumes(spec, p, errs);
    validate_containers(spec, p, &volumes, errs);
    let restart = str_at(spec, "restartPolicy");
    if !matches!(restart, "Always" | "OnFailure" | "Never") {
        errs.push(FieldError::not_supported(
            format!("{p}.restartPolicy"),
            &json!(restart),
            &["Always", "OnFailure", "Never"],
        ));
    }
    let dns = str_at(spec, "dnsPolicy");
    if !matches!(
        dns,
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None"
    ) {
        errs.push(FieldError::not_supported(
            format!("{p}.dnsPolicy"),
            &json!(dns),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ));
    }
    if let Some(ads) = int_at(spec, "activeDeadlineSeconds")
        && ads < 1
    {
        errs.push(FieldError::invalid(
            format!("{p}.activeDeadlineSeconds"),
            &json!(ads),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    let sa = str_at(spec, "serviceAccountName");
    if !sa.is_empty() {
        push_invalid(
            errs,
            &format!("{p}.serviceAccountName"),
            sa,
            dns1123_subdomain(sa),
        );
    }
    validate_pull_secrets(spec, &format!("{p}.imagePullSecrets"), errs);
    validate_labels(spec.get("nodeSelector"), &format!("{p}.nodeSelector"), errs);
    let hostname = str_at(spec, "hostname");
    if !hostname.is_empty() {
        push_invalid(
            errs,
            &format!("{p}.hostname"),
            hostname,
            dns1123_label(hostname),
        );
    }
}

/// Validate an update of `old` to `new` (the object passed create validation rules too).
pub fn validate_update(
    rt: &ResourceType,
    old: &Value,
    new: &Value,
    subresource: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_object_meta(rt, new, &mut errs);
    let (ou, nu) = (meta::uid(old), meta::uid(new));
    if ou != nu {
        errs.push(FieldError::immutable("metadata.uid", &json!(nu)));
    }
    if meta::is_deleting(old) {
        let before = meta::finalizers(old);
        let added: Vec<String> = meta::finalizers(new)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            let list: Vec<String> = added.iter().map(|f| crate::status::go_quote(f)).collect();
            errs.push(FieldError::forbidden(
                "metadata.finalizers",
                format!("no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}", list.join(", ")),
            ));
        }
    }
    if subresource == "status" {
        if rt.kind == "Job" {
            for f in ["active", "succeeded", "failed"] {
                if let Some(n) = meta::get_i64(new, &["status", f])
                    && n < 0
                {
                    errs.push(FieldError::invalid(
                        format!("status.{f}"),
                        &json!(n),
                        NON_NEGATIVE,
                    ));
                }
            }
        }
        return errs;
    }
    validate_kind(rt, new, &mut errs);
    match rt.kind {
        "Job" => validate_job_update(old, new, &mut errs),
        "Pod" => validate_pod_update(old, new, &mut errs),
        "ConfigMap" | "Secret" => {
            if meta::get_bool(old, &["immutable"]) == Some(true) {
                if meta::get_bool(new, &["immutable"]) != Some(true) {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
                for f in ["data", "binaryData"] {
                    if old.get(f) != new.get(f) {
                        errs.push(FieldError::forbidden(
                            f,
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
            }
            if rt.kind == "Secret" && str_at(old, "type") != str_at(new, "type") {
                errs.push(FieldError::immutable("type", &json!(str_at(new, "type"))));
            }
        }
        _ => {}
    }
    errs
}

fn without(v: Option<&Value>, keys: &[&str]) -> Value {
    let mut v = v.cloned().unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

/// A template whose `metadata` is an object: Go's ObjectMeta is a struct, so an
/// absent one and `{}` are the same.
fn with_metadata(mut template: Value) -> Value {
    if let Some(t) = template.as_object_mut()
        && !t.get("metadata").is_some_and(Value::is_object)
    {
        t.insert("metadata".into(), json!({}));
    }
    template
}

/// `old` (a Job's pod template) with what a suspended Job that never started
/// may change taken from `new`, as kube-apiserver's `validatePodTemplateUpdate`
/// does under `AllowMutableSchedulingDirectives` (KEP-2926, GA in 1.27): the
/// labels, annotations, node selector, tolerations, scheduling gates, and node
/// affinity, but no other affinity (affinity may be removed only when it held
/// node affinity alone).
fn with_scheduling_directives_of(old: &Value, new: &Value) -> Value {
    let mut old = with_metadata(old.clone());
    let new_meta = new.get("metadata");
    let new_spec = new.get("spec");
    let take = |into: &mut Map<String, Value>, from: Option<&Value>, key: &str| {
        match from.and_then(|f| f.get(key)).filter(|v| !v.is_null()) {
            Some(v) => into.insert(key.to_string(), v.clone()),
            None => into.remove(key),
        };
    };
    if let Some(meta) = old.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["labels", "annotations"] {
            take(meta, new_meta, key);
        }
    }
    if let Some(spec) = old.get_mut("spec").and_then(Value::as_object_mut) {
        for key in ["nodeSelector", "tolerations", "schedulingGates"] {
            take(spec, new_spec, key);
        }
        let new_affinity = new_spec
            .and_then(|s| s.get("affinity"))
            .filter(|v| !v.is_null());
        let old_has_affinity = spec.get("affinity").is_some_and(|v| !v.is_null());
        match (new_affinity, old_has_affinity) {
            (None, true) => {
                if let Some(a) = spec.get_mut("affinity").and_then(Value::as_object_mut) {
                    a.remove("nodeAffinity");
                    if a.is_empty() {
                        spec.remove("affinity");
                    }
                }
            }
            (Some(n), false) => {
                let mut a = Map::new();
                take(&mut a, Some(n), "nodeAffinity");
                spec.insert("affinity".into(), Value::Object(a));
            }
            (Some(n), true) => {
                if let Some(a) = spec.get_mut("affinity").and_then(Value::as_object_mut) {
                    take(a, Some(n), "nodeAffinity");
                }
            }
            (None, false) => {}
        }
    }
    old
}

fn validate_job_update(old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    let (os, ns) = (
        old.get("spec").cloned().unwrap_or(Value::Null),
        new.get("spec").cloned().unwrap_or(Value::Null),
    );
    let field = |s: &Value, f: &str| s.get(f).cloned().unwrap_or(Value::Null);
    if field(&os, "completions") != field(&ns, "completions") {
        let indexed = str_at(&ns, "completionMode") == "Indexed";
        let elastic = indexed
            && field(&ns, "completions") == field(&ns, "parallelism")
            && field(&os, "completions") == field(&os, "parallelism");
        if indexed && !elastic {
            errs.push(FieldError::invalid(
                "spec.completions",
                &field(&ns, "completions"),
                "can only be modified in tandem with spec.parallelism",
            ));
        } else if !indexed {
            errs.push(FieldError::immutable(
                "spec.completions",
                &field(&ns, "completions"),
            ));
        }
    }
    if field(&os, "selector") != field(&ns, "selector") {
        errs.push(FieldError::immutable(
            "spec.selector",
            &field(&ns, "selector"),
        ));
    }
    let (ot, nt) = (field(&os, "template"), field(&ns, "template"));
    // Only the old Job counts: suspended, and never started.
    let mutable_directives = meta::get_bool(old, &["spec", "suspend"]) == Some(true)
        && meta::get(old, &["status", "startTime"]).is_none_or(Value::is_null);
    let ot = if mutable_directives {
        with_scheduling_directives_of(&ot, &nt)
    } else {
        ot
    };
    if with_metadata(ot) != with_metadata(nt.clone()) {
        errs.push(FieldError::immutable("spec.template", &nt));
    }
    for f in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        if field(&os, f) != field(&ns, f) {
            errs.push(FieldError::immutable(format!("spec.{f}"), &field(&ns, f)));
        }
    }
}

fn validate_pod_update(old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    let mask = |spec: Option<&Value>| -> Value {
        let mut s = without(
            spec,
            &[
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
            ],
        );
        for list in ["containers", "initContainers"] {
            if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
                for c in cs {
                    if let Some(c) = c.as_object_mut() {
                        c.remove("image");
                    }
                }
            }
        }
        s
    };
    if mask(old.get("spec")) != mask(new.get("spec")) {
        errs.push(FieldError::forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CONFIGMAPS, JOBS, by_index};

    #[test]
    fn names_follow_dns_1123() {
        assert!(dns1123_subdomain("a.b-c").is_empty());
        assert_eq!(dns1123_subdomain("Bad_Name").len(), 1);
        assert_eq!(
            dns1123_label(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert!(qualified_name("planton.ai/id").is_empty());
        assert_eq!(qualified_name("a/b/c").len(), 1);
        assert!(label_value("").is_empty());
    }

    #[test]
    fn job_restart_policy_always_is_refused() {
        let job = json!({"metadata": {"name": "j", "namespace": "d"}, "spec": {
            "completionMode": "NonIndexed", "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"a": "b"}}, "manualSelector": true,
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                "containers": [{"name": "c", "image": "i", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}]}}}});
        let errs = validate_create(by_index(JOBS), &job);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].to_string(),
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
        );
    }

    /// A Job as stored: suspended or not, started or not, with a pod template.
    fn stored_job(suspended: bool, started: bool, template: Value) -> Value {
        let mut job = json!({"metadata": {"name": "j", "namespace": "d", "uid": "u"}, "spec": {
            "suspend": suspended, "completionMode": "NonIndexed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "template": template}});
        if started {
            job["status"] = json!({"startTime": "2026-01-01T00:00:00Z"});
        }
        job
    }

    fn template(meta: Value, spec_extra: Value) -> Value {
        let mut spec =
            json!({"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]});
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            s.extend(extra.clone());
        }
        json!({"metadata": meta, "spec": spec})
    }

    fn template_errors(old: &Value, new_template: Value) -> Vec<String> {
        let mut new = old.clone();
        new["spec"]["template"] = new_template;
        let mut errs = Vec::new();
        validate_job_update(old, &new, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    /// ValidateJobUpdate with AllowMutableSchedulingDirectives: a suspended
    /// Job that never started may change its template's labels, annotations,
    /// node selector, tolerations, scheduling gates and node affinity, and
    /// nothing else; otherwise the template is immutable.
    #[test]
    fn suspended_never_started_job_may_change_scheduling_directives() {
        let labels = json!({"labels": {"a": "1"}});
        let node_affinity = json!({"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}]}});
        let pod_affinity =
            json!({"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "t"}]});
        let old = stored_job(true, false, template(labels.clone(), json!({})));
        let allowed = [
            (
                "labels",
                template(json!({"labels": {"a": "2", "b": "3"}}), json!({})),
            ),
            (
                "annotations",
                template(
                    json!({"labels": {"a": "1"}, "annotations": {"n": "x"}}),
                    json!({}),
                ),
            ),
            ("no metadata", template(json!({}), json!({}))),
            (
                "node selector",
                template(labels.clone(), json!({"nodeSelector": {"disk": "ssd"}})),
            ),
            (
                "tolerations",
                template(
                    labels.clone(),
                    json!({"tolerations": [{"key": "k", "operator": "Exists"}]}),
                ),
            ),
            (
                "scheduling gates",
                template(labels.clone(), json!({"schedulingGates": [{"name": "g"}]})),
            ),
            (
                "node affinity",
                template(
                    labels.clone(),
                    json!({"affinity": {"nodeAffinity": node_affinity}}),
                ),
            ),
            (
                "empty affinity",
                template(labels.clone(), json!({"affinity": {}})),
            ),
        ];
        for (name, t) in allowed {
            assert_eq!(template_errors(&old, t), Vec::<String>::new(), "{name}");
        }
        let refused = [
            (
                "image",
                template(
                    labels.clone(),
                    json!({"containers": [{"name": "c", "image": "j"}]}),
                ),
            ),
            (
                "pod affinity",
                template(
                    labels.clone(),
                    json!({"affinity": {"podAffinity": pod_affinity}}),
                ),
            ),
            (
                "service account",
                template(labels.clone(), json!({"serviceAccountName": "s"})),
            ),
        ];
        for (name, t) in refused {
            let errs = template_errors(&old, t);
            assert_eq!(errs.len(), 1, "{name}: {errs:?}");
            assert!(
                errs[0].starts_with("spec.template: Invalid value: "),
                "{name}: {errs:?}"
            );
            assert!(
                errs[0].ends_with(": field is immutable"),
                "{name}: {errs:?}"
            );
        }

        // Affinity goes away only when node affinity was all it held.
        let with = |affinity: Value| {
            stored_job(
                true,
                false,
                template(labels.clone(), json!({"affinity": affinity})),
            )
        };
        let plain = template(labels.clone(), json!({}));
        assert!(
            template_errors(&with(json!({"nodeAffinity": node_affinity})), plain.clone())
                .is_empty()
        );
        assert_eq!(
            template_errors(
                &with(json!({"nodeAffinity": node_affinity, "podAffinity": pod_affinity})),
                plain.clone()
            )
            .len(),
            1
        );
        assert!(
            template_errors(
                &with(json!({"nodeAffinity": node_affinity, "podAffinity": pod_affinity})),
                template(
                    labels.clone(),
                    json!({"affinity": {"podAffinity": pod_affinity}})
                )
            )
            .is_empty()
        );

        // Not suspended, or started once: every change is refused.
        let changed = template(json!({"labels": {"a": "2"}}), json!({}));
        for (suspended, started) in [(false, false), (true, true), (false, true)] {
            let old = stored_job(suspended, started, template(labels.clone(), json!({})));
            assert_eq!(
                template_errors(&old, changed.clone()).len(),
                1,
                "suspended {suspended}, started {started}"
            );
        }
        // The new Job's suspend does not matter: unsuspending with new labels is one update.
        let old = stored_job(true, false, template(labels.clone(), json!({})));
        let mut new = old.clone();
        new["spec"]["suspend"] = json!(false);
        new["spec"]["template"] = changed;
        let mut errs = Vec::new();
        validate_job_update(&old, &new, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn configmap_keys_are_checked() {
        let cm = json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"bad key": "x"}});
        let errs = validate_create(by_index(CONFIGMAPS), &cm);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .to_string()
                .starts_with("data[bad key]: Invalid value: \"bad key\": a valid config key")
        );
    }
}
