//! proptest strategies: random types, and random values that conform to a
//! type (nulls, plain and refined unknowns, nested collections, dynamic
//! values, numbers beyond 64-bit precision). The codec properties are
//! tested at the bottom; other modules may reuse the strategies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use super::number::{from_f64_exact, parse_decimal};
use super::{Number, Value, msgpack};
use crate::tf::types::Type;

/// Numbers that once broke a codec, or that sit on a boundary.
const NOTABLE_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "0.5",
    "0.1",
    "1e-40",
    "-1e-40",
    "123456789012345678901234567890.000000000000000000001",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1180591620717411303424",
    "1e300",
    "1e400",
    "-3.14159265358979323846264338327950288419716939937510",
];

/// A random type, at most four levels deep, including dynamic, tuple and
/// object types.
pub(crate) fn arb_type() -> BoxedStrategy<Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            btree_map(arb_name(), inner.clone(), 0..4).prop_map(Type::Object),
            vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

/// A random type together with a random value of it.
pub(crate) fn arb_typed_value() -> BoxedStrategy<(Type, Value)> {
    // Mostly known at the top, so that most cases exercise nested values.
    arb_type()
        .prop_flat_map(|ty| {
            let value = prop_oneof![1 => arb_value(&ty), 4 => arb_known(&ty, 2)];
            (Just(ty), value)
        })
        .boxed()
}

/// A random value conforming to `ty`: null, unknown (plain or refined) or known.
pub(crate) fn arb_value(ty: &Type) -> BoxedStrategy<Value> {
    arb_value_within(ty, 2)
}

/// A random number: 64-bit ints, exact floats, and decimals well beyond
/// what 64 bits hold.
pub(crate) fn arb_number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", from_f64_exact),
        (any::<bool>(), "[0-9]{1,40}", "[0-9]{0,40}", -60i32..60).prop_map(
            |(negative, int, frac, exp)| {
                let sign = if negative { "-" } else { "" };
                parse_decimal(&format!("{sign}{int}.{frac}e{exp}")).unwrap()
            }
        ),
        proptest::sample::select(NOTABLE_NUMBERS).prop_map(|s| parse_decimal(s).unwrap()),
    ]
    .boxed()
}

/// Attribute names: mostly identifiers, sometimes anything.
fn arb_name() -> BoxedStrategy<String> {
    prop_oneof![4 => "[a-z_][a-z0-9_]{0,6}", 1 => arb_string()].boxed()
}

/// Any characters, controls, quotes and non-ASCII included.
fn arb_string() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-zA-Z0-9 _.-]{0,12}",
        vec(any::<char>(), 0..8).prop_map(String::from_iter),
    ]
    .boxed()
}

/// `dynamic_budget` bounds how many dynamic values may nest, since each
/// draws a fresh random type.
fn arb_value_within(ty: &Type, dynamic_budget: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => arb_refinements(ty).prop_map(Value::Unknown),
        6 => arb_known(ty, dynamic_budget),
    ]
    .boxed()
}

