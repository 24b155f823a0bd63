//! Planton manifests and the resource's `metadata` and `spec`, both ways: the
//! provider functions `kubernetes_job_from_manifest` (a decoded
//! `KubernetesJob` manifest to values that assign to the resource as they
//! are) and `kubernetes_job_manifest` (the resource's values to a manifest
//! Planton's CLI accepts).
//!
//! Both walk the resource schema ([`super::schema`]), so a field added there
//! is understood here without further work. A manifest names each field in
//! protojson's lowerCamelCase (`volume_mounts` is `volumeMounts`), and, as
//! protojson does, also accepts the proto's snake_case name; the keys of map
//! fields (env variable names, ConfigMap names, labels) are data and are
//! kept exactly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::tf::function::{Function, FunctionError, Parameter, Signature};
use crate::tf::{Attribute, AttributeKind, Nesting, Number, Type, Value};

/// The `apiVersion` of every KubernetesJob manifest.
pub const API_VERSION: &str = "kubernetes.project-planton.org/v1";
/// The `kind` of every KubernetesJob manifest.
pub const KIND: &str = "KubernetesJob";

/// The function that reads a manifest.
pub const FROM_MANIFEST: &str = "kubernetes_job_from_manifest";
/// The function that writes a manifest.
pub const TO_MANIFEST: &str = "kubernetes_job_manifest";

/// The functions this module offers.
pub fn functions() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(FromManifest::new()), Arc::new(ToManifest::new())]
}

/// The top-level attributes a manifest carries (`metadata`, `spec`), from
/// the resource schema, in that order.
fn manifest_attributes() -> Vec<Attribute> {
    let schema = crate::kubernetes_job::model::schema::schema();
    ["metadata", "spec"]
        .iter()
        .filter_map(|name| schema.block.attribute(name).cloned())
        .collect()
}

/// The object type `kubernetes_job_from_manifest` returns: `metadata` and
/// `spec` exactly as the resource types them.
pub fn job_type() -> Type {
    Type::Object(
        manifest_attributes()
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect(),
    )
}

/// Whether a configuration can set the attribute (computed-only ones are
/// not Planton fields).
fn settable(a: &Attribute) -> bool {
    a.required || a.optional
}

/// lowerCamelCase of a snake_case name, as protojson names fields.
pub fn json_name(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Paths in error messages

/// One step from the root of a value.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Key(&'a str),
}

/// Where a value is: a chain of steps up to the root, built on the stack
/// while walking and rendered only for an error.
#[derive(Debug, Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    step: Step<'a>,
}

/// How a path is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notation {
    /// A manifest: `spec.env.variables.LOG_LEVEL.value`, `spec.volumeMounts[1]`.
    Manifest,
    /// Terraform: `spec.env.variables["LOG_LEVEL"].value`.
    Terraform,
}

impl<'a> At<'a> {
    fn root(name: &'a str) -> At<'a> {
        At {
            parent: None,
            step: Step::Field(name),
        }
    }

    fn child(&'a self, step: Step<'a>) -> At<'a> {
        At {
            parent: Some(self),
            step,
        }
    }

    fn render(&self, notation: Notation) -> String {
        let mut steps = vec![self.step];
        let mut up = self.parent;
        while let Some(at) = up {
            steps.push(at.step);
            up = at.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match *step {
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Step::Key(key) => {
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if notation == Notation::Manifest && plain {
                        out.push('.');
                        out.push_str(key);
                    } else {
                        let _ = write!(out, "[{key:?}]");
                    }
                }
            }
        }
        out
    }
}

/// A value's own description, for "found ..." in messages.
fn describe(v: &Value) -> String {
    match strip(v) {
        Value::Null => "null".into(),
        Value::Unknown(_) => "an unknown value".into(),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                format!("the string {:?}...", shown)
            } else {
                format!("the string {s:?}")
            }
        }
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the bool {b}"),
        Value::List(_) | Value::Set(_) | Value::Tuple(_) => "a list".into(),
        Value::Map(_) | Value::Object(_) => "an object".into(),
        Value::Dynamic(..) => "a value".into(),
    }
}

