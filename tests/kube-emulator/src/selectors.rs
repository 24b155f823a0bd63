//! Label selectors (equality- and set-based) and field selectors, as list and watch take them.

use serde_json::Value;

use crate::meta;
use crate::status::ApiError;

#[derive(Clone, Debug, PartialEq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

impl LabelSelector {
    /// Parse the `labelSelector` query parameter syntax.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part).map_err(|why| {
                ApiError::bad_request(format!("unable to parse requirement: {why}"))
            })?);
        }
        Ok(Self { reqs })
    }

    /// Build from a `metav1.LabelSelector` object (matchLabels, matchExpressions).
    pub fn from_object(sel: &Value) -> Option<Self> {
        let mut reqs = Vec::new();
        for (k, v) in meta::string_map(sel.get("matchLabels")) {
            reqs.push(Requirement::Eq(k.to_string(), v.to_string()));
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e.get("key")?.as_str()?.to_string();
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            reqs.push(match e.get("operator")?.as_str()? {
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::NotExists(key),
                _ => return None,
            });
        }
        Some(Self { reqs })
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether a label set matches.
    pub fn matches(&self, labels: &[(&str, &str)]) -> bool {
        let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
        self.reqs.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }

    /// Whether an object's labels match.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.is_empty() || self.matches(&meta::labels(obj))
    }
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        return if valid_key(key) {
            Ok(Requirement::NotExists(key.into()))
        } else {
            Err(format!("invalid label key {key:?}"))
        };
    }
    for (op, neg) in [(" notin ", true), (" in ", false)] {
        if let Some(idx) = part.find(op) {
            let key = part[..idx].trim();
            let rest = part[idx + op.len()..].trim();
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("found '{rest}', expected: '('"))?;
            let values: Vec<String> = inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if !valid_key(key) || values.iter().any(|v| !valid_value(v)) {
                return Err(format!("invalid requirement {part:?}"));
            }
            return Ok(if neg {
                Requirement::NotIn(key.into(), values)
            } else {
                Requirement::In(key.into(), values)
            });
        }
    }
    for (op, kind) in [("!=", 0), ("==", 1), ("=", 1)] {
        if let Some(idx) = part.find(op) {
            let key = part[..idx].trim();
            let value = part[idx + op.len()..].trim();
            if !valid_key(key) || !valid_value(value) {
                return Err(format!("invalid requirement {part:?}"));
            }
            return Ok(if kind == 0 {
                Requirement::NotEq(key.into(), value.into())
            } else {
                Requirement::Eq(key.into(), value.into())
            });
        }
    }
    if valid_key(part) {
        Ok(Requirement::Exists(part.into()))
    } else {
        Err(format!("invalid label key {part:?}"))
    }
}

/// A parsed field selector: `a=b`, `a==b`, `a!=b`, comma-separated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parse, checking the fields the resource supports (kube-apiserver refuses others).
    pub fn parse(s: &str, kind: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, eq, value) = if let Some(i) = part.find("!=") {
                (&part[..i], false, &part[i + 2..])
            } else if let Some(i) = part.find("==") {
                (&part[..i], true, &part[i + 2..])
            } else if let Some(i) = part.find('=') {
                (&part[..i], true, &part[i + 1..])
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !supported_field(kind, field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self { reqs })
    }

    /// Whether an object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(field, eq, value)| {
            let actual = field_value(obj, field);
            (actual == *value) == *eq
        })
    }
}

fn supported_field(kind: &str, field: &str) -> bool {
    if field == "metadata.name" || field == "metadata.namespace" {
        return true;
    }
    match kind {
        "Pod" => matches!(
            field,
            "spec.nodeName"
                | "spec.restartPolicy"
                | "spec.schedulerName"
                | "spec.serviceAccountName"
                | "spec.hostNetwork"
                | "status.phase"
                | "status.podIP"
                | "status.nominatedNodeName"
        ),
        "Event" => matches!(
            field,
            "involvedObject.kind"
                | "involvedObject.namespace"
                | "involvedObject.name"
                | "involvedObject.uid"
                | "involvedObject.apiVersion"
                | "involvedObject.resourceVersion"
                | "involvedObject.fieldPath"
                | "reason"
                | "reportingComponent"
                | "source"
                | "type"
        ),
        "Namespace" => field == "status.phase",
        "Secret" => field == "type",
        "Job" => field == "status.successful",
        _ => false,
    }
}

fn field_value(obj: &Value, field: &str) -> String {
    let path: Vec<&str> = field.split('.').collect();
    match field {
        "status.successful" => meta::get_i64(obj, &["status", "succeeded"])
            .unwrap_or(0)
            .to_string(),
        "spec.hostNetwork" => meta::get_bool(obj, &["spec", "hostNetwork"])
            .unwrap_or(false)
            .to_string(),
        "source" => meta::get_str(obj, &["source", "component"])
            .unwrap_or("")
            .to_string(),
        _ => match meta::get(obj, &path) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_based_selectors_match() {
        let s = LabelSelector::parse("app in (a, b),tier!=db,!legacy,env").unwrap_or_default();
        assert!(s.matches(&[("app", "a"), ("tier", "web"), ("env", "x")]));
        assert!(!s.matches(&[("app", "c"), ("env", "x")]));
        assert!(!s.matches(&[("app", "a"), ("env", "x"), ("legacy", "1")]));
        assert!(LabelSelector::parse("a in b").is_err());
    }

    #[test]
    fn field_selectors_check_supported_fields() {
        assert!(FieldSelector::parse("metadata.name=x", "Job").is_ok());
        assert!(FieldSelector::parse("spec.foo=x", "Job").is_err());
        let s = FieldSelector::parse("status.phase!=Running", "Pod").unwrap_or_default();
        assert!(s.matches(&serde_json::json!({"status": {"phase": "Pending"}})));
    }
}
