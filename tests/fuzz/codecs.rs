//! Target: the `DynamicValue` codecs (msgpack, and JSON as in `RawState`
//! and `DynamicValue.json`), with the resource's schema type and random
//! types. Decoding must never panic; whatever decodes must conform to the
//! type (encode again) and decode again to the same value.

use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::tf::value::{json, msgpack};
use planton_provider::tf::{Resource, Type, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::inputs::{Shape, Target, arb_json, arb_object, arb_type, arb_value, cases};

fn schema_type() -> Type {
    KubernetesJobResource::new().schema().value_type()
}

/// A value that decoded is a value of `ty` in both codecs, and both
/// codecs give it back unchanged.
fn conforms(value: &Value, ty: &Type) -> Result<(), TestCaseError> {
    let bytes = msgpack::encode(value, ty)
        .map_err(|e| TestCaseError::fail(format!("decoded but does not encode: {e}")))?;
    let back = msgpack::decode(&bytes, ty)
        .map_err(|e| TestCaseError::fail(format!("encoded but does not decode: {e}")))?;
    prop_assert!(back.semantically_equal(value), "{back:?} != {value:?}");
    if value.is_wholly_known() {
        let text = json::encode(value, ty)
            .map_err(|e| TestCaseError::fail(format!("known value not JSON-encodable: {e}")))?;
        let back = json::decode(&text, ty)
            .map_err(|e| TestCaseError::fail(format!("JSON does not decode: {e}")))?;
        prop_assert!(back.semantically_equal(value), "{back:?} != {value:?}");
    }
    Ok(())
}

/// Damage done to an encoding.
#[derive(Debug, Clone)]
enum Damage {
    Replace(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, Index),
    Truncate(Index),
}

fn arb_damage() -> impl Strategy<Value = Damage> {
    // Bytes that start containers and long strings in msgpack, and that
    // matter in JSON.
    let structural = prop_oneof![
        any::<u8>(),
        prop::sample::select(
            &[
                0xc0u8, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xcb, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd, 0xde,
                0xdf, 0xff, 0x80, 0x90, 0xa0, b'{', b'}', b'[', b']', b'"', b'\\', b',', b':',
                b'0', b'-', b'e',
            ][..]
        ),
    ];
    prop_oneof![
        (any::<Index>(), structural.clone()).prop_map(|(i, b)| Damage::Replace(i, b)),
        (any::<Index>(), vec(structural, 1..8)).prop_map(|(i, b)| Damage::Insert(i, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, n)| Damage::Delete(i, n)),
        any::<Index>().prop_map(Damage::Truncate),
    ]
}

fn damage(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for d in damages {
        let len = bytes.len().max(1);
        match d {
            Damage::Replace(i, b) if !bytes.is_empty() => {
                let i = i.index(bytes.len());
                bytes[i] = *b;
            }
            Damage::Insert(i, b) => {
                let at = i.index(len + 1).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
            Damage::Delete(i, n) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                let end = (at + n.index(8) + 1).min(bytes.len());
                bytes.drain(at..end);
            }
            Damage::Truncate(i) => bytes.truncate(i.index(len)),
            _ => {}
        }
    }
    bytes
}

/// Random bytes, decoded as the resource's type and as random types.
#[test]
fn random_bytes_never_panic_either_decoder() {
    let schema = schema_type();
    let target = Target::new("codecs: random bytes");
    let ty = prop_oneof![1 => Just(schema.clone()), 1 => arb_type()];
    target.run(
        cases(3000),
        (ty, vec(any::<u8>(), 0..256)),
        |(ty, bytes)| {
            if let Ok(v) = msgpack::decode(&bytes, &ty) {
                target.reached("msgpack decoded");
                conforms(&v, &ty)?;
            }
            if let Ok(v) = json::decode(&bytes, &ty) {
                target.reached("JSON decoded");
                conforms(&v, &ty)?;
            }
            Ok(())
        },
    );
}

/// Values of the resource's schema type, shaped as configurations and as
/// states, round-trip through both codecs.
#[test]
fn schema_values_round_trip_through_both_codecs() {
    let schema = KubernetesJobResource::new().schema();
    let ty = schema.value_type();
    let target = Target::new("codecs: schema values round-trip");
    let values = prop_oneof![
        arb_object(&schema.block.attributes, Shape::Config),
        arb_object(&schema.block.attributes, Shape::State),
    ];
    target.run(cases(800), values, |value| {
        let bytes = msgpack::encode(&value, &ty)
            .map_err(|e| TestCaseError::fail(format!("schema-typed value does not encode: {e}")))?;
        let back = msgpack::decode(&bytes, &ty)
            .map_err(|e| TestCaseError::fail(format!("own encoding does not decode: {e}")))?;
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(msgpack::encode(&back, &ty).unwrap(), bytes);
        conforms(&value, &ty)
    });
}

/// Encodings of schema-typed and random values, damaged: a byte replaced,
/// bytes inserted or deleted, the tail cut. Whatever still decodes conforms.
#[test]
fn damaged_encodings_never_panic_and_what_decodes_conforms() {
    let schema = KubernetesJobResource::new().schema();
    let schema_ty = schema.value_type();
    let target = Target::new("codecs: damaged encodings");
    let typed = prop_oneof![
        1 => arb_object(&schema.block.attributes, Shape::State)
            .prop_map(move |v| (schema_ty.clone(), v)),
        1 => arb_type().prop_flat_map(|t| (Just(t.clone()), arb_value(&t))),
    ];
    target.run(
        cases(1000),
        (typed, vec(arb_damage(), 1..4)),
        |((ty, value), damages)| {
            let packed = damage(msgpack::encode(&value, &ty).unwrap(), &damages);
            if let Ok(v) = msgpack::decode(&packed, &ty) {
                target.reached("damaged msgpack decoded");
                conforms(&v, &ty)?;
            }
            if let Ok(text) = json::encode(&value, &ty) {
                let text = damage(text, &damages);
                if let Ok(v) = json::decode(&text, &ty) {
                    target.reached("damaged JSON decoded");
                    conforms(&v, &ty)?;
                }
            }
            Ok(())
        },
    );
}

/// JSON documents of any shape (with the schema's names as keys often
/// enough), decoded as the resource's type: a state file someone edited.
#[test]
fn json_documents_of_any_shape_never_panic() {
    let schema = KubernetesJobResource::new().schema();
    let ty = schema.value_type();
    let target = Target::new("codecs: JSON documents");
    target.run(cases(2000), arb_json(), |doc| {
        let text = doc.to_string();
        if let Ok(v) = json::decode(text.as_bytes(), &ty) {
            target.reached("decoded");
            conforms(&v, &ty)?;
        }
        Ok(())
    });
}

/// Nesting far deeper than any schema: refused, not a stack overflow.
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let mut ty = Type::String;
    for _ in 0..100_000 {
        ty = Type::list(ty);
    }
    let mut bytes = vec![0x91u8; 100_000];
    bytes.push(0xa0);
    assert!(msgpack::decode(&bytes, &Type::Dynamic).is_err());
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(json::decode(text.as_bytes(), &Type::Dynamic).is_err());
    // A deep type needs a deep value: decoding fails at the limit.
    assert!(msgpack::decode(&bytes, &ty).is_err());
    std::mem::forget(ty);
}
