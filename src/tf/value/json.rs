//! JSON codec (stored state in UpgradeResourceState, identities, private
//! data), as cty's JSON package defines it.
//!
//! Ordinary JSON of the type, with these rules:
//! - numbers keep their full precision (written in plain decimal notation);
//! - an object may leave attributes out (they decode as null) and is written
//!   with every attribute of its type, in name order;
//! - a known value of a dynamic attribute is `{"value": ..., "type": <type
//!   constraint>}`; null is a bare `null`;
//! - unknown values cannot be written.
//!
//! Like cty, decoding converts a few primitives: a string where a number or
//! bool is expected (`"12"`, `"true"`), and a number or bool where a string
//! is expected.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde_json::Value as Json;

use super::codec::{Fault, Step, check_depth, check_encodable, wrong_value};
use super::number::{parse_decimal, plain_text};
use super::{CodecError, Value};
use crate::tf::types::Type;

/// Encodes `value` as JSON according to `ty`. Unknown values cannot be
/// written as JSON.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_value(&mut out, value, ty, 0).map_err(|f| f.into_error("JSON"))?;
    Ok(out)
}

/// Decodes JSON `bytes` according to `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    // serde_json limits nesting itself, so parsing hostile input is safe.
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| Fault::malformed(e.to_string()).into_error("JSON"))?;
    decode_value(json, ty, 0).map_err(|f| f.into_error("JSON"))
}

// ---------------------------------------------------------------------------
// Encoding