/// The value inside any dynamic wrappers.
fn strip(v: &Value) -> &Value {
    match v {
        Value::Dynamic(_, inner) => strip(inner),
        other => other,
    }
}

/// The entries of an object or map.
fn entries(v: &Value) -> Option<&BTreeMap<String, Value>> {
    match strip(v) {
        Value::Object(m) | Value::Map(m) => Some(m),
        _ => None,
    }
}

/// The elements of a list, tuple or set.
fn elements(v: &Value) -> Option<&[Value]> {
    match strip(v) {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

/// "a, b and c".
fn enumerate(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Edit distance counting an adjacent swap as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The valid name `wrong` most likely meant: the same name in another case
/// or spelling convention, or one a couple of edits away.
fn closest<'n>(wrong: &str, valid: &'n [String]) -> Option<&'n str> {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    if let Some(same) = valid.iter().find(|v| fold(v) == fold(wrong)) {
        return Some(same);
    }
    let limit = if wrong.chars().count() < 4 { 1 } else { 2 };
    valid
        .iter()
        .map(|v| (distance(&fold(wrong), &fold(v)), v))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v.as_str())
}

/// The message for a field or attribute that does not exist.
fn unknown_field(at: &At<'_>, notation: Notation, what: &str, valid: &[String]) -> String {
    let key = match at.step {
        Step::Field(name) => name,
        _ => "",
    };
    let mut text = format!("{}: unknown {what} {key:?}.", at.render(notation));
    if let Some(near) = closest(key, valid) {
        let _ = write!(text, " Did you mean {near:?}?");
    }
    let level = match at.parent {
        Some(parent) => parent.render(notation),
        None => String::new(),
    };
    if level.is_empty() {
        let _ = write!(
            text,
            " A KubernetesJob manifest has the fields {}.",
            enumerate(valid)
        );
    } else {
        let _ = write!(text, " The {what}s of {level} are {}.", enumerate(valid));
    }
    text
}

// ---------------------------------------------------------------------------
// Numbers

/// The protobuf integer type behind a numeric attribute, which bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Integer {
    U32,
    U64,
    I32,
}

impl Integer {
    /// Planton's type for the numeric attribute `name`: `default_mode` is an
    /// int32, `active_deadline_seconds` a uint64, every other one a uint32.
    fn of(name: &str) -> Integer {
        match name {
            "active_deadline_seconds" => Integer::U64,
            "default_mode" => Integer::I32,
            _ => Integer::U32,
        }
    }

    fn range(self) -> &'static str {
        match self {
            Integer::U32 => "from 0 to 4294967295",
            Integer::U64 => "from 0 to 18446744073709551615",
            Integer::I32 => "from -2147483648 to 2147483647",
        }
    }

    fn holds(self, n: &Number) -> bool {
        match self {
            Integer::U32 => n.as_u64().is_some_and(|v| u32::try_from(v).is_ok()),
            Integer::U64 => n.as_u64().is_some(),
            Integer::I32 => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
        }
    }

    /// A whole number written as a string, as protojson writes 64-bit
    /// integers and accepts every integer.
    fn parse(self, s: &str) -> Option<Number> {
        let digits = match (self, s.strip_prefix('-')) {
            (Integer::I32, Some(rest)) => rest,
            _ => s,
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse::<Number>().ok()
    }
}

// ---------------------------------------------------------------------------
// kubernetes_job_from_manifest

/// `kubernetes_job_from_manifest(manifest)`.
#[derive(Debug, Clone)]
pub struct FromManifest {
    attributes: Vec<Attribute>,
}

impl Default for FromManifest {
    fn default() -> Self {
        Self::new()
    }
}

impl FromManifest {
    /// The function, reading the resource schema once.
    pub fn new() -> Self {
        FromManifest {
            attributes: manifest_attributes(),
        }
    }

