//! cty types, as Terraform describes them in a schema's JSON type constraint.

use std::collections::BTreeMap;

/// A Terraform (cty) type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `"string"`
    String,
    /// `"number"`: arbitrary-precision decimal.
    Number,
    /// `"bool"`
    Bool,
    /// `"dynamic"`: the concrete type travels with the value.
    Dynamic,
    /// `["list", T]`
    List(Box<Type>),
    /// `["set", T]`
    Set(Box<Type>),
    /// `["map", T]`
    Map(Box<Type>),
    /// `["object", {name: T}]`
    Object(BTreeMap<String, Type>),
    /// `["tuple", [T...]]`
    Tuple(Vec<Type>),
}

/// A JSON type constraint that is not a valid cty type.
#[derive(Debug, thiserror::Error)]
#[error("invalid type constraint: {0}")]
pub struct TypeError(pub String);

impl Type {
    /// `["list", elem]`
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }
    /// `["set", elem]`
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }
    /// `["map", elem]`
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }
    /// An object type from `(name, type)` pairs.
    pub fn object<I, S>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The JSON type constraint Terraform expects in `Schema.Attribute.type`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(e) => J::Array(vec![J::from("list"), e.to_json()]),
            Type::Set(e) => J::Array(vec![J::from("set"), e.to_json()]),
            Type::Map(e) => J::Array(vec![J::from("map"), e.to_json()]),
            Type::Object(attrs) => {
                let m = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                J::Array(vec![J::from("object"), J::Object(m)])
            }
            Type::Tuple(elems) => J::Array(vec![
                J::from("tuple"),
                J::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The JSON type constraint as bytes.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses a JSON type constraint (as found in a dynamic value's envelope).
    pub fn from_json(json: &serde_json::Value) -> Result<Type, TypeError> {
        use serde_json::Value as J;
        match json {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError(format!("unknown primitive type {other:?}"))),
            },
            J::Array(parts) if parts.len() == 2 || parts.len() == 3 => {
                let kind = parts[0]
                    .as_str()
                    .ok_or_else(|| TypeError("type kind must be a string".into()))?;
                match (kind, &parts[1]) {
                    ("list", e) => Ok(Type::list(Type::from_json(e)?)),
                    ("set", e) => Ok(Type::set(Type::from_json(e)?)),
                    ("map", e) => Ok(Type::map(Type::from_json(e)?)),
                    ("object", J::Object(m)) => Ok(Type::Object(
                        m.iter()
                            .map(|(k, v)| Ok((k.clone(), Type::from_json(v)?)))
                            .collect::<Result<_, TypeError>>()?,
                    )),
                    ("tuple", J::Array(es)) => Ok(Type::Tuple(
                        es.iter().map(Type::from_json).collect::<Result<_, _>>()?,
                    )),
                    (k, _) => Err(TypeError(format!("malformed {k:?} type"))),
                }
            }
            other => Err(TypeError(format!("unexpected type constraint {other}"))),
        }
    }

    /// Parses a JSON type constraint from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TypeError(e.to_string()))?;
        Type::from_json(&json)
    }
}
