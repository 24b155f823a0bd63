//! Non-apply patches: JSON merge patch (RFC 7386), strategic merge patch (lists
//! with a `patchMergeKey` merge by key; `$patch`, `$setElementOrder`,
//! `$deleteFromPrimitiveList` and `$retainKeys` directives) and JSON patch (RFC 6902).

use serde_json::{Map, Value};

use crate::schema;
use crate::status::ApiError;

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = match target {
                Value::Object(t) => t.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let cur = out.get(k).cloned().unwrap_or(Value::Null);
                    out.insert(k.clone(), merge_patch(&cur, v));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Strategic merge patch of an object of `kind`.
pub fn strategic_merge_patch(kind: &str, target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let mut path = Vec::new();
    smp_value(kind, target, patch, &mut path)
}

fn smp_value(
    kind: &str,
    target: &Value,
    patch: &Value,
    path: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let Value::Object(p) = patch else {
        return Ok(patch.clone());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut rest = p.clone();
            rest.remove("$patch");
            return Ok(Value::Object(rest));
        }
        Some("delete") => return Ok(Value::Null),
        Some("merge") | None => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown patch type: {other}"
            )));
        }
    }
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    let mut retain: Option<Vec<String>> = None;
    for (k, v) in p {
        if k == "$patch" {
            continue;
        }
        if k == "$retainKeys" {
            retain = v.as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            });
            continue;
        }
        if k.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(del)) = (out.get_mut(list), v.as_array()) {
                items.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            out.remove(k);
            continue;
        }
        path.push(k.clone());
        let cur = out.get(k).cloned().unwrap_or(Value::Null);
        let merged = match v {
            Value::Object(_) => smp_value(kind, &cur, v, path)?,
            Value::Array(items) => smp_list(kind, &cur, items, path)?,
            other => other.clone(),
        };
        path.pop();
        if merged.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), merged);
        }
    }
    // Apply element orders after merging.
    for (k, v) in p {
        if let (Some(list), Some(order)) = (k.strip_prefix("$setElementOrder/"), v.as_array()) {
            path.push(list.to_string());
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let key = schema::patch_merge_key(kind, &refs);
            path.pop();
            if let Some(Value::Array(items)) = out.get_mut(list) {
                reorder(items, order, key);
            }
        }
    }
    if let Some(keys) = retain {
        out.retain(|k, _| keys.contains(k));
    }
    Ok(Value::Object(out))
}

