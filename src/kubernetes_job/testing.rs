//! Test helpers: write a configuration as JSON (or read it from HCL, see
//! `fixtures`) and turn it into the [`Value`] Terraform would send, checked
//! against the schema the way Terraform checks it (unknown attributes and
//! missing required ones are errors) and with every absent attribute null.
//!
//! The string `"(unknown)"` stands for an unknown value anywhere.

use std::str::FromStr;

use serde_json::{Value as J, json};

use crate::kubernetes_job::model::schema::schema;
use crate::tf::{Attribute, AttributeKind, Nesting, Number, Type, Value};

/// The JSON spelling of an unknown value.
pub const UNKNOWN: &str = "(unknown)";

/// A resource configuration from JSON.
pub fn config(json: &J) -> Result<Value, String> {
    object(&schema().block.attributes, json, "")
}

fn object(attributes: &[Attribute], json: &J, path: &str) -> Result<Value, String> {
    let J::Object(entries) = json else {
        return Err(format!("{path}: expected an object, got {json}"));
    };
    for key in entries.keys() {
        match attributes.iter().find(|a| &a.name == key) {
            Some(a) if a.required || a.optional => {}
            _ => return Err(format!("{path}.{key}: unsupported argument")),
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for a in attributes {
        let here = format!("{path}.{}", a.name);
        let v = attribute(a, entries.get(&a.name).unwrap_or(&J::Null), &here)?;
        if a.required && v.is_null() {
            return Err(format!("{here}: missing required argument"));
        }
        out.insert(a.name.clone(), v);
    }
    Ok(Value::Object(out))
}

fn attribute(a: &Attribute, json: &J, path: &str) -> Result<Value, String> {
    if let Some(special) = null_or_unknown(json) {
        return Ok(special);
    }
    match &a.kind {
        AttributeKind::Type(t) => typed(t, json, path),
        AttributeKind::Nested(n) => match n.nesting {
            Nesting::Single | Nesting::Group => object(&n.attributes, json, path),
            Nesting::List | Nesting::Set => match json {
                J::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let here = format!("{path}[{i}]");
                        null_or_unknown(item)
                            .map(Ok)
                            .unwrap_or_else(|| object(&n.attributes, item, &here))
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::List),
                _ => Err(format!("{path}: expected a list")),
            },
            Nesting::Map => match json {
                J::Object(entries) => entries
                    .iter()
                    .map(|(k, item)| {
                        let here = format!("{path}[{k:?}]");
                        let v = null_or_unknown(item)
                            .map(Ok)
                            .unwrap_or_else(|| object(&n.attributes, item, &here))?;
                        Ok((k.clone(), v))
                    })
                    .collect::<Result<_, String>>()
                    .map(Value::Map),
                _ => Err(format!("{path}: expected a map")),
            },
        },
    }
}

fn null_or_unknown(json: &J) -> Option<Value> {
    match json {
        J::Null => Some(Value::Null),
        J::String(s) if s == UNKNOWN => Some(Value::UNKNOWN),
        _ => None,
    }
}

/// Converts like Terraform: numbers and bools become strings where a string
/// is expected, and numeric strings become numbers.
fn typed(t: &Type, json: &J, path: &str) -> Result<Value, String> {
    if let Some(special) = null_or_unknown(json) {
        return Ok(special);
    }
    match (t, json) {
        (Type::String, J::String(s)) => Ok(Value::string(s.clone())),
        (Type::String, J::Number(n)) => Ok(Value::string(n.to_string())),
        (Type::String, J::Bool(b)) => Ok(Value::string(b.to_string())),
        (Type::Number, J::Number(n)) => Number::from_str(&n.to_string())
            .map(Value::Number)
            .map_err(|e| format!("{path}: {e}")),
        (Type::Number, J::String(s)) => Number::from_str(s)
            .map(Value::Number)
            .map_err(|e| format!("{path}: {e}")),
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::List(elem), J::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| typed(elem, item, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Type::Map(elem), J::Object(entries)) => entries
            .iter()
            .map(|(k, item)| Ok((k.clone(), typed(elem, item, &format!("{path}[{k:?}]"))?)))
            .collect::<Result<_, String>>()
            .map(Value::Map),
        _ => Err(format!("{path}: {json} does not fit type {}", t.to_json())),
    }
}

/// The Planton defaults a plan fills in, added to a configuration's JSON.
pub fn with_defaults(mut config: J) -> J {
    if let Some(spec) = config["spec"].as_object_mut() {
        for (k, v) in [
            ("create_namespace", json!(false)),
            ("parallelism", json!(1)),
            ("completions", json!(1)),
            ("backoff_limit", json!(6)),
            ("completion_mode", json!("NonIndexed")),
            ("restart_policy", json!("Never")),
            ("suspend", json!(false)),
            (
                "resources",
                json!({"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "100Mi"}}),
            ),
        ] {
            spec.entry(k).or_insert(v);
        }
    }
    if let Some(root) = config.as_object_mut() {
        root.entry("wait_for_completion").or_insert(json!(true));
        root.entry("after_ttl_deletion").or_insert(json!("keep"));
        root.entry("delete_propagation")
            .or_insert(json!("Background"));
    }
    config
}
