//! `kubernetes_job_manifest`: the resource's `metadata` and `spec` to a
//! Planton manifest its CLI accepts, walking the schema: nulls and empty
//! blocks are left out, names become protojson's lowerCamelCase, and a
//! value not yet known makes the whole result unknown.

use std::collections::BTreeMap;

use crate::tf::function::{Function, FunctionError, Parameter, Signature};
use crate::tf::{Attribute, AttributeKind, Nesting, Number, Type, Value};

use super::messages::{
    At, Notation, Step, describe, elements, entries, noun, strip, unknown_field,
};
use super::shape::{API_VERSION, KIND, json_name, manifest_attributes, settable};

/// The function's name.
pub const TO_MANIFEST: &str = "kubernetes_job_manifest";

/// A manifest being written: what YAML can hold. Nulls are left out.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Doc {
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
pub(super) struct Writing {
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
pub(super) fn drop_target_cluster_without_kind(spec: &mut Doc) {
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
pub(super) fn write_object(
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

pub(super) fn write_attribute(
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
pub(super) fn write_typed(
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

pub(super) const TO_MANIFEST_SUMMARY: &str = "Writes the metadata and spec of a planton_kubernetes_job as a Project Planton KubernetesJob manifest.";

pub(super) const TO_MANIFEST_DESCRIPTION: &str = "Returns the Project Planton `KubernetesJob` manifest for a \
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
