//! The dynamic value Terraform exchanges with a provider.
//!
//! A [`Value`] is null, unknown, or known. Its shape follows a [`Type`]; the
//! codecs in [`msgpack`] and [`json`] need the type to decode (an object and a
//! map look the same on the wire) and to encode (a dynamic value carries its
//! type in an envelope).

mod codec;
pub mod json;
pub mod msgpack;
mod number;
#[cfg(test)]
pub(crate) mod strategy;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use bigdecimal::BigDecimal;

use super::types::Type;

/// An arbitrary-precision decimal number (cty numbers are not limited to
/// 64 bits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(pub BigDecimal);

impl Number {
    /// The number as an `i64` when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        if self.0.is_integer() {
            bigdecimal::ToPrimitive::to_i64(&self.0)
        } else {
            None
        }
    }
    /// The number as a `u64` when it is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.0.is_integer() {
            bigdecimal::ToPrimitive::to_u64(&self.0)
        } else {
            None
        }
    }
    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        bigdecimal::Zero::is_zero(&self.0)
    }
    /// Whether the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number(BigDecimal::from(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Number(BigDecimal::from(v))
    }
}

impl FromStr for Number {
    type Err = bigdecimal::ParseBigDecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BigDecimal::from_str(s).map(|d| Number(d.normalized()))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain notation: Terraform parses this back exactly.
        write!(f, "{}", self.0.normalized().to_plain_string())
    }
}

/// A Terraform value: null, unknown (not yet known during plan) or known.
///
/// Collections hold values of their element type; objects hold every
/// attribute of their type (absent ones as [`Value::Null`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A value that will be known only after apply. The payload is the raw
    /// msgpack of Terraform's refinements (extension 12), kept so that they
    /// are passed back unchanged; `None` for a plain unknown.
    Unknown(Option<Vec<u8>>),
    /// A known string.
    String(String),
    /// A known number.
    Number(Number),
    /// A known bool.
    Bool(bool),
    /// A known list.
    List(Vec<Value>),
    /// A known set (element order carries no meaning).
    Set(Vec<Value>),
    /// A known map.
    Map(BTreeMap<String, Value>),
    /// A known object.
    Object(BTreeMap<String, Value>),
    /// A known tuple.
    Tuple(Vec<Value>),
    /// A known value of a `dynamic` attribute, with its concrete type.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// A plain unknown value.
    pub const UNKNOWN: Value = Value::Unknown(None);

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the value itself is unknown (not looking inside).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// Whether the value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// The string, when known.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, v) => v.as_str(),
            _ => None,
        }
    }

    /// The bool, when known.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Dynamic(_, v) => v.as_bool(),
            _ => None,
        }
    }

    /// The number, when known.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            Value::Dynamic(_, v) => v.as_number(),
            _ => None,
        }
    }

    /// Elements of a known list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            Value::Dynamic(_, v) => v.as_elements(),
            _ => None,
        }
    }

    /// Entries of a known map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            Value::Dynamic(_, v) => v.as_entries(),
            _ => None,
        }
    }

    /// An attribute of a known object or an entry of a known map; `Null`
    /// when the container is null or the key is absent, `Unknown` when the
    /// container is unknown.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        static UNKNOWN: Value = Value::Unknown(None);
        match self {
            Value::Unknown(_) => &UNKNOWN,
            Value::Map(m) | Value::Object(m) => m.get(name).unwrap_or(&NULL),
            Value::Dynamic(_, v) => v.get(name),
            _ => &NULL,
        }
    }

    /// Builds a known object from `(name, value)` pairs.
    pub fn object<I, S>(attrs: I) -> Value
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A known string.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A known integer.
    pub fn int(n: i64) -> Value {
        Value::Number(Number::from(n))
    }

    /// Semantic equality: sets compare without regard to order.
    pub fn semantically_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.semantically_equal(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.semantically_equal(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantically_equal(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).is_some_and(|y| x.semantically_equal(y)))
            }
            (Value::Unknown(_), Value::Unknown(_)) => true,
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a.semantically_equal(b),
            (a, b) => a == b,
        }
    }
}

/// A value that does not match its type, or bytes that are not a value.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not well-formed msgpack or JSON.
    #[error("malformed {format} at {path}: {message}")]
    Malformed {
        /// "msgpack" or "JSON".
        format: &'static str,
        /// Where in the value (`.spec.image`).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The value does not conform to the type.
    #[error("value at {path} does not match type {expected}: {message}")]
    TypeMismatch {
        /// Where in the value.
        path: String,
        /// The expected type, as a JSON type constraint.
        expected: String,
        /// What was found.
        message: String,
    },
}
