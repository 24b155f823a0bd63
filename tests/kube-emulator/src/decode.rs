//! Typed decoding: the emulator's analogue of kube-apiserver decoding a body into
//! the Go struct of its kind.
//!
//! The JSON goes through the k8s-openapi type of its kind and back. That gives the
//! real server's behaviour for free: type errors become 400 BadRequest
//! (`Job in version "v1" cannot be handled as a Job: ...`), unknown fields are
//! dropped (reported as warnings, or refused under `fieldValidation=Strict`),
//! nulls disappear, Secret `stringData` folds into `data`, and quantities are
//! canonicalised (`1000m` becomes `1`). Fields k8s-openapi marks required but Go
//! decodes as zero values are filled with zero values first, so that validation,
//! not decoding, reports them, as on a real server.

use std::collections::HashMap;

use base64::Engine;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::quantity;
use crate::resources::ResourceType;
use crate::status::{ApiError, go_quote};

/// A decoded object and the unknown fields that were dropped from it.
#[derive(Debug)]
pub struct Decoded {
    /// The normal form.
    pub object: Value,
    /// Dropped unknown fields, as `spec.foo` paths.
    pub unknown_fields: Vec<String>,
}

/// Decode `v` as the kind of `rt`.
pub fn normalize(rt: &ResourceType, v: Value) -> Result<Decoded, ApiError> {
    use k8s_openapi::api::{batch::v1 as batch, core::v1 as core};
    let mut d = match rt.kind {
        "Namespace" => roundtrip::<core::Namespace>(rt, v)?,
        "ConfigMap" => roundtrip::<core::ConfigMap>(rt, v)?,
        "Secret" => roundtrip::<core::Secret>(rt, fold_string_data(v))?,
        "ServiceAccount" => roundtrip::<core::ServiceAccount>(rt, v)?,
        "Pod" => roundtrip::<core::Pod>(rt, v)?,
        "Event" => roundtrip::<core::Event>(rt, v)?,
        "Job" => roundtrip::<batch::Job>(rt, v)?,
        _ => Decoded {
            object: v,
            unknown_fields: Vec::new(),
        },
    };
    if matches!(rt.kind, "Pod" | "Job") {
        canonicalize_quantities(&mut d.object).map_err(|e| cannot_handle(rt, &e))?;
    }
    Ok(d)
}

fn cannot_handle(rt: &ResourceType, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{} in version {} cannot be handled as a {}: {}",
        rt.kind,
        go_quote(rt.version),
        rt.kind,
        why
    ))
}

/// Secret `stringData` is write-only: its entries overwrite `data` (base64-encoded).
fn fold_string_data(mut v: Value) -> Value {
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    let Some(Value::Object(sd)) = obj.remove("stringData") else {
        return v;
    };
    let data = obj
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Value::Object(d) = data {
        for (k, val) in sd {
            if let Value::String(s) = val {
                d.insert(
                    k,
                    Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
                );
            }
        }
    }
    v
}

const ZERO_CANDIDATES: usize = 5;

fn zero_value(i: usize) -> Value {
    match i {
        0 => Value::String(String::new()),
        1 => Value::Array(Vec::new()),
        2 => Value::from(0),
        3 => Value::Object(Map::new()),
        _ => Value::Bool(false),
    }
}

fn roundtrip<T: DeserializeOwned + Serialize>(
    rt: &ResourceType,
    mut v: Value,
) -> Result<Decoded, ApiError> {
    if !v.is_object() {
        return Err(cannot_handle(
            rt,
            "json: cannot unmarshal non-object into Go value of type struct",
        ));
    }
    // Fill zero values for fields k8s-openapi requires but Go would decode as empty.
    let mut tried: HashMap<String, usize> = HashMap::new();
    for _ in 0..200 {
        match serde_path_to_error::deserialize::<_, T>(v.clone()) {
            Ok(t) => {
                let out =
                    serde_json::to_value(&t).map_err(|e| ApiError::internal(e.to_string()))?;
                let mut unknown = Vec::new();
                unknown_fields(&v, &out, &mut String::new(), &mut unknown);
                return Ok(Decoded {
                    object: out,
                    unknown_fields: unknown,
                });
            }
            Err(err) => {
                let segments: Vec<Seg> = err.path().iter().filter_map(seg_of).collect();
                let message = err.inner().to_string();
                if let Some(field) = missing_field(&message) {
                    let key = format!("{}/{}", render_path(&segments), field);
                    let n = *tried.entry(key).or_insert(0);
                    if n < ZERO_CANDIDATES && insert_zero(&mut v, &segments, field, zero_value(n)) {
                        continue;
                    }
                } else if let Some((Seg::Key(field), parent)) = segments.split_last() {
                    // The zero we inserted had the wrong type: try the next candidate.
                    let key = format!("{}/{}", render_path(parent), field);
                    if let Some(n) = tried.get_mut(&key) {
                        *n += 1;
                        if *n < ZERO_CANDIDATES
                            && insert_zero(&mut v, parent, field, zero_value(*n))
                        {
                            continue;
                        }
                    }
                }
                return Err(cannot_handle(rt, &go_message(rt, &v, &segments, &message)));
            }
        }
    }
    Err(cannot_handle(rt, "json: too many missing fields"))
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn seg_of(s: &serde_path_to_error::Segment) -> Option<Seg> {
    match s {
        serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
        serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
        _ => None,
    }
}

fn render_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn insert_zero(v: &mut Value, parent: &[Seg], field: &str, zero: Value) -> bool {
    let mut cur = v;
    for seg in parent {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(c) => c,
                None => return false,
            },
            (Seg::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(c) => c,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(field.to_string(), zero);
            true
        }
        _ => false,
    }
}