    /// Converts a decoded manifest (a known or partly unknown value) to
    /// `{metadata, spec}`; the error names the manifest path at fault.
    pub fn convert(&self, manifest: &Value) -> Result<Value, String> {
        let manifest = strip(manifest);
        if manifest.is_unknown() {
            return Ok(Value::UNKNOWN);
        }
        let Some(fields) = entries(manifest) else {
            return Err(format!(
                "A manifest is an object (a YAML mapping, for example the result of yamldecode), not {}.",
                describe(manifest)
            ));
        };
        let mut valid: Vec<String> = vec!["apiVersion".into(), "kind".into()];
        valid.extend(
            self.attributes
                .iter()
                .filter(|a| settable(a))
                .map(|a| json_name(&a.name)),
        );
        valid.push("status".into());

        for (name, expected) in [("apiVersion", API_VERSION), ("kind", KIND)] {
            let at = At::root(name);
            match fields.get(name).map(strip) {
                None | Some(Value::Null) => {
                    return Err(format!(
                        "{name}: missing. A KubernetesJob manifest starts with `apiVersion: {API_VERSION}` and \
                         `kind: {KIND}`."
                    ));
                }
                // Not checkable yet: the result is not known either.
                Some(Value::Unknown(_)) => return Ok(Value::UNKNOWN),
                Some(Value::String(s)) if s == expected => {}
                Some(other) => {
                    return Err(format!(
                        "{}: expected {expected:?}, found {}. This function reads only Project Planton \
                         KubernetesJob manifests ({API_VERSION}).",
                        at.render(Notation::Manifest),
                        describe(other)
                    ));
                }
            }
        }
        for key in fields.keys() {
            if !valid.contains(key)
                && !self
                    .attributes
                    .iter()
                    .any(|a| settable(a) && a.name == *key)
            {
                return Err(unknown_field(
                    &At::root(key),
                    Notation::Manifest,
                    "field",
                    &valid,
                ));
            }
        }

        let mut out = BTreeMap::new();
        for attr in &self.attributes {
            if !settable(attr) {
                out.insert(attr.name.clone(), Value::Null);
                continue;
            }
            let (key, value) = field(fields, attr, None)?;
            let at = At::root(key);
            if strip(value).is_null() {
                return Err(format!(
                    "{}: missing. A KubernetesJob manifest has both `metadata` and `spec`.",
                    at.render(Notation::Manifest)
                ));
            }
            out.insert(attr.name.clone(), read_attribute(attr, value, &at)?);
        }
        Ok(Value::Object(out))
    }
}

/// The manifest key and value of `attr` in `fields` (null when absent),
/// accepting the JSON name or the proto name, but not both.
fn field<'f>(
    fields: &'f BTreeMap<String, Value>,
    attr: &'f Attribute,
    parent: Option<&At<'_>>,
) -> Result<(&'f str, &'f Value), String> {
    static NULL: Value = Value::Null;
    let json = json_name(&attr.name);
    let by_json = fields.get_key_value(&json);
    let by_proto = if json == attr.name {
        None
    } else {
        fields.get_key_value(&attr.name)
    };
    match (by_json, by_proto) {
        (Some(_), Some(_)) => {
            let level = parent.map_or_else(
                || "the manifest".to_string(),
                |p| p.render(Notation::Manifest),
            );
            Err(format!(
                "{level}: `{json}` and `{}` are the same field; set it once.",
                attr.name
            ))
        }
        (Some((k, v)), None) | (None, Some((k, v))) => Ok((k.as_str(), v)),
        (None, None) => Ok((attr.name.as_str(), &NULL)),
    }
}