fn reorder(items: &mut Vec<Value>, order: &[Value], key: Option<&str>) {
    let ident = |v: &Value| -> Value {
        match key {
            Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let mut sorted = Vec::with_capacity(items.len());
    for o in order {
        let want = ident(o);
        if let Some(pos) = items.iter().position(|it| ident(it) == want) {
            sorted.push(items.remove(pos));
        }
    }
    sorted.append(items);
    *items = sorted;
}

fn smp_list(
    kind: &str,
    target: &Value,
    patch: &[Value],
    path: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let key = schema::patch_merge_key(kind, &refs);
    let scalars = schema::patch_merges_scalars(&refs);
    let current: Vec<Value> = match target {
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    if patch
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(Value::Array(
            patch
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .cloned()
                .collect(),
        ));
    }
    if scalars {
        let mut out = current;
        for item in patch {
            if !out.contains(item) {
                out.push(item.clone());
            }
        }
        return Ok(Value::Array(out));
    }
    let Some(key) = key else {
        return Ok(Value::Array(patch.to_vec()));
    };
    let mut out = current;
    path.push("[]".to_string());
    for item in patch {
        let id = item.get(key).cloned().unwrap_or(Value::Null);
        let pos = out.iter().position(|x| x.get(key) == Some(&id));
        if item.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(pos) = pos {
                out.remove(pos);
            }
            continue;
        }
        match pos {
            Some(pos) => {
                let merged = smp_value(kind, &out[pos], item, path)?;
                out[pos] = merged;
            }
            None => {
                let fresh = smp_value(kind, &Value::Null, item, path)?;
                out.push(fresh);
            }
        }
    }
    path.pop();
    Ok(Value::Array(out))
}

/// RFC 6902 JSON patch.
pub fn json_patch(target: &Value, ops: &Value) -> Result<Value, ApiError> {
    let ops = ops.as_array().ok_or_else(|| {
        ApiError::bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    })?;
    let mut doc = target.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let fail = |why: &str| ApiError::internal(why.to_string());
        match name {
            "add" => {
                let v = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| fail("missing value"))?;
                pointer_add(&mut doc, path, v).map_err(|e| fail(&e))?;
            }
            "remove" => {
                pointer_remove(&mut doc, path).map_err(|e| fail(&e))?;
            }
            "replace" => {
                let v = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| fail("missing value"))?;
                let slot = doc.pointer_mut(path).ok_or_else(|| {
                    fail(&format!(
                        "replace operation does not apply: doc is missing key: {path}"
                    ))
                })?;
                *slot = v;
            }
            "test" => {
                let v = op.get("value").cloned().unwrap_or(Value::Null);
                if doc.pointer(path) != Some(&v) {
                    return Err(fail(&format!("testing value {path} failed: test failed")));
                }
            }
            "move" | "copy" => {
                let from = op.get("from").and_then(Value::as_str).unwrap_or("");
                let v = doc.pointer(from).cloned().ok_or_else(|| {
                    fail(&format!(
                        "{name} operation does not apply: doc is missing from path: {from}"
                    ))
                })?;
                if name == "move" {
                    pointer_remove(&mut doc, from).map_err(|e| fail(&e))?;
                }
                pointer_add(&mut doc, path, v).map_err(|e| fail(&e))?;
            }
            other => return Err(ApiError::bad_request(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(doc)
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    let idx = path
        .rfind('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    let last = path[idx + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..idx].to_string(), last))
}

fn pointer_add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    let container = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("add operation does not apply: doc is missing path: {path:?}"))?;
    match container {
        Value::Object(m) => {
            m.insert(last, v);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(v);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i > a.len() {
                return Err(format!(
                    "add operation does not apply: index {i} out of bounds"
                ));
            }
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!(
            "add operation does not apply: doc is missing path: {path:?}"
        )),
    }
}

fn pointer_remove(doc: &mut Value, path: &str) -> Result<(), String> {
    let (parent, last) = split_pointer(path)?;
    let container = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("remove operation does not apply: doc is missing path: {path:?}"))?;
    match container {
        Value::Object(m) => m.remove(&last).map(|_| ()).ok_or_else(|| {
            format!("remove operation does not apply: doc is missing path: {path:?}")
        }),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!(
                    "remove operation does not apply: doc is missing path: {path:?}"
                ));
            }
            a.remove(i);
            Ok(())
        }
        _ => Err(format!(
            "remove operation does not apply: doc is missing path: {path:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_containers_and_env_by_name() {
        let target = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}]},
            {"name": "b", "image": "y"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "env": [{"name": "B", "value": "2"}]},
            {"name": "b", "$patch": "delete"}
        ]}}}});
        let out = strategic_merge_patch("Job", &target, &patch).unwrap_or_default();
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().map(Vec::len), Some(1));
        assert_eq!(cs[0]["image"], "x");
        assert_eq!(cs[0]["env"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn merge_patch_removes_nulls() {
        let out = merge_patch(
            &json!({"a": 1, "b": {"c": 2}}),
            &json!({"a": null, "b": {"d": 3}}),
        );
        assert_eq!(out, json!({"b": {"c": 2, "d": 3}}));
    }

    #[test]
    fn json_patch_applies_ops() {
        let out = json_patch(
            &json!({"a": [1]}),
            &json!([{"op": "add", "path": "/a/-", "value": 2}, {"op": "replace", "path": "/a/0", "value": 0}]),
        );
        assert_eq!(out.ok(), Some(json!({"a": [0, 2]})));
    }
}
