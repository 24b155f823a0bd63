//! Server-side apply and managedFields, after sigs.k8s.io/structured-merge-diff.
//!
//! Field ownership is a set of paths per manager, stored in `metadata.managedFields`
//! as FieldsV1 (`f:` fields, `k:` keyed list items, `v:` set values, `.` for a node
//! that is itself a member). An apply merges the configuration into the live object,
//! fails with 409 when it changes a field another manager owns (unless forced),
//! becomes the applier's new set, and prunes fields the applier dropped that nobody
//! else owns. Other writes (create, update, patch) are "Update" operations: their
//! manager takes the fields they changed.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::meta;
use crate::schema::{self, ListKind};
use crate::status::ApiError;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pe {
    /// A struct field or map key.
    Field(String),
    /// A keyed list item; the canonical JSON of its key fields.
    Key(String),
    /// A set item; its JSON.
    Val(String),
    /// A positional list item.
    Index(usize),
}

/// A path from the object root.
pub type FieldPath = Vec<Pe>;
/// A set of paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Manager {
    /// `manager`
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion`
    pub api_version: String,
    /// `time`
    pub time: Option<String>,
    /// `subresource` (empty for the main resource).
    pub subresource: String,
    /// The owned paths.
    pub set: FieldSet,
}

impl Manager {
    fn same_identity(&self, other: &Manager) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
    }
}

fn pe_key(pe: &Pe) -> String {
    match pe {
        Pe::Field(f) => format!("f:{f}"),
        Pe::Key(k) => format!("k:{k}"),
        Pe::Val(v) => format!("v:{v}"),
        Pe::Index(i) => format!("i:{i}"),
    }
}

fn parse_pe(s: &str) -> Option<Pe> {
    let (prefix, rest) = s.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Pe::Field(rest.to_string())),
        "k:" => Some(Pe::Key(rest.to_string())),
        "v:" => Some(Pe::Val(rest.to_string())),
        "i:" => rest.parse().ok().map(Pe::Index),
        _ => None,
    }
}

/// How conflicts name a path: `.spec.template.spec.containers[name="c"].image`.
pub fn path_string(path: &[Pe]) -> String {
    let mut s = String::new();
    for pe in path {
        match pe {
            Pe::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Pe::Key(k) => {
                let obj: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
                let parts: Vec<String> = obj.iter().map(|(k, v)| format!("{k}={v}")).collect();
                s.push_str(&format!("[{}]", parts.join(",")));
            }
            Pe::Val(v) => s.push_str(&format!("[={v}]")),
            Pe::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Encode a set as FieldsV1 JSON.
pub fn encode_set(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Node {
        member: bool,
        children: std::collections::BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for path in set {
        let mut node = &mut root;
        for pe in path {
            node = node.children.entry(pe_key(pe)).or_default();
        }
        node.member = true;
    }
    fn render(n: &Node) -> Value {
        let mut m = Map::new();
        if n.member && !n.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, c) in &n.children {
            m.insert(k.clone(), render(c));
        }
        Value::Object(m)
    }
    render(&root)
}

/// Decode FieldsV1 JSON.
pub fn decode_set(v: &Value) -> FieldSet {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        for (k, child) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            let Some(pe) = parse_pe(k) else { continue };
            path.push(pe);
            if child.as_object().is_some_and(Map::is_empty) {
                out.insert(path.clone());
            } else {
                walk(child, path, out);
            }
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// The managers recorded on an object.
pub fn managers_of(obj: &Value) -> Vec<Manager> {
    meta::get(obj, &["metadata", "managedFields"])
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| Manager {
                    manager: e
                        .get("manager")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    operation: e
                        .get("operation")
                        .and_then(Value::as_str)
                        .unwrap_or("Update")
                        .to_string(),
                    api_version: e
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    time: e.get("time").and_then(Value::as_str).map(str::to_string),
                    subresource: e
                        .get("subresource")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    set: e.get("fieldsV1").map(decode_set).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Write managers into `metadata.managedFields`, sorted as kube-apiserver sorts them.
pub fn set_managers(obj: &mut Value, mut managers: Vec<Manager>) {
    managers.retain(|m| !m.set.is_empty());
    managers.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let entries: Vec<Value> = managers
        .iter()
        .map(|m| {
            let mut e = Map::new();
            e.insert("manager".into(), json!(m.manager));
            e.insert("operation".into(), json!(m.operation));
            e.insert("apiVersion".into(), json!(m.api_version));
            if let Some(t) = &m.time {
                e.insert("time".into(), json!(t));
            }
            e.insert("fieldsType".into(), json!("FieldsV1"));
            e.insert("fieldsV1".into(), encode_set(&m.set));
            if !m.subresource.is_empty() {
                e.insert("subresource".into(), json!(m.subresource));
            }
            Value::Object(e)
        })
        .collect();
    if entries.is_empty() {
        meta::remove(obj, &["metadata", "managedFields"]);
    } else {
        meta::set(obj, &["metadata", "managedFields"], Value::Array(entries));
    }
}

fn key_of(item: &Value, keys: &[&str]) -> String {
    let mut m = Map::new();
    let mut sorted: Vec<&&str> = keys.iter().collect();
    sorted.sort();
    for k in sorted {
        if let Some(v) = item.get(*k) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    serde_json::to_string(&Value::Object(m)).unwrap_or_default()
}

fn item_pe(kind: ListKind, item: &Value) -> Pe {
    match kind {
        ListKind::Map(keys) => Pe::Key(key_of(item, keys)),
        _ => Pe::Val(serde_json::to_string(item).unwrap_or_default()),
    }
}

/// The set of an applied configuration (structured-merge-diff `ToFieldSet`).
pub fn to_field_set(kind: &str, v: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    collect(kind, v, &mut Vec::new(), &mut Vec::new(), &mut out);
    out
}

fn collect(
    kind: &str,
    v: &Value,
    path: &mut FieldPath,
    spath: &mut Vec<String>,
    out: &mut FieldSet,
) {
    let srefs: Vec<&str> = spath.iter().map(String::as_str).collect();
    match v {
        Value::Object(m) if !schema::is_atomic_struct(kind, &srefs) => {
            for (k, child) in m {
                path.push(Pe::Field(k.clone()));
                spath.push(k.clone());
                collect(kind, child, path, spath, out);
                if child.is_null() || child.as_object().is_some_and(Map::is_empty) {
                    out.insert(path.clone());
                }
                spath.pop();
                path.pop();
            }
        }
        Value::Array(items) => match schema::list_kind(kind, &srefs) {
            ListKind::Atomic => {
                out.insert(path.clone());
            }
            lk => {
                for item in items {
                    path.push(item_pe(lk, item));
                    if matches!(lk, ListKind::Map(_)) {
                        spath.push("[]".into());
                        collect(kind, item, path, spath, out);
                        spath.pop();
                    }
                    out.insert(path.clone());
                    path.pop();
                }
            }
        },
        _ => {
            out.insert(path.clone());
        }
    }
}

/// Paths that changed between two objects.
#[derive(Debug, Default)]
pub struct Comparison {
    /// New paths.
    pub added: FieldSet,
    /// Changed values.
    pub modified: FieldSet,
    /// Paths that disappeared.
    pub removed: FieldSet,
}

/// Compare two objects (structured-merge-diff `Compare`): a node absent before
/// and present after is Added (maps and lists too, which gives FieldsV1 its `.`
/// entries); a JSON null counts as present, as in the Go zero value a create is
/// compared against.
pub fn compare(kind: &str, old: &Value, new: &Value) -> Comparison {
    let mut c = Comparison::default();
    cmp(
        kind,
        Some(old),
        Some(new),
        &mut Vec::new(),
        &mut Vec::new(),
        &mut c,
    );
    c
}

fn srefs(spath: &[String]) -> Vec<&str> {
    spath.iter().map(String::as_str).collect()
}

fn is_container(kind: &str, v: &Value, spath: &[String]) -> bool {
    match v {
        Value::Object(m) => !m.is_empty() && !schema::is_atomic_struct(kind, &srefs(spath)),
        Value::Array(a) => {
            !a.is_empty() && schema::list_kind(kind, &srefs(spath)) != ListKind::Atomic
        }
        _ => false,
    }
}

fn cmp(
    kind: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut FieldPath,
    spath: &mut Vec<String>,
    c: &mut Comparison,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => added_subtree(kind, n, path, spath, c, true),
        (Some(o), None) => removed_subtree(kind, o, path, spath, c, true),
        (Some(Value::Null), Some(n)) if is_container(kind, n, spath) => {
            added_subtree(kind, n, path, spath, c, false)
        }
        (Some(o), Some(Value::Null)) if is_container(kind, o, spath) => {
            removed_subtree(kind, o, path, spath, c, false)
        }
        (Some(Value::Object(o)), Some(Value::Object(n)))
            if is_container(kind, old.unwrap_or(&Value::Null), spath)
                || is_container(kind, new.unwrap_or(&Value::Null), spath) =>
        {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                path.push(Pe::Field(k.clone()));
                spath.push(k.clone());
                cmp(kind, o.get(k), n.get(k), path, spath, c);
                spath.pop();
                path.pop();
            }
        }
        (Some(Value::Array(oa)), Some(Value::Array(na)))
            if schema::list_kind(kind, &srefs(spath)) != ListKind::Atomic
                && (!oa.is_empty() || !na.is_empty()) =>
        {
            let lk = schema::list_kind(kind, &srefs(spath));
            let ids = |a: &Vec<Value>| -> Vec<(Pe, Value)> {
                a.iter().map(|i| (item_pe(lk, i), i.clone())).collect()
            };
            let (oi, ni) = (ids(oa), ids(na));
            for (pe, item) in &oi {
                let other = ni.iter().find(|(p, _)| p == pe).map(|(_, v)| v);
                path.push(pe.clone());
                list_item_cmp(kind, lk, Some(item), other, path, spath, c);
                path.pop();
            }
            for (pe, item) in &ni {
                if !oi.iter().any(|(p, _)| p == pe) {
                    path.push(pe.clone());
                    list_item_cmp(kind, lk, None, Some(item), path, spath, c);
                    path.pop();
                }
            }
        }
        (Some(o), Some(n)) => {
            if o != n {
                c.modified.insert(path.clone());
            }
        }
    }
}

fn list_item_cmp(
    kind: &str,
    lk: ListKind,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut FieldPath,
    spath: &mut Vec<String>,
    c: &mut Comparison,
) {
    match lk {
        ListKind::Map(_) => {
            spath.push("[]".into());
            cmp(kind, old, new, path, spath, c);
            spath.pop();
        }
        _ => match (old, new) {
            (None, Some(_)) => {
                c.added.insert(path.clone());
            }
            (Some(_), None) => {
                c.removed.insert(path.clone());
            }
            _ => {}
        },
    }
}

fn added_subtree(
    kind: &str,
    v: &Value,
    path: &mut FieldPath,
    spath: &mut Vec<String>,
    c: &mut Comparison,
    include_self: bool,
) {
    if include_self && !v.is_null() {
        c.added.insert(path.clone());
    }
    if !is_container(kind, v, spath) {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if child.is_null() {
                    continue;
                }
                path.push(Pe::Field(k.clone()));
                spath.push(k.clone());
                added_subtree(kind, child, path, spath, c, true);
                spath.pop();
                path.pop();
            }
        }
        Value::Array(items) => {
            let lk = schema::list_kind(kind, &srefs(spath));
            for item in items {
                path.push(item_pe(lk, item));
                if matches!(lk, ListKind::Map(_)) {
                    spath.push("[]".into());
                    added_subtree(kind, item, path, spath, c, true);
                    spath.pop();
                } else {
                    c.added.insert(path.clone());
                }
                path.pop();
            }
        }
        _ => {}
    }
}

fn removed_subtree(
    kind: &str,
    v: &Value,
    path: &mut FieldPath,
    spath: &mut Vec<String>,
    c: &mut Comparison,
    include_self: bool,
) {
    let mut tmp = Comparison::default();
    added_subtree(kind, v, path, spath, &mut tmp, include_self);
    c.removed.extend(tmp.added);
}

/// Paths no manager owns: type meta, system metadata, and per subresource the
/// part the other endpoint owns (kube-apiserver's reset fields).
fn ignored(path: &FieldPath, subresource: &str, kind: &str) -> bool {
    let f = |i: usize| match path.get(i) {
        Some(Pe::Field(s)) => Some(s.as_str()),
        _ => None,
    };
    match (f(0), f(1)) {
        (Some("apiVersion" | "kind"), _) => return true,
        (Some("metadata"), None) => return true,
        (
            Some("metadata"),
            Some(
                "name"
                | "namespace"
                | "uid"
                | "resourceVersion"
                | "generation"
                | "creationTimestamp"
                | "managedFields"
                | "selfLink"
                | "deletionTimestamp"
                | "deletionGracePeriodSeconds",
            ),
        ) => return true,
        _ => {}
    }
    let has_status = matches!(kind, "Job" | "Pod" | "Namespace");
    match subresource {
        "status" => f(0) != Some("status") && f(0) != Some("metadata"),
        _ => has_status && f(0) == Some("status"),
    }
}

fn filter_ignored(set: FieldSet, subresource: &str, kind: &str) -> FieldSet {
    set.into_iter()
        .filter(|p| !ignored(p, subresource, kind))
        .collect()
}

/// The Go zero value of a kind as JSON (what a create is compared against).
pub fn zero_object(kind: &str) -> Value {
    match kind {
        "Job" => json!({
            "metadata": {},
            "spec": {"template": {"metadata": {}, "spec": {"containers": null}}},
            "status": {}
        }),
        "Pod" => json!({"metadata": {}, "spec": {"containers": null}, "status": {}}),
        "Namespace" => json!({"metadata": {}, "spec": {}, "status": {}}),
        _ => json!({"metadata": {}}),
    }
}

fn strip_meta(v: &Value) -> Value {
    let mut v = v.clone();
    meta::remove(&mut v, &["metadata", "managedFields"]);
    meta::remove(&mut v, &["metadata", "resourceVersion"]);
    v
}

/// Record an Update operation by `manager` that turned `old` into `new`
/// (`old` None for a create). Writes `new`'s managedFields.
pub fn record_update(
    kind: &str,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    api_version: &str,
    now: &str,
) {
    let base = old.map(strip_meta).unwrap_or_else(|| zero_object(kind));
    // A request that rewrites managedFields (to hand fields to another
    // manager, or turn an Update entry into an Apply entry) is taken at its
    // word, as kube-apiserver does; an empty list keeps the old ones.
    let given = managers_of(new);
    let mut managers = if !given.is_empty()
        && meta::get(new, &["metadata", "managedFields"])
            != old.and_then(|o| meta::get(o, &["metadata", "managedFields"]))
    {
        given
    } else {
        old.map(managers_of).unwrap_or_default()
    };
    let cmp = compare(kind, &base, &strip_meta(new));
    let changed: FieldSet = filter_ignored(
        cmp.added.union(&cmp.modified).cloned().collect(),
        subresource,
        kind,
    );
    let removed = filter_ignored(cmp.removed, subresource, kind);
    for m in &mut managers {
        m.set
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    if !changed.is_empty() || !removed.is_empty() {
        let me = Manager {
            manager: manager.to_string(),
            operation: "Update".into(),
            api_version: api_version.into(),
            time: Some(now.to_string()),
            subresource: subresource.to_string(),
            set: FieldSet::new(),
        };
        let idx = match managers.iter().position(|m| m.same_identity(&me)) {
            Some(i) => i,
            None => {
                managers.push(me);
                managers.len() - 1
            }
        };
        let entry = &mut managers[idx];
        entry.set.retain(|p| !removed.contains(p));
        entry.set.extend(changed);
        entry.time = Some(now.to_string());
    }
    set_managers(new, managers);
}

/// Merge an applied configuration into a live object (structured-merge-diff `Merge`).
pub fn merge(kind: &str, live: &Value, config: &Value) -> Value {
    merge_at(kind, live, config, &mut Vec::new())
}

fn merge_at(kind: &str, live: &Value, config: &Value, spath: &mut Vec<String>) -> Value {
    let srefs: Vec<&str> = spath.iter().map(String::as_str).collect();
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !schema::is_atomic_struct(kind, &srefs) => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                spath.push(k.clone());
                let lv = l.get(k).cloned().unwrap_or(Value::Null);
                out.insert(k.clone(), merge_at(kind, &lv, cv, spath));
                spath.pop();
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match schema::list_kind(kind, &srefs) {
            ListKind::Atomic => config.clone(),
            lk => {
                spath.push("[]".into());
                let out = merge_list(kind, lk, l, c, spath);
                spath.pop();
                Value::Array(out)
            }
        },
        (_, Value::Object(c)) if !schema::is_atomic_struct(kind, &srefs) => merge_at(
            kind,
            &Value::Object(Map::new()),
            &Value::Object(c.clone()),
            spath,
        ),
        _ => config.clone(),
    }
}

/// Merge keyed or set lists in structured-merge-diff's order: items in both
/// follow the configuration's order, live-only items keep their places.
fn merge_list(
    kind: &str,
    lk: ListKind,
    live: &[Value],
    config: &[Value],
    spath: &mut Vec<String>,
) -> Vec<Value> {
    let lhs: Vec<(Pe, &Value)> = live.iter().map(|v| (item_pe(lk, v), v)).collect();
    let rhs: Vec<(Pe, &Value)> = config.iter().map(|v| (item_pe(lk, v), v)).collect();
    let in_lhs = |pe: &Pe| lhs.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
    let in_rhs = |pe: &Pe| rhs.iter().any(|(p, _)| p == pe);
    let mut shared: std::collections::VecDeque<&Pe> = rhs
        .iter()
        .map(|(p, _)| p)
        .filter(|p| in_lhs(p).is_some())
        .collect();
    let mut next_shared = shared.pop_front();
    let merge_item = |l: Option<&Value>, r: &Value, spath: &mut Vec<String>| -> Value {
        match lk {
            ListKind::Map(_) => merge_at(kind, l.unwrap_or(&Value::Null), r, spath),
            _ => r.clone(),
        }
    };
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let pe = &lhs[li].0;
            if *pe == rhs[ri].0 {
                out.push(merge_item(Some(lhs[li].1), rhs[ri].1, spath));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if in_rhs(pe) && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() && !in_rhs(&lhs[li].0) {
            out.push(lhs[li].1.clone());
            li += 1;
            continue;
        }
        if ri < rhs.len() {
            let pe = &rhs[ri].0;
            out.push(merge_item(in_lhs(pe), rhs[ri].1, spath));
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        } else {
            li += 1;
        }
    }
    out
}

/// Remove the value at a path (no-op when absent).
pub fn remove_path(v: &mut Value, path: &[Pe], kind: &str) {
    fn go(v: &mut Value, path: &[Pe], kind: &str, spath: &mut Vec<String>) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        match (first, v) {
            (Pe::Field(f), Value::Object(m)) => {
                if rest.is_empty() {
                    m.remove(f);
                    return;
                }
                if let Some(child) = m.get_mut(f) {
                    spath.push(f.clone());
                    go(child, rest, kind, spath);
                    spath.pop();
                }
            }
            (pe @ (Pe::Key(_) | Pe::Val(_)), Value::Array(items)) => {
                let srefs: Vec<&str> = spath.iter().map(String::as_str).collect();
                let lk = schema::list_kind(kind, &srefs);
                let Some(i) = items.iter().position(|x| &item_pe(lk, x) == pe) else {
                    return;
                };
                if rest.is_empty() {
                    items.remove(i);
                } else {
                    spath.push("[]".into());
                    go(&mut items[i], rest, kind, spath);
                    spath.pop();
                }
            }
            (Pe::Index(i), Value::Array(items)) => {
                if rest.is_empty() {
                    if *i < items.len() {
                        items.remove(*i);
                    }
                } else if let Some(child) = items.get_mut(*i) {
                    go(child, rest, kind, spath);
                }
            }
            _ => {}
        }
    }
    go(v, path, kind, &mut Vec::new());
}

/// The result of an apply before defaulting and validation.
pub struct Applied {
    /// The merged object, with managedFields written.
    pub object: Value,
}

/// Server-side apply of `config` by `manager` onto `live` (None: the object is new).
#[allow(clippy::too_many_arguments)]
pub fn apply(
    kind: &str,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    subresource: &str,
    api_version: &str,
    now: &str,
) -> Result<Applied, ApiError> {
    let live_plain = live.map(strip_meta).unwrap_or_else(|| json!({}));
    let mut managers = live.map(managers_of).unwrap_or_default();
    let mut cfg = config.clone();
    meta::remove(&mut cfg, &["metadata", "managedFields"]);
    meta::remove(&mut cfg, &["metadata", "resourceVersion"]);
    let new_set = filter_ignored(to_field_set(kind, &cfg), subresource, kind);
    let mut merged = merge(kind, &live_plain, &cfg);
    // For the status endpoint only status is applied; for the main one, not status.
    let cmp = compare(kind, &live_plain, &merged);
    let changed: FieldSet = filter_ignored(
        cmp.added.union(&cmp.modified).cloned().collect(),
        subresource,
        kind,
    );

    let me_template = Manager {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version: api_version.to_string(),
        time: Some(now.to_string()),
        subresource: subresource.to_string(),
        set: FieldSet::new(),
    };
    // Conflicts: fields another manager owns whose value this apply changes.
    let mut conflicts: Vec<(String, String, FieldPath)> = Vec::new();
    for m in &managers {
        if m.same_identity(&me_template) {
            continue;
        }
        for p in m.set.intersection(&changed) {
            conflicts.push((describe_manager(m), m.manager.clone(), p.clone()));
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    for m in &mut managers {
        if !m.same_identity(&me_template) {
            m.set.retain(|p| !changed.contains(p));
        }
    }
    // Prune what this manager applied before, dropped now, and nobody else owns.
    let previous = managers
        .iter()
        .find(|m| m.same_identity(&me_template))
        .map(|m| m.set.clone())
        .unwrap_or_default();
    let mut dropped: Vec<&FieldPath> = previous
        .difference(&new_set)
        .filter(|p| {
            !managers
                .iter()
                .any(|m| !m.same_identity(&me_template) && m.set.contains(*p))
        })
        .filter(|p| !new_set.iter().any(|q| q.starts_with(p)))
        .collect();
    dropped.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in dropped {
        remove_path(&mut merged, p, kind);
    }
    let changed_fields_or_set = previous != new_set || live_plain != merged;
    match managers.iter_mut().find(|m| m.same_identity(&me_template)) {
        Some(m) => {
            if changed_fields_or_set {
                m.time = Some(now.to_string());
            }
            m.set = new_set;
        }
        None => {
            let mut m = me_template;
            m.set = new_set;
            managers.push(m);
        }
    }
    if let Some(live) = live
        && let Some(rv) = meta::get(live, &["metadata", "resourceVersion"])
    {
        meta::set(&mut merged, &["metadata", "resourceVersion"], rv.clone());
    }
    set_managers(&mut merged, managers);
    Ok(Applied { object: merged })
}

/// How conflicts name a manager: its identifier never carries a time, and an
/// applier's not even its apiVersion.
fn describe_manager(m: &Manager) -> String {
    let mut s = crate::status::go_quote(&m.manager);
    if !m.subresource.is_empty() {
        s = format!(
            "{s} with subresource {}",
            crate::status::go_quote(&m.subresource)
        );
    }
    if m.operation == "Update" {
        format!("{s} using {}", m.api_version)
    } else {
        s
    }
}

fn conflict_error(conflicts: &[(String, String, FieldPath)]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(desc, _, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {desc}"), "field": path_string(p)}))
        .collect();
    let message = if conflicts.len() == 1 {
        let (desc, _, p) = &conflicts[0];
        format!(
            "Apply failed with 1 conflict: conflict with {desc}: {}",
            path_string(p)
        )
    } else {
        let mut by_manager: std::collections::BTreeMap<&str, Vec<String>> =
            std::collections::BTreeMap::new();
        for (desc, _, p) in conflicts {
            by_manager
                .entry(desc.as_str())
                .or_default()
                .push(path_string(p));
        }
        let mut lines = Vec::new();
        for (desc, paths) in by_manager {
            lines.push(format!("conflicts with {desc}:"));
            for p in paths {
                lines.push(format!("- {p}"));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::apply_conflict(message, causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `apply` of a ConfigMap (no subresource, v1, time "t").
    fn apply_cm(
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Applied, ApiError> {
        apply("ConfigMap", live, config, manager, force, "", "v1", "t")
    }

    #[test]
    fn fields_v1_round_trips_with_dot_for_members_with_children() {
        let cfg =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let set = to_field_set("Job", &cfg);
        let enc = encode_set(&set);
        assert_eq!(
            enc,
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        assert_eq!(decode_set(&enc), set);
    }

    #[test]
    fn second_manager_conflicts_unless_forced() {
        let live = apply_cm(None, &json!({"data": {"a": "1"}}), "m1", false).map(|a| a.object);
        let live = live.unwrap_or_default();
        let err = apply_cm(Some(&live), &json!({"data": {"a": "2"}}), "m2", false);
        let err = err.err().map(|e| e.message).unwrap_or_default();
        assert_eq!(
            err,
            "Apply failed with 1 conflict: conflict with \"m1\": .data.a"
        );
        let same = apply_cm(Some(&live), &json!({"data": {"a": "1"}}), "m2", false);
        assert!(same.is_ok());
        let forced = apply_cm(Some(&live), &json!({"data": {"a": "2"}}), "m2", true);
        let forced = forced.map(|a| a.object).unwrap_or_default();
        assert_eq!(forced["data"]["a"], "2");
        assert_eq!(managers_of(&forced).len(), 1);
    }

    #[test]
    fn dropped_fields_are_pruned() {
        let live = apply_cm(None, &json!({"data": {"a": "1", "b": "2"}}), "m1", false);
        let live = live.map(|a| a.object).unwrap_or_default();
        let next = apply_cm(Some(&live), &json!({"data": {"a": "1"}}), "m1", false);
        let next = next.map(|a| a.object).unwrap_or_default();
        assert_eq!(next["data"], json!({"a": "1"}));
    }

    #[test]
    fn create_records_dot_for_new_maps() {
        let mut new = json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "data": {"k": "v"}});
        record_update("ConfigMap", None, &mut new, "kubectl-create", "", "v1", "t");
        let fields = &new["metadata"]["managedFields"][0]["fieldsV1"];
        assert_eq!(
            *fields,
            json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
    }
}

#[cfg(test)]
mod update_tests {
    use super::*;

    #[test]
    fn create_of_job_marks_new_lists_but_not_zero_value_ones() {
        let mut job = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}]}],
            "volumes": [{"name": "v", "emptyDir": {}}]
        }}}});
        record_update("Job", None, &mut job, "kubectl-create", "", "batch/v1", "t");
        let f = &job["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"];
        assert!(f["f:containers"].get(".").is_none(), "{f}");
        assert!(f["f:volumes"].get(".").is_some(), "{f}");
        let c = &f["f:containers"]["k:{\"name\":\"c\"}"];
        assert!(c.get(".").is_some() && c["f:env"].get(".").is_some(), "{c}");
        assert_eq!(
            f["f:volumes"]["k:{\"name\":\"v\"}"]["f:emptyDir"],
            json!({})
        );
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    #[test]
    fn keyed_lists_follow_the_configuration_order() {
        let live = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "env": [
            {"name": "A", "value": "1"}, {"name": "X", "value": "x"}, {"name": "B", "value": "2"}
        ]}]}}}});
        let cfg = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "env": [
            {"name": "B", "value": "2"}, {"name": "A", "value": "9"}
        ]}]}}}});
        let out = merge("Job", &live, &cfg);
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["X", "B", "A"]);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["env"][2]["value"],
            "9"
        );
    }
}