/// One attribute's value from the manifest value at `at`.
fn read_attribute(attr: &Attribute, v: &Value, at: &At<'_>) -> Result<Value, String> {
    let v = strip(v);
    match v {
        Value::Null => return Ok(Value::Null),
        Value::Unknown(_) => return Ok(Value::UNKNOWN),
        _ => {}
    }
    match &attr.kind {
        AttributeKind::Type(ty) => read_typed(ty, &attr.name, v, at),
        AttributeKind::Nested(nested) => match nested.nesting {
            Nesting::Single | Nesting::Group => read_object(&nested.attributes, v, at),
            Nesting::List | Nesting::Set => {
                let items = expect_list(v, at)?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = at.child(Step::Index(i));
                    out.push(match strip(item) {
                        Value::Unknown(_) => Value::UNKNOWN,
                        Value::Null => return Err(null_element(&at)),
                        item => read_object(&nested.attributes, item, &at)?,
                    });
                }
                Ok(if nested.nesting == Nesting::Set {
                    Value::Set(out)
                } else {
                    Value::List(out)
                })
            }
            Nesting::Map => {
                let map = expect_object(v, at)?;
                let mut out = BTreeMap::new();
                for (key, item) in map {
                    let at = at.child(Step::Key(key));
                    let value = match strip(item) {
                        Value::Unknown(_) => Value::UNKNOWN,
                        Value::Null => return Err(null_element(&at)),
                        item => read_object(&nested.attributes, item, &at)?,
                    };
                    out.insert(key.clone(), value);
                }
                Ok(Value::Map(out))
            }
        },
    }
}

fn null_element(at: &At<'_>) -> String {
    format!(
        "{}: null is not allowed here; remove the entry instead.",
        at.render(Notation::Manifest)
    )
}

fn expect_object<'v>(v: &'v Value, at: &At<'_>) -> Result<&'v BTreeMap<String, Value>, String> {
    entries(v).ok_or_else(|| {
        format!(
            "{}: expected an object (a YAML mapping), found {}.",
            at.render(Notation::Manifest),
            describe(v)
        )
    })
}

fn expect_list<'v>(v: &'v Value, at: &At<'_>) -> Result<&'v [Value], String> {
    elements(v).ok_or_else(|| {
        format!(
            "{}: expected a list (a YAML sequence), found {}.",
            at.render(Notation::Manifest),
            describe(v)
        )
    })
}

/// A nested object: unknown fields first (in name order), then each
/// attribute in schema order.
fn read_object(attrs: &[Attribute], v: &Value, at: &At<'_>) -> Result<Value, String> {
    let fields = expect_object(v, at)?;
    let settable_attrs: Vec<&Attribute> = attrs.iter().filter(|a| settable(a)).collect();
    for key in fields.keys() {
        let known = settable_attrs
            .iter()
            .any(|a| json_name(&a.name) == *key || a.name == *key);
        if !known {
            let valid: Vec<String> = settable_attrs.iter().map(|a| json_name(&a.name)).collect();
            return Err(unknown_field(
                &at.child(Step::Field(key)),
                Notation::Manifest,
                "field",
                &valid,
            ));
        }
    }
    let mut out = BTreeMap::new();
    for attr in attrs {
        if !settable(attr) {
            out.insert(attr.name.clone(), Value::Null);
            continue;
        }
        let (key, value) = field(fields, attr, Some(at))?;
        let value = read_attribute(attr, value, &at.child(Step::Field(key)))?;
        out.insert(attr.name.clone(), value);
    }
    Ok(Value::Object(out))
}

/// Whether the string attribute `name` holds a Planton enum value by name.
fn is_enum(name: &str) -> bool {
    matches!(name, "kind" | "type" | "cluster_kind")
}