fn arb_known(ty: &Type, budget: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::String => arb_string().prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(elem) => vec(arb_value_within(elem, budget), 0..5)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(elem) => vec(arb_value_within(elem, budget), 0..5)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(elem) => btree_map(arb_string(), arb_value_within(elem, budget), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => attrs
            .iter()
            .map(|(name, attr_ty)| {
                let name = name.clone();
                arb_value_within(attr_ty, budget).prop_map(move |v| (name.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
            .boxed(),
        Type::Tuple(elems) => elems
            .iter()
            .map(|elem| arb_value_within(elem, budget))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic => {
            let concrete = if budget == 0 {
                prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)].boxed()
            } else {
                arb_type()
                    .prop_filter("concrete", |t| *t != Type::Dynamic)
                    .boxed()
            };
            concrete
                .prop_flat_map(move |t| {
                    let tagged = t.clone();
                    arb_value_within(&t, budget.saturating_sub(1))
                        .prop_map(move |v| Value::Dynamic(tagged.clone(), Box::new(v)))
                })
                .boxed()
        }
    }
}

/// A refinement payload that applies to `ty` (or none), built as Terraform
/// builds it: a map from small int keys to compact values.
fn arb_refinements(ty: &Type) -> BoxedStrategy<Option<Vec<u8>>> {
    fn entry(key: u8, value: &Value, ty: &Type) -> (u8, Vec<u8>) {
        (key, msgpack::encode(value, ty).unwrap())
    }
    let bound_ty = Type::Tuple(vec![Type::Number, Type::Bool]);
    let specific: BoxedStrategy<Vec<(u8, Vec<u8>)>> = match ty {
        Type::Dynamic => return Just(None).boxed(),
        Type::String => option::of(arb_string())
            .prop_map(|prefix| {
                prefix
                    .map(|p| entry(2, &Value::String(p), &Type::String))
                    .into_iter()
                    .collect()
            })
            .boxed(),
        Type::Number => (
            option::of((arb_number(), any::<bool>())),
            option::of((arb_number(), any::<bool>())),
        )
            .prop_map(move |(lower, upper)| {
                let bound = |key, (n, inclusive)| {
                    entry(
                        key,
                        &Value::Tuple(vec![Value::Number(n), Value::Bool(inclusive)]),
                        &bound_ty,
                    )
                };
                lower
                    .map(|b| bound(3, b))
                    .into_iter()
                    .chain(upper.map(|b| bound(4, b)))
                    .collect()
            })
            .boxed(),
        Type::List(_) | Type::Set(_) | Type::Map(_) => (option::of(0i64..4), option::of(4i64..300))
            .prop_map(|(lower, upper)| {
                let len = |key, n| entry(key, &Value::int(n), &Type::Number);
                lower
                    .map(|n| len(5, n))
                    .into_iter()
                    .chain(upper.map(|n| len(6, n)))
                    .collect()
            })
            .boxed(),
        _ => Just(Vec::new()).boxed(),
    };
    (any::<bool>(), any::<bool>(), specific)
        .prop_map(|(plain, not_null, specific)| {
            let mut entries = Vec::new();
            if not_null {
                entries.push((1u8, vec![0xc2]));
            }
            entries.extend(specific);
            if plain || entries.is_empty() {
                return None;
            }
            let mut payload = vec![0x80 | u8::try_from(entries.len()).unwrap()];
            for (key, value) in entries {
                payload.push(key);
                payload.extend(value);
            }
            (payload.len() <= 1024).then_some(payload)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::sample::Index;

    use super::super::json;
    use super::*;

    /// `bytes` with one byte replaced, and that again cut short.
    fn damaged(mut bytes: Vec<u8>, at: Index, byte: u8, cut: Index) -> Vec<Vec<u8>> {
        if bytes.is_empty() {
            return Vec::new();
        }
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let short = bytes[..cut.index(bytes.len())].to_vec();
        vec![bytes, short]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// msgpack round-trips every value of every type exactly (refinement
        /// bytes, set order and number precision included), and re-encoding
        /// what was decoded gives the same bytes.
        #[test]
        fn msgpack_round_trips((ty, value) in arb_typed_value()) {
            let bytes = msgpack::encode(&value, &ty).unwrap();
            let back = msgpack::decode(&bytes, &ty).unwrap();
            prop_assert_eq!(&back, &value);
            prop_assert_eq!(msgpack::encode(&back, &ty).unwrap(), bytes);
        }

        /// JSON round-trips every wholly known value, and decoding JSON gives
        /// the same value as decoding msgpack (RawState agrees with the wire).
        #[test]
        fn json_round_trips_and_agrees_with_msgpack((ty, value) in arb_typed_value()) {
            let text = json::encode(&value, &ty);
            if !value.is_wholly_known() {
                prop_assert!(text.is_err());
                return Ok(());
            }
            let text = text.unwrap();
            serde_json::from_slice::<serde_json::Value>(&text).unwrap();
            let from_json = json::decode(&text, &ty).unwrap();
            prop_assert_eq!(&from_json, &value);
            let from_msgpack = msgpack::decode(&msgpack::encode(&value, &ty).unwrap(), &ty).unwrap();
            prop_assert_eq!(&from_json, &from_msgpack);
        }

        /// Random bytes never panic either decoder.
        #[test]
        fn random_bytes_never_panic(ty in arb_type(), bytes in vec(any::<u8>(), 0..96)) {
            let _ = msgpack::decode(&bytes, &ty);
            let _ = json::decode(&bytes, &ty);
        }

        /// Damaged encodings (a byte changed, the tail cut off) never panic
        /// either decoder; this reaches deeper than random bytes do.
        #[test]
        fn damaged_encodings_never_panic(
            (ty, value) in arb_typed_value(),
            at in any::<Index>(),
            byte in any::<u8>(),
            cut in any::<Index>(),
        ) {
            for bytes in damaged(msgpack::encode(&value, &ty).unwrap(), at, byte, cut) {
                let _ = msgpack::decode(&bytes, &ty);
            }
            for text in damaged(json::encode(&value, &ty).unwrap_or_default(), at, byte, cut) {
                let _ = json::decode(&text, &ty);
            }
        }

        /// Values of one type decoded as another type fail cleanly or decode:
        /// never a panic.
        #[test]
        fn wrong_type_never_panics((ty, value) in arb_typed_value(), other in arb_type()) {
            let bytes = msgpack::encode(&value, &ty).unwrap();
            let _ = msgpack::decode(&bytes, &other);
            if let Ok(text) = json::encode(&value, &ty) {
                let _ = json::decode(&text, &other);
            }
        }
    }
}
