//! `kubernetes_job_from_manifest`: a decoded Planton manifest to the
//! `metadata` and `spec` values of the resource, walking the schema, so
//! that every unknown field, wrong type or out-of-range number is reported
//! on its place in the manifest with the valid choices.

use std::collections::BTreeMap;

use crate::tf::function::{Function, FunctionError, Parameter, Signature};
use crate::tf::{Attribute, AttributeKind, Nesting, Type, Value};

use super::messages::{
    At, Notation, Step, describe, elements, entries, noun, strip, unknown_field,
};
use super::numbers::Integer;
use super::shape::{API_VERSION, KIND, job_type, json_name, manifest_attributes, settable};

/// The function's name.
pub const FROM_MANIFEST: &str = "kubernetes_job_from_manifest";

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
pub(super) fn field<'f>(
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
pub(super) fn read_attribute(attr: &Attribute, v: &Value, at: &At<'_>) -> Result<Value, String> {
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

pub(super) fn null_element(at: &At<'_>) -> String {
    format!(
        "{}: null is not allowed here; remove the entry instead.",
        at.render(Notation::Manifest)
    )
}

pub(super) fn expect_object<'v>(
    v: &'v Value,
    at: &At<'_>,
) -> Result<&'v BTreeMap<String, Value>, String> {
    entries(v).ok_or_else(|| {
        format!(
            "{}: expected an object (a YAML mapping), found {}.",
            at.render(Notation::Manifest),
            describe(v)
        )
    })
}

pub(super) fn expect_list<'v>(v: &'v Value, at: &At<'_>) -> Result<&'v [Value], String> {
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
pub(super) fn read_object(attrs: &[Attribute], v: &Value, at: &At<'_>) -> Result<Value, String> {
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
pub(super) fn is_enum(name: &str) -> bool {
    matches!(name, "kind" | "type" | "cluster_kind")
}

/// A value of a plain type. Strings must be strings and bools bools (as
/// protojson requires); numbers may be numbers or strings of digits.
pub(super) fn read_typed(ty: &Type, name: &str, v: &Value, at: &At<'_>) -> Result<Value, String> {
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

pub(super) const FROM_MANIFEST_SUMMARY: &str = "Reads a Project Planton KubernetesJob manifest into the metadata and spec of a planton_kubernetes_job.";

pub(super) const FROM_MANIFEST_DESCRIPTION: &str = "Reads a Project Planton `KubernetesJob` manifest, as \
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

pub(super) const MANIFEST_PARAMETER: &str = "The decoded manifest, usually \
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