/// A value of a plain type. Strings must be strings and bools bools (as
/// protojson requires); numbers may be numbers or strings of digits.
fn read_typed(ty: &Type, name: &str, v: &Value, at: &At<'_>) -> Result<Value, String> {
    let path = || at.render(Notation::Manifest);
    match (ty, strip(v)) {
        (_, Value::Null) => Err(format!("{}: expected {}, found null.", path(), noun(ty))),
        (_, Value::Unknown(_)) => Ok(Value::UNKNOWN),
        (Type::String, Value::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, other @ (Value::Number(_) | Value::Bool(_))) => {
            let hint = if is_enum(name) {
                " Planton enum values are written by name here, for example `GcpGkeCluster` or `depends_on`.".to_string()
            } else {
                let text = match other {
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                format!(" Quote it in YAML: \"{text}\".")
            };
            Err(format!(
                "{}: expected a string, found {}.{hint}",
                path(),
                describe(other)
            ))
        }
        (Type::Number, value) => {
            let kind = Integer::of(name);
            let number = match value {
                Value::Number(n) => Some(n.clone()),
                Value::String(s) => kind.parse(s),
                _ => None,
            };
            match number {
                Some(n) if n.is_integer() && kind.holds(&n) => Ok(Value::Number(n)),
                _ => Err(format!(
                    "{}: expected a whole number {} (a number, or a string of digits), found {}.",
                    path(),
                    kind.range(),
                    describe(value)
                )),
            }
        }
        (Type::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::List(elem) | Type::Set(elem), value) => {
            let items = expect_list(value, at)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(read_typed(elem, name, item, &at.child(Step::Index(i)))?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        (Type::Map(elem), value) => {
            let map = expect_object(value, at)?;
            let mut out = BTreeMap::new();
            for (key, item) in map {
                out.insert(
                    key.clone(),
                    read_typed(elem, name, item, &at.child(Step::Key(key)))?,
                );
            }
            Ok(Value::Map(out))
        }
        (_, other) => Err(format!(
            "{}: expected {}, found {}.",
            path(),
            noun(ty),
            describe(other)
        )),
    }
}

/// What a value of `ty` is called in messages.
fn noun(ty: &Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Number => "a number",
        Type::Bool => "true or false",
        Type::List(_) | Type::Set(_) | Type::Tuple(_) => "a list",
        Type::Map(_) | Type::Object(_) => "an object",
        Type::Dynamic => "a value",
    }
}

const FROM_MANIFEST_SUMMARY: &str = "Reads a Project Planton KubernetesJob manifest into the metadata and spec of a planton_kubernetes_job.";

const FROM_MANIFEST_DESCRIPTION: &str = "Reads a Project Planton `KubernetesJob` manifest, as \
`yamldecode` returns it, and returns an object with `metadata` and `spec` whose types are exactly those of \
`planton_kubernetes_job`'s `metadata` and `spec`, so that `metadata = local.job.metadata` and \
`spec = local.job.spec` assign them as they are.

Field names are Planton's (protojson lowerCamelCase, such as `volumeMounts` or `secretRef`; the proto's \
snake_case names are accepted too); the keys of maps (`env.variables`, `env.secrets`, `configMaps`, \
`metadata.labels`, `metadata.annotations`) are kept exactly. Numbers may be numbers or strings of digits, \
as protojson writes 64-bit integers; strings must be strings (quote a tag such as `\"15\"` in YAML) and \
bools must be `true` or `false`. A field the manifest leaves out is null in the result, so the resource \
applies Planton's defaults for it. `status` is accepted and ignored.

The manifest must have `apiVersion: kubernetes.project-planton.org/v1`, `kind: KubernetesJob`, \
`metadata` and `spec`. Any other problem, a wrong `apiVersion` or `kind`, a field Planton does not know \
(with the valid field names at that level) or a value of the wrong type, is an error that names the \
manifest path, such as `spec.volumeMounts[1].configMap.name`; one error per call, the first found.

Values not known until apply (for example from `merge` with another resource's attributes) stay unknown \
in the result where they are, and everything else is converted as usual; a manifest whose `apiVersion` or \
`kind` is not known yet gives an unknown result.";

const MANIFEST_PARAMETER: &str = "The decoded manifest, usually \
`yamldecode(file(\"${path.module}/job.yaml\"))`.";

impl Function for FromManifest {
    fn name(&self) -> &'static str {
        FROM_MANIFEST
    }

    fn signature(&self) -> Signature {
        Signature {
            summary: FROM_MANIFEST_SUMMARY.into(),
            description: FROM_MANIFEST_DESCRIPTION.into(),
            parameters: vec![
                Parameter::new("manifest", Type::Dynamic, MANIFEST_PARAMETER)
                    .allow_unknown_values(),
            ],
            variadic_parameter: None,
            return_type: job_type(),
            deprecation: String::new(),
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let manifest = args.first().unwrap_or(&Value::Null);
        self.convert(manifest)
            .map_err(|text| FunctionError::argument(0, text))
    }
}

// ---------------------------------------------------------------------------
// kubernetes_job_manifest

/// A manifest being written: what YAML can hold. Nulls are left out.
#[derive(Debug, Clone, PartialEq)]
enum Doc {
    Str(String),
    Num(Number),
    Bool(bool),
    Obj(Vec<(String, Doc)>),
    Seq(Vec<Doc>),
}

impl Doc {
    /// Whether the value says nothing (an object, list or map without
    /// entries), so that the field can be left out.
    fn is_empty(&self) -> bool {
        match self {
            Doc::Obj(fields) => fields.is_empty(),
            Doc::Seq(items) => items.is_empty(),
            _ => false,
        }
    }

    /// The value with its concrete type: objects are object types and
    /// lists tuples, since their members differ in shape.
    fn typed(self) -> (Type, Value) {
        match self {
            Doc::Str(s) => (Type::String, Value::String(s)),
            Doc::Num(n) => (Type::Number, Value::Number(n)),
            Doc::Bool(b) => (Type::Bool, Value::Bool(b)),
            Doc::Obj(fields) => {
                let mut types = BTreeMap::new();
                let mut values = BTreeMap::new();
                for (name, doc) in fields {
                    let (t, v) = doc.typed();
                    types.insert(name.clone(), t);
                    values.insert(name, v);
                }
                (Type::Object(types), Value::Object(values))
            }
            Doc::Seq(items) => {
                let (types, values) = items.into_iter().map(Doc::typed).unzip();
                (Type::Tuple(types), Value::Tuple(values))
            }
        }
    }
}

/// `kubernetes_job_manifest(metadata, spec)`.
#[derive(Debug, Clone)]
pub struct ToManifest {
    attributes: Vec<Attribute>,
}

impl Default for ToManifest {
    fn default() -> Self {
        Self::new()
    }
}

/// While writing: whether an unknown value was met (the result is then
/// unknown, but the rest is still checked).
#[derive(Debug, Default)]
struct Writing {
    unknown: bool,
}

impl ToManifest {
    /// The function, reading the resource schema once.
    pub fn new() -> Self {
        ToManifest {
            attributes: manifest_attributes(),
        }
    }

    /// The manifest for `metadata` (argument 0) and `spec` (argument 1):
    /// a dynamic object, or unknown when anything in them is.
    pub fn convert(&self, metadata: &Value, spec: &Value) -> Result<Value, FunctionError> {
        let mut writing = Writing::default();
        let mut fields = vec![
            ("apiVersion".to_string(), Doc::Str(API_VERSION.into())),
            ("kind".to_string(), Doc::Str(KIND.into())),
        ];
        for (index, (attr, value)) in self.attributes.iter().zip([metadata, spec]).enumerate() {
            let at = At::root(&attr.name);
            let doc = match strip(value) {
                Value::Null => None,
                Value::Unknown(_) => {
                    writing.unknown = true;
                    None
                }
                value => match &attr.kind {
                    AttributeKind::Nested(nested) => {
                        write_object(&nested.attributes, value, &at, &mut writing)
                    }
                    AttributeKind::Type(ty) => write_typed(ty, value, &at, &mut writing),
                }
                .map_err(|text| FunctionError::argument(index, text))?,
            };
            let mut doc = doc.unwrap_or(Doc::Obj(Vec::new()));
            if attr.name == "spec" {
                drop_target_cluster_without_kind(&mut doc);
            }
            fields.push((json_name(&attr.name), doc));
        }
        if writing.unknown {
            return Ok(Value::UNKNOWN);
        }
        let (ty, value) = Doc::Obj(fields).typed();
        Ok(Value::Dynamic(ty, Box::new(value)))
    }
}

/// `spec.targetCluster` only picks a provider cluster by name in
/// Terraform; Planton requires a kind whenever it is present, so without
/// one it is left out.
fn drop_target_cluster_without_kind(spec: &mut Doc) {
    let Doc::Obj(fields) = spec else { return };
    let has_kind = |doc: &Doc| match doc {
        Doc::Obj(inner) => inner
            .iter()
            .any(|(k, v)| k == "clusterKind" && *v != Doc::Str(String::new())),
        _ => false,
    };
    fields.retain(|(name, doc)| name != "targetCluster" || has_kind(doc));
}

/// A nested object: every attribute it sets, by its manifest name; an
/// attribute the schema does not have is an error.
fn write_object(
    attrs: &[Attribute],
    v: &Value,
    at: &At<'_>,
    writing: &mut Writing,
) -> Result<Option<Doc>, String> {
    let Some(fields) = entries(v) else {
        return Err(format!(
            "{}: expected an object, found {}.",
            at.render(Notation::Terraform),
            describe(v)
        ));
    };
    for key in fields.keys() {
        if !attrs.iter().any(|a| a.name == *key) {
            let valid: Vec<String> = attrs.iter().map(|a| a.name.clone()).collect();
            return Err(unknown_field(
                &at.child(Step::Field(key)),
                Notation::Terraform,
                "attribute",
                &valid,
            ));
        }
    }
    let mut out = Vec::new();
    for attr in attrs {
        let Some(value) = fields.get(&attr.name) else {
            continue;
        };
        if !settable(attr) {
            continue;
        }
        let at = at.child(Step::Field(&attr.name));
        if let Some(doc) = write_attribute(attr, value, &at, writing)?
            && !doc.is_empty()
        {
            out.push((json_name(&attr.name), doc));
        }
    }
    Ok(Some(Doc::Obj(out)))
}

fn write_attribute(
    attr: &Attribute,
    v: &Value,
    at: &At<'_>,
    writing: &mut Writing,
) -> Result<Option<Doc>, String> {
    let v = strip(v);
    match v {
        Value::Null => return Ok(None),
        Value::Unknown(_) => {
            writing.unknown = true;
            return Ok(None);
        }
        _ => {}
    }
    match &attr.kind {
        AttributeKind::Type(ty) => write_typed(ty, v, at, writing),
        AttributeKind::Nested(nested) => match nested.nesting {
            Nesting::Single | Nesting::Group => write_object(&nested.attributes, v, at, writing),
            Nesting::List | Nesting::Set => {
                let items = elements(v).ok_or_else(|| {
                    format!(
                        "{}: expected a list, found {}.",
                        at.render(Notation::Terraform),
                        describe(v)
                    )
                })?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = at.child(Step::Index(i));
                    match strip(item) {
                        Value::Unknown(_) => writing.unknown = true,
                        Value::Null => {
                            return Err(format!(
                                "{}: must not be null.",
                                at.render(Notation::Terraform)
                            ));
                        }
                        item => {
                            let doc = write_object(&nested.attributes, item, &at, writing)?;
                            out.push(doc.unwrap_or(Doc::Obj(Vec::new())));
                        }
                    }
                }
                Ok(Some(Doc::Seq(out)))
            }
            Nesting::Map => {
                let map = entries(v).ok_or_else(|| {
                    format!(
                        "{}: expected a map, found {}.",
                        at.render(Notation::Terraform),
                        describe(v)
                    )
                })?;
                let mut out = Vec::with_capacity(map.len());
                for (key, item) in map {
                    let at = at.child(Step::Key(key));
                    match strip(item) {
                        Value::Unknown(_) => writing.unknown = true,
                        Value::Null => {}
                        item => {
                            let doc = write_object(&nested.attributes, item, &at, writing)?;
                            out.push((key.clone(), doc.unwrap_or(Doc::Obj(Vec::new()))));
                        }
                    }
                }
                Ok(Some(Doc::Obj(out)))
            }
        },
    }
}

/// A value of a plain type, converted the way Terraform converts values
/// assigned to the resource (a number or bool where a string is expected,
/// a numeric string where a number is expected).
fn write_typed(
    ty: &Type,
    v: &Value,
    at: &At<'_>,
    writing: &mut Writing,
) -> Result<Option<Doc>, String> {
    let v = strip(v);
    let wrong = || {
        format!(
            "{}: expected {}, found {}.",
            at.render(Notation::Terraform),
            noun(ty),
            describe(v)
        )
    };
    Ok(Some(match (ty, v) {
        (_, Value::Null) => return Ok(None),
        (_, Value::Unknown(_)) => {
            writing.unknown = true;
            return Ok(None);
        }
        (Type::String, Value::String(s)) => Doc::Str(s.clone()),
        (Type::String, Value::Number(n)) => Doc::Str(n.to_string()),
        (Type::String, Value::Bool(b)) => Doc::Str(b.to_string()),
        (Type::Number, Value::Number(n)) => Doc::Num(n.clone()),
        (Type::Number, Value::String(s)) => Doc::Num(s.trim().parse().map_err(|_| wrong())?),
        (Type::Bool, Value::Bool(b)) => Doc::Bool(*b),
        (Type::Bool, Value::String(s)) if s == "true" || s == "false" => Doc::Bool(s == "true"),
        (Type::List(elem) | Type::Set(elem), value) => {
            let items = elements(value).ok_or_else(wrong)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let at = at.child(Step::Index(i));
                if strip(item).is_null() {
                    return Err(format!(
                        "{}: must not be null.",
                        at.render(Notation::Terraform)
                    ));
                }
                if let Some(doc) = write_typed(elem, item, &at, writing)? {
                    out.push(doc);
                }
            }
            Doc::Seq(out)
        }
        (Type::Map(elem), value) => {
            let map = entries(value).ok_or_else(wrong)?;
            let mut out = Vec::with_capacity(map.len());
            for (key, item) in map {
                if let Some(doc) = write_typed(elem, item, &at.child(Step::Key(key)), writing)? {
                    out.push((key.clone(), doc));
                }
            }
            Doc::Obj(out)
        }
        _ => return Err(wrong()),
    }))
}