fn encode_value(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<(), Fault> {
    check_depth(depth)?;
    // From here on, tuples have the right length and objects no extra
    // attributes.
    check_encodable(ty, value)?;
    match (ty, value) {
        (_, Value::Null) => out.extend_from_slice(b"null"),
        (_, Value::Unknown(_)) => {
            return Err(Fault::malformed(
                "an unknown value cannot be written as JSON",
            ));
        }
        (Type::Dynamic, Value::Dynamic(Type::Dynamic, inner)) => {
            encode_value(out, inner, ty, depth + 1)?;
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            out.extend_from_slice(br#"{"value":"#);
            encode_value(out, inner, concrete, depth + 1)?;
            out.extend_from_slice(br#","type":"#);
            write_json(out, &concrete.to_json())?;
            out.push(b'}');
        }
        (_, Value::Dynamic(concrete, inner)) if concrete == ty => {
            encode_value(out, inner, ty, depth)?;
        }
        (Type::String, Value::String(s)) => write_string(out, s)?,
        (Type::Number, Value::Number(n)) => {
            out.extend_from_slice(plain_text(n).map_err(Fault::malformed)?.as_bytes());
        }
        (Type::Bool, Value::Bool(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        (Type::List(elem), Value::List(items)) | (Type::Set(elem), Value::Set(items)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_value(out, item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Type::Tuple(elems), Value::Tuple(items)) => {
            out.push(b'[');
            for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_value(out, item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Type::Map(elem), Value::Map(entries)) => {
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key)?;
                out.push(b':');
                encode_value(out, item, elem, depth + 1)
                    .map_err(|f| f.at(Step::Key(key.clone())))?;
            }
            out.push(b'}');
        }
        (Type::Object(attrs), Value::Object(entries)) => {
            out.push(b'{');
            for (i, (name, attr_ty)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name)?;
                out.push(b':');
                let item = entries.get(name).unwrap_or(&Value::Null);
                encode_value(out, item, attr_ty, depth + 1)
                    .map_err(|f| f.at(Step::Attr(name.clone())))?;
            }
            out.push(b'}');
        }
        (_, other) => return Err(wrong_value(ty, other)),
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) -> Result<(), Fault> {
    serde_json::to_writer(&mut *out, s).map_err(|e| Fault::malformed(e.to_string()))
}

fn write_json(out: &mut Vec<u8>, json: &Json) -> Result<(), Fault> {
    out.write_all(json.to_string().as_bytes())
        .map_err(|e| Fault::malformed(e.to_string()))
}

// ---------------------------------------------------------------------------
// Decoding

fn describe_json(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Takes the parsed JSON by value so that strings move into the result
/// instead of being copied (stored state may hold very large strings).
fn decode_value(json: Json, ty: &Type, depth: usize) -> Result<Value, Fault> {
    check_depth(depth)?;
    if json.is_null() {
        return Ok(Value::Null);
    }
    let found = describe_json(&json);
    let mismatch = |what: &str| Fault::mismatch(ty, format!("expected {what}, found {found}"));
    match (ty, json) {
        (Type::Dynamic, json) => decode_dynamic(json, depth),
        (Type::String, Json::String(s)) => Ok(Value::String(s)),
        (Type::String, Json::Number(n)) => Ok(Value::String(n.as_str().to_owned())),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::String, _) => Err(mismatch("a string")),
        (Type::Number, Json::Number(n)) => decode_number(n.as_str(), ty),
        (Type::Number, Json::String(s)) => decode_number(&s, ty),
        (Type::Number, _) => Err(mismatch("a number")),
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Bool, Json::String(s)) if s == "true" => Ok(Value::Bool(true)),
        (Type::Bool, Json::String(s)) if s == "false" => Ok(Value::Bool(false)),
        (Type::Bool, _) => Err(mismatch("a bool")),
        (Type::List(elem) | Type::Set(elem), Json::Array(items)) => {
            let items = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    decode_value(item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        (Type::List(_) | Type::Set(_), _) => Err(mismatch("an array")),
        (Type::Tuple(elems), Json::Array(items)) => {
            if items.len() != elems.len() {
                return Err(Fault::mismatch(
                    ty,
                    format!(
                        "expected {} tuple elements, found {}",
                        elems.len(),
                        items.len()
                    ),
                ));
            }
            let items = items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, elem))| {
                    decode_value(item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(items))
        }
        (Type::Tuple(_), _) => Err(mismatch("an array")),
        (Type::Map(elem), Json::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                match decode_value(item, elem, depth + 1) {
                    Ok(value) => out.insert(key, value),
                    Err(f) => return Err(f.at(Step::Key(key))),
                };
            }
            Ok(Value::Map(out))
        }
        (Type::Map(_), _) => Err(mismatch("an object (map)")),
        (Type::Object(attrs), Json::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (name, item) in entries {
                let Some(attr_ty) = attrs.get(&name) else {
                    return Err(Fault::no_such_attribute(ty, name));
                };
                match decode_value(item, attr_ty, depth + 1) {
                    Ok(value) => out.insert(name, value),
                    Err(f) => return Err(f.at(Step::Attr(name))),
                };
            }
            // Attributes left out are null.
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(out))
        }
        (Type::Object(_), _) => Err(mismatch("an object")),
    }
}

fn decode_number(text: &str, ty: &Type) -> Result<Value, Fault> {
    parse_decimal(text)
        .map(Value::Number)
        .map_err(|e| Fault::mismatch(ty, e))
}

/// `{"value": ..., "type": ...}`: the concrete type travels with the value.
fn decode_dynamic(json: Json, depth: usize) -> Result<Value, Fault> {
    let Json::Object(mut envelope) = json else {
        return Err(Fault::mismatch(
            &Type::Dynamic,
            format!(
                "expected a {{\"value\", \"type\"}} object, found {}",
                describe_json(&json)
            ),
        ));
    };
    if let Some(extra) = envelope.keys().find(|k| *k != "value" && *k != "type") {
        return Err(Fault::malformed(format!(
            "a dynamic value has only \"value\" and \"type\", found {extra:?}"
        )));
    }
    let (Some(value), Some(type_json)) = (envelope.remove("value"), envelope.remove("type")) else {
        return Err(Fault::malformed(
            "a dynamic value needs both \"value\" and \"type\"",
        ));
    };
    let concrete = Type::from_json(&type_json)
        .map_err(|e| Fault::malformed(format!("a dynamic value's type: {e}")))?;
    let inner = decode_value(value, &concrete, depth + 1)?;
    Ok(match concrete {
        // Already null or enveloped itself.
        Type::Dynamic => inner,
        concrete => Value::Dynamic(concrete, Box::new(inner)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn num(s: &str) -> Value {
        Value::Number(parse_decimal(s).unwrap())
    }

    fn dec(text: &str, ty: &Type) -> Value {
        decode(text.as_bytes(), ty).unwrap()
    }

    fn enc(value: &Value, ty: &Type) -> String {
        String::from_utf8(encode(value, ty).unwrap()).unwrap()
    }

    fn error_text(text: &str, ty: &Type) -> String {
        decode(text.as_bytes(), ty).unwrap_err().to_string()
    }

    /// Numbers keep every digit in both directions.
    #[test]
    fn numbers_keep_full_precision() {
        let big = "123456789012345678901234567890.000000000000000000001";
        assert_eq!(dec(big, &Type::Number), num(big));
        assert_eq!(enc(&num(big), &Type::Number), big);
        assert_eq!(
            dec("-1e-40", &Type::Number),
            num("-0.0000000000000000000000000000000000000001")
        );
        assert_eq!(
            enc(&num("-1e-40"), &Type::Number),
            "-0.0000000000000000000000000000000000000001"
        );
        assert_eq!(
            dec("18446744073709551617", &Type::Number),
            num("18446744073709551617")
        );
        assert_eq!(enc(&num("1e3"), &Type::Number), "1000");
        assert_eq!(dec(r#""12.5""#, &Type::Number), num("12.5"));
        assert!(error_text(r#""twelve""#, &Type::Number).contains("not a decimal number"));
    }

    /// Objects may leave attributes out; unexpected ones are errors at their path.
    #[test]
    fn objects() {
        let ty = Type::object([("a", Type::Number), ("b", Type::list(Type::String))]);
        assert_eq!(
            dec(r#"{"a": 1}"#, &ty),
            Value::object([("a", Value::int(1)), ("b", Value::Null)])
        );
        assert_eq!(
            enc(
                &Value::object([("b", Value::List(vec![Value::string("x\"y")]))]),
                &ty
            ),
            r#"{"a":null,"b":["x\"y"]}"#
        );
        let err = error_text(r#"{"a": 1, "zz": 2}"#, &ty);
        assert!(
            err.contains("at .zz") && err.contains("no such attribute"),
            "{err}"
        );
        let err = error_text(r#"{"b": ["x", 2, {}]}"#, &ty);
        assert!(
            err.contains("at .b[2]") && err.contains("expected a string"),
            "{err}"
        );
    }

    /// Dynamic values travel as `{"value", "type"}`; null is bare.
    #[test]
    fn dynamic_envelope() {
        let value = Value::Dynamic(
            Type::list(Type::Number),
            Box::new(Value::List(vec![Value::int(1), num("0.5")])),
        );
        let text = enc(&value, &Type::Dynamic);
        assert_eq!(text, r#"{"value":[1,0.5],"type":["list","number"]}"#);
        assert_eq!(dec(&text, &Type::Dynamic), value);
        assert_eq!(
            dec(r#"{"type": "string", "value": "hi"}"#, &Type::Dynamic),
            Value::Dynamic(Type::String, Box::new(Value::string("hi")))
        );
        assert_eq!(dec("null", &Type::Dynamic), Value::Null);
        let typed_null = Value::Dynamic(Type::Bool, Box::new(Value::Null));
        assert_eq!(
            enc(&typed_null, &Type::Dynamic),
            r#"{"value":null,"type":"bool"}"#
        );
        assert_eq!(
            dec(r#"{"value":null,"type":"bool"}"#, &Type::Dynamic),
            typed_null
        );

        for bad in [
            r#""hi""#,
            r#"{"value": "hi"}"#,
            r#"{"type": "string"}"#,
            r#"{"value": "hi", "type": "string", "extra": 1}"#,
            r#"{"value": "hi", "type": "strin"}"#,
            r#"{"value": [1], "type": "string"}"#,
        ] {
            assert!(decode(bad.as_bytes(), &Type::Dynamic).is_err(), "{bad}");
        }
    }

    /// Like cty, a few primitives convert when decoding.
    #[test]
    fn primitive_conversions() {
        assert_eq!(dec("5", &Type::String), Value::string("5"));
        assert_eq!(dec("1.50", &Type::String), Value::string("1.50"));
        assert_eq!(dec("true", &Type::String), Value::string("true"));
        assert_eq!(dec(r#""false""#, &Type::Bool), Value::Bool(false));
        assert!(error_text(r#""yes""#, &Type::Bool).contains("expected a bool"));
    }

    /// Unknown values cannot be written as JSON; the error says where.
    #[test]
    fn unknown_cannot_be_written() {
        let ty = Type::object([("m", Type::map(Type::String))]);
        let value = Value::object([("m", Value::Map([("k".to_owned(), Value::UNKNOWN)].into()))]);
        let err = encode(&value, &ty).unwrap_err().to_string();
        assert!(
            err.contains(r#"at .m["k"]"#) && err.contains("unknown"),
            "{err}"
        );
    }

    /// A 64 MiB string in stored state decodes without extra copies.
    #[test]
    fn decodes_a_64_mib_string() {
        const SIZE: usize = 64 << 20;
        let ty = Type::object([("data", Type::String)]);
        let mut text = br#"{"data":""#.to_vec();
        text.resize(text.len() + SIZE, b'x');
        text.extend(br#""}"#);
        let start = std::time::Instant::now();
        let value = decode(&text, &ty).unwrap();
        let took = start.elapsed();
        assert_eq!(value.get("data").as_str().map(str::len), Some(SIZE));
        assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
        assert!(encode(&value, &ty).unwrap() == text);
    }

    /// Malformed JSON and wrong shapes fail with an error, never a panic.
    #[test]
    fn malformed_input() {
        assert!(error_text("", &Type::String).contains("malformed JSON at (root)"));
        assert!(error_text(r#""a" "b""#, &Type::String).contains("trailing"));
        assert!(
            error_text("[1,2]", &Type::Tuple(vec![Type::Number]))
                .contains("expected 1 tuple elements")
        );
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(decode(deep.as_bytes(), &Type::Dynamic).is_err());
        assert!(error_text("1e999999999", &Type::Number).contains("too large"));
    }
}
