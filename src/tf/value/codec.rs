//! What the msgpack and JSON codecs share: the nesting limit and the
//! internal error that learns its path while the recursion unwinds.
//!
//! The path is built only on failure (each container adds its step to an
//! error coming up from a child), so decoding a valid value never allocates
//! for paths.

use super::{CodecError, Value};
use crate::tf::types::Type;

/// How deep values may nest (each list, set, map, object, tuple or dynamic
/// envelope is one level). Real schemas stay far below this; the limit keeps
/// hostile input from overflowing the stack.
pub(super) const MAX_DEPTH: usize = 128;

/// One step of the path to a failing value.
#[derive(Debug)]
pub(super) enum Step {
    /// An object attribute.
    Attr(String),
    /// A map key.
    Key(String),
    /// A list, set or tuple position.
    Index(usize),
}

#[derive(Debug)]
enum FaultKind {
    Malformed,
    Mismatch { expected: String },
}

/// A codec failure on its way up to the caller; steps are innermost first.
#[derive(Debug)]
pub(super) struct Fault {
    kind: FaultKind,
    message: String,
    steps: Vec<Step>,
}

impl Fault {
    /// The input is not well-formed (or not representable).
    pub(super) fn malformed(message: impl Into<String>) -> Fault {
        Fault {
            kind: FaultKind::Malformed,
            message: message.into(),
            steps: Vec::new(),
        }
    }

    /// The input is well-formed but does not fit `expected`.
    pub(super) fn mismatch(expected: &Type, message: impl Into<String>) -> Fault {
        Fault {
            kind: FaultKind::Mismatch {
                expected: type_label(expected),
            },
            message: message.into(),
            steps: Vec::new(),
        }
    }

    /// An attribute `name` that the object type `ty` does not have
    /// (encoding or decoding), at that attribute.
    pub(super) fn no_such_attribute(ty: &Type, name: String) -> Fault {
        Fault::mismatch(ty, "the object type has no such attribute").at(Step::Attr(name))
    }

    /// This fault, seen from one level further out.
    pub(super) fn at(mut self, step: Step) -> Fault {
        self.steps.push(step);
        self
    }

    /// The public error, with the path rendered from the root.
    pub(super) fn into_error(self, format: &'static str) -> CodecError {
        let path = render_path(&self.steps);
        match self.kind {
            FaultKind::Malformed => CodecError::Malformed {
                format,
                path,
                message: self.message,
            },
            FaultKind::Mismatch { expected } => CodecError::TypeMismatch {
                path,
                expected,
                message: self.message,
            },
        }
    }
}

/// Fails when a value at `depth` would nest deeper than [`MAX_DEPTH`].
pub(super) fn check_depth(depth: usize) -> Result<(), Fault> {
    if depth > MAX_DEPTH {
        Err(Fault::malformed(format!(
            "values nest more than {MAX_DEPTH} levels deep"
        )))
    } else {
        Ok(())
    }
}

/// The checks both encoders make before writing `value` as a `ty`, for
/// mistakes that are the same in every format: a dynamic attribute's value
/// without its concrete type, a tuple of the wrong length, an object with
/// an attribute its type lacks. (Null and unknown pass; other mismatches
/// are [`wrong_value`].)
pub(super) fn check_encodable(ty: &Type, value: &Value) -> Result<(), Fault> {
    match (ty, value) {
        (_, Value::Null | Value::Unknown(_)) | (Type::Dynamic, Value::Dynamic(..)) => Ok(()),
        (Type::Dynamic, other) => Err(Fault::mismatch(
            ty,
            format!(
                "{} of a dynamic attribute must carry its concrete type (Value::Dynamic)",
                describe_value(other)
            ),
        )),
        (Type::Tuple(elems), Value::Tuple(items)) if elems.len() != items.len() => {
            Err(Fault::mismatch(
                ty,
                format!("a tuple of {} elements has {}", elems.len(), items.len()),
            ))
        }
        (Type::Object(attrs), Value::Object(entries)) => {
            match entries.keys().find(|k| !attrs.contains_key(*k)) {
                Some(extra) => Err(Fault::no_such_attribute(ty, extra.clone())),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// An encoder was given a value that is not of type `ty`.
pub(super) fn wrong_value(ty: &Type, value: &Value) -> Fault {
    Fault::mismatch(ty, format!("found {}", describe_value(value)))
}

/// What kind of value this is, for error messages.
fn describe_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown(_) => "an unknown value",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a bool",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Tuple(_) => "a tuple",
        Value::Dynamic(..) => "a dynamic value of another type",
    }
}

/// `.spec.env.variables["K"].value`; the empty path is `(root)`.
fn render_path(steps_innermost_first: &[Step]) -> String {
    if steps_innermost_first.is_empty() {
        return "(root)".to_owned();
    }
    let mut out = String::new();
    for step in steps_innermost_first.iter().rev() {
        match step {
            Step::Attr(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Key(key) => out.push_str(&format!("[{key:?}]")),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The type as a JSON type constraint, shortened so that a mismatch on a
/// large object type does not print the whole schema.
fn type_label(ty: &Type) -> String {
    const MAX: usize = 120;
    let full = ty.to_json().to_string();
    if full.len() <= MAX {
        return full;
    }
    let mut cut = MAX;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &full[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths read like Terraform's: attributes with dots, keys quoted, indices bare.
    #[test]
    fn path_renders_from_the_root() {
        let fault = Fault::malformed("x")
            .at(Step::Attr("value".into()))
            .at(Step::Key("K".into()))
            .at(Step::Attr("variables".into()))
            .at(Step::Index(2))
            .at(Step::Attr("spec".into()));
        let CodecError::Malformed { path, .. } = fault.into_error("msgpack") else {
            panic!("wrong kind");
        };
        assert_eq!(path, r#".spec[2].variables["K"].value"#);
        let CodecError::Malformed { path, .. } = Fault::malformed("x").into_error("JSON") else {
            panic!("wrong kind");
        };
        assert_eq!(path, "(root)");
    }

    /// Both encoders refuse the same values with the same errors.
    #[test]
    fn encoders_refuse_alike() {
        let cases = [
            (
                Type::Dynamic,
                Value::string("hi"),
                "(root)",
                "must carry its concrete type",
            ),
            (
                Type::Tuple(vec![Type::String, Type::Bool]),
                Value::Tuple(vec![Value::string("a")]),
                "(root)",
                "a tuple of 2 elements has 1",
            ),
            (
                Type::object([("a", Type::String)]),
                Value::object([("a", Value::string("x")), ("b", Value::Null)]),
                ".b",
                "no such attribute",
            ),
            (Type::Bool, Value::string("x"), "(root)", "found a string"),
        ];
        for (ty, value, want_path, want_message) in cases {
            for err in [
                super::super::json::encode(&value, &ty).unwrap_err(),
                super::super::msgpack::encode(&value, &ty).unwrap_err(),
            ] {
                let CodecError::TypeMismatch { path, message, .. } = &err else {
                    panic!("wrong kind: {err}");
                };
                assert_eq!(path, want_path, "{err}");
                assert!(message.contains(want_message), "{err}");
            }
        }
    }
}