const TO_MANIFEST_SUMMARY: &str = "Writes the metadata and spec of a planton_kubernetes_job as a Project Planton KubernetesJob manifest.";

const TO_MANIFEST_DESCRIPTION: &str = "Returns the Project Planton `KubernetesJob` manifest for a \
`metadata` and a `spec` shaped like `planton_kubernetes_job`'s (the resource's own attributes, the result \
of `kubernetes_job_from_manifest`, or object literals written like the resource's arguments): an object \
with `apiVersion`, `kind`, `metadata` and `spec` that `yamlencode` turns into a manifest Planton's CLI \
accepts.

Field names are Planton's lowerCamelCase; map keys are kept exactly; numbers stay numbers. Null values, \
and objects, lists and maps left empty, are left out. `spec.targetCluster` is left out unless \
`cluster_kind` is set: in Terraform, `target_cluster.cluster_name` only picks one of the provider's \
`clusters`, while Planton requires a cluster kind whenever a target cluster is given. An attribute the \
resource does not have is an error that names it.

Passing the resource's attributes (`planton_kubernetes_job.x.spec`) includes the defaults the provider \
planned (such as `parallelism = 1`); passing the values the resource was configured with (for example \
`local.job.spec`) gives back only what was set. The resource's literal `env.secrets` values are sensitive, \
and Terraform then marks the whole result sensitive (an output of it needs `sensitive = true`). When \
anything in the arguments is not known yet, the result is unknown until apply.";

impl Function for ToManifest {
    fn name(&self) -> &'static str {
        TO_MANIFEST
    }

    fn signature(&self) -> Signature {
        Signature {
            summary: TO_MANIFEST_SUMMARY.into(),
            description: TO_MANIFEST_DESCRIPTION.into(),
            parameters: vec![
                Parameter::new(
                    "metadata",
                    Type::Dynamic,
                    "The Job's metadata: an object with the attributes of the resource's `metadata`.",
                )
                .allow_unknown_values(),
                Parameter::new(
                    "spec",
                    Type::Dynamic,
                    "The Job's spec: an object with the attributes of the resource's `spec`.",
                )
                .allow_unknown_values(),
            ],
            variadic_parameter: None,
            return_type: Type::Dynamic,
            deprecation: String::new(),
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let metadata = args.first().unwrap_or(&Value::Null);
        let spec = args.get(1).unwrap_or(&Value::Null);
        self.convert(metadata, spec)
    }
}

#[cfg(test)]
mod tests;