/// Turn a serde message into Go's `json: cannot unmarshal X into Go struct field P of type T`.
/// The Go struct holding the field at `segs` (what Go's UnmarshalTypeError names).
fn go_struct(rt: &ResourceType, segs: &[Seg]) -> String {
    let keys = field_keys(segs);
    let parents = &keys[..keys.len().saturating_sub(1)];
    let in_pod_spec = |p: &[&str]| p.contains(&"containers") || p.contains(&"initContainers");
    match parents {
        [] => rt.kind.to_string(),
        [.., "metadata"] => "ObjectMeta".into(),
        ["spec"] => format!("{}Spec", rt.kind),
        ["status"] => format!("{}Status", rt.kind),
        [.., "template"] => "PodTemplateSpec".into(),
        [.., "template", "spec"] => "PodSpec".into(),
        [.., "containers" | "initContainers"] => "Container".into(),
        [.., "env"] => "EnvVar".into(),
        [.., "valueFrom"] => "EnvVarSource".into(),
        [.., "secretKeyRef"] => "SecretKeySelector".into(),
        [.., "configMapKeyRef"] => "ConfigMapKeySelector".into(),
        [.., "fieldRef"] => "ObjectFieldSelector".into(),
        [.., "resources"] => "ResourceRequirements".into(),
        [.., "ports"] => "ContainerPort".into(),
        [.., "volumes"] => "Volume".into(),
        [.., "volumeMounts"] => "VolumeMount".into(),
        [.., "selector"] => "LabelSelector".into(),
        [.., "ownerReferences"] => "OwnerReference".into(),
        [.., "imagePullSecrets"] => "LocalObjectReference".into(),
        [.., "configMap"] => "ConfigMapVolumeSource".into(),
        [.., "secret"] => "SecretVolumeSource".into(),
        [.., "emptyDir"] => "EmptyDirVolumeSource".into(),
        p @ [.., "securityContext"] if in_pod_spec(p) => "SecurityContext".into(),
        [.., "securityContext"] => "PodSecurityContext".into(),
        [.., last] => {
            let mut c = last.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// The field names along `segs`, without list indexes.
fn field_keys(segs: &[Seg]) -> Vec<&str> {
    segs.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect()
}

fn go_message(rt: &ResourceType, input: &Value, segs: &[Seg], message: &str) -> String {
    let path = render_path(segs);
    // Go's field path has no list indexes.
    let go_path = field_keys(segs).join(".");
    let owner = go_struct(rt, segs);
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let got = match got.split_whitespace().next().unwrap_or("") {
            "string" => "string",
            "integer" | "floating" => "number",
            "map" => "object",
            "sequence" => "array",
            "boolean" => "bool",
            "null" => "null",
            other => other,
        };
        let go_type = go_type_name(expected);
        return format!(
            "json: cannot unmarshal {got} into Go struct field {owner}.{go_path} of type {go_type}"
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let number = got.split('`').nth(1).unwrap_or(got);
        return format!(
            "json: cannot unmarshal number {number} into Go struct field {owner}.{go_path} of type {}",
            go_type_name(expected)
        );
    }
    if message == "invalid number" {
        // arbitrary_precision reports out-of-range numbers without detail.
        let mut cur = Some(input);
        for seg in segs {
            cur = match seg {
                Seg::Key(k) => cur.and_then(|c| c.get(k)),
                Seg::Index(i) => cur.and_then(|c| c.get(*i)),
            };
        }
        let number = cur.map(Value::to_string).unwrap_or_default();
        let ty = if number.parse::<i64>().is_ok() {
            "int32"
        } else {
            "int64"
        };
        return format!(
            "json: cannot unmarshal number {number} into Go struct field {owner}.{go_path} of type {ty}"
        );
    }
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

fn go_type_name(expected: &str) -> String {
    match expected {
        "i32" => "int32".into(),
        "i64" => "int64".into(),
        "u32" => "uint32".into(),
        "f64" => "float64".into(),
        "a boolean" => "bool".into(),
        "a string" => "string".into(),
        "a sequence" => "[]interface {}".into(),
        "a map" => "map[string]string".into(),
        "a base64-encoded string" => "[]uint8".into(),
        e if e.starts_with("struct ") => e.trim_start_matches("struct ").to_string(),
        e => e.to_string(),
    }
}

fn unknown_fields(input: &Value, output: &Value, path: &mut String, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (k, iv) in i {
                if iv.is_null() {
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match o.get(k) {
                    Some(ov) => unknown_fields(iv, ov, path, out),
                    None => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(i), Value::Array(o)) if i.len() == o.len() => {
            for (n, (iv, ov)) in i.iter().zip(o).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{n}]"));
                unknown_fields(iv, ov, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Quantities live under these keys in Pod and Job objects.
fn is_quantity_map_key(k: &str) -> bool {
    matches!(
        k,
        "limits" | "requests" | "overhead" | "allocatedResources" | "capacity" | "allocatable"
    )
}

fn canonicalize_quantities(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if is_quantity_map_key(k)
                    && let Value::Object(q) = child
                {
                    for qv in q.values_mut() {
                        canonical_in_place(qv)?;
                    }
                    continue;
                }
                if k == "sizeLimit" {
                    canonical_in_place(child)?;
                    continue;
                }
                canonicalize_quantities(child)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter_mut().try_for_each(canonicalize_quantities),
        _ => Ok(()),
    }
}

fn canonical_in_place(v: &mut Value) -> Result<(), String> {
    if let Value::String(s) = v {
        let q = quantity::Quantity::parse(s).map_err(|e| e.to_string())?;
        *s = q.canonical();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{JOBS, SECRETS, by_index};
    use serde_json::json;

    #[test]
    fn unknown_fields_are_dropped_and_reported() {
        let d = normalize(
            by_index(JOBS),
            json!({"metadata": {"name": "a"}, "spec": {"bogus": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "1000m"}}}]}}}}),
        );
        let d = d.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.unknown_fields, vec!["spec.bogus".to_string()]);
        assert_eq!(
            d.object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "1"
        );
    }

    #[test]
    fn type_errors_read_like_go() {
        let e = normalize(
            by_index(JOBS),
            json!({"spec": {"parallelism": "x", "template": {}}}),
        );
        let e = e.err().map(|e| e.message).unwrap_or_default();
        assert!(e.starts_with("Job in version \"v1\" cannot be handled as a Job: json: cannot unmarshal string into Go struct field JobSpec.spec.parallelism of type int32"), "{e}");
    }

    #[test]
    fn go_messages_name_the_struct_and_skip_list_indexes() {
        let e = normalize(
            by_index(JOBS),
            json!({"spec": {"parallelism": 3_000_000_000u64, "template": {"spec": {"containers": [{"name": "c", "image": 7}]}}}}),
        );
        let e = e.err().map(|e| e.message).unwrap_or_default();
        assert!(e.ends_with("json: cannot unmarshal number 3000000000 into Go struct field JobSpec.spec.parallelism of type int32"), "{e}");
        let e = normalize(
            by_index(JOBS),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": 7}]}}}}),
        );
        let e = e.err().map(|e| e.message).unwrap_or_default();
        assert!(
            e.ends_with(
                "Go struct field Container.spec.template.spec.containers.image of type string"
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_required_fields_become_zero_values() {
        let d = normalize(
            by_index(JOBS),
            json!({"spec": {"template": {"spec": {"containers": [{"image": "i"}]}}}}),
        );
        let d = d.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            d.object["spec"]["template"]["spec"]["containers"][0]["name"],
            ""
        );
    }

    #[test]
    fn string_data_folds_into_data() {
        let d = normalize(
            by_index(SECRETS),
            json!({"metadata": {"name": "s"}, "stringData": {"a": "b"}}),
        );
        let d = d.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.object["data"]["a"], "Yg==");
        assert!(d.object.get("stringData").is_none());
    }
}
