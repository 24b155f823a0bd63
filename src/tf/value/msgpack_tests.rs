//! The msgpack codec against cty's encoding: round trips, the exact bytes
//! Terraform writes, refined unknowns, dynamic values, and inputs that are
//! damaged, deep or claim more than they hold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use super::super::codec::MAX_DEPTH;
use super::*;

fn num(s: &str) -> Value {
    Value::Number(parse_decimal(s).unwrap())
}

fn str_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_str(&mut out, s).unwrap();
    out
}

fn error_text(bytes: &[u8], ty: &Type) -> String {
    decode(bytes, ty).unwrap_err().to_string()
}

/// Terraform's plain unknown (fixext1, type 0, payload 0) and any other
/// extension decode as a plain unknown; we write the plain form back.
#[test]
fn plain_unknowns() {
    for bytes in [
        &[0xd4, 0x00, 0x00][..],
        &[0xd4, 0x00, 0x07],
        &[0xc7, 0x00, 0x00],
        &[0xd6, 0x03, 1, 2, 3, 4],
        &[0xc7, 0x05, 0x7f, 1, 2, 3, 4, 5],
    ] {
        assert_eq!(
            decode(bytes, &Type::String).unwrap(),
            Value::UNKNOWN,
            "{bytes:02x?}"
        );
    }
    assert_eq!(
        encode(&Value::UNKNOWN, &Type::Number).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    assert_eq!(
        encode(&Value::UNKNOWN, &Type::Dynamic).unwrap(),
        [0xd4, 0x00, 0x00]
    );
}

/// A refined unknown (extension 12) keeps its payload byte for byte.
#[test]
fn refined_unknowns_round_trip_unchanged() {
    // {1: false, 2: "ab"}: not null, prefix "ab"
    let string_refined = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
    // {1: false}: the payload is 3 bytes
    let not_null = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
    // {3: [-inf, false], 4: ["1e-40", true]}: number bounds, open lower bound as cty writes it
    let mut number_refined = vec![0x82, 0x03, 0x92, 0xcb];
    number_refined.extend(f64::NEG_INFINITY.to_bits().to_be_bytes());
    number_refined.extend([0xc2, 0x04, 0x92]);
    number_refined.extend(str_bytes("1e-40"));
    number_refined.push(0xc3);
    let mut number_bytes = vec![0xc7, u8::try_from(number_refined.len()).unwrap(), 0x0c];
    number_bytes.extend(&number_refined);
    // {5: 1} and a trailing byte (cty ignores it), in a fixext4
    let list_refined = [0xd6, 0x0c, 0x81, 0x05, 0x01, 0x00];
    let cases: [(&[u8], Type); 5] = [
        (&string_refined, Type::String),
        (&not_null, Type::object([("a", Type::Bool)])),
        (&not_null, Type::Tuple(vec![])),
        (&number_bytes, Type::Number),
        (&list_refined, Type::list(Type::String)),
    ];
    for (bytes, ty) in cases {
        let value = decode(bytes, &ty).unwrap();
        let Value::Unknown(Some(payload)) = &value else {
            panic!("{ty:?}: refinements lost: {value:?}");
        };
        assert_eq!(payload[..], bytes[bytes.len() - payload.len()..]);
        assert_eq!(encode(&value, &ty).unwrap(), bytes, "{ty:?}");
    }
}

/// Refinements that cannot apply to the type are dropped, never kept or invented.
#[test]
fn misplaced_refinements_are_dropped() {
    let prefix = [0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'x'];
    assert_eq!(decode(&prefix, &Type::Number).unwrap(), Value::UNKNOWN);
    assert_eq!(decode(&prefix, &Type::Dynamic).unwrap(), Value::UNKNOWN);
    let not_a_map = [0xc7, 0x02, 0x0c, 0x01, 0x02];
    assert_eq!(decode(&not_a_map, &Type::String).unwrap(), Value::UNKNOWN);
    // Moving a string's unknown into a list attribute loses the prefix.
    let moved = Value::Unknown(Some(vec![0x81, 0x02, 0xa1, b'x']));
    assert_eq!(
        encode(&moved, &Type::list(Type::String)).unwrap(),
        [0xd4, 0, 0]
    );
    // In place it is kept (a 4-byte payload is written as fixext4, as cty does).
    assert_eq!(
        encode(&moved, &Type::String).unwrap(),
        [0xd6, 0x0c, 0x81, 0x02, 0xa1, b'x']
    );
}

/// Every msgpack number form decodes exactly.
#[test]
fn decodes_every_number_form() {
    let mut f64_tenth = vec![0xcb];
    f64_tenth.extend(0.1f64.to_bits().to_be_bytes());
    let mut big = vec![];
    write_str(
        &mut big,
        "123456789012345678901234567890.000000000000000000001",
    )
    .unwrap();
    let cases: Vec<(Vec<u8>, Value)> = vec![
        (vec![0x05], Value::int(5)),
        (vec![0xff], Value::int(-1)),
        (vec![0xe0], Value::int(-32)),
        (vec![0xcc, 0xff], Value::int(255)),
        (vec![0xcd, 0x01, 0x00], Value::int(256)),
        (
            vec![0xce, 0xff, 0xff, 0xff, 0xff],
            Value::int(4_294_967_295),
        ),
        (
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            num("18446744073709551615"),
        ),
        (vec![0xd0, 0x80], Value::int(-128)),
        (vec![0xd1, 0x80, 0x00], Value::int(-32768)),
        (
            vec![0xd2, 0x80, 0x00, 0x00, 0x00],
            Value::int(i64::from(i32::MIN)),
        ),
        (vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Value::int(i64::MIN)),
        (vec![0xca, 0x3f, 0xc0, 0x00, 0x00], num("1.5")),
        (
            f64_tenth,
            num("0.1000000000000000055511151231257827021181583404541015625"),
        ),
        (
            str_bytes("1e-40"),
            num("0.0000000000000000000000000000000000000001"),
        ),
        (str_bytes("-12.50"), num("-12.5")),
        (
            big,
            num("123456789012345678901234567890.000000000000000000001"),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            decode(&bytes, &Type::Number).unwrap(),
            expected,
            "{bytes:02x?}"
        );
    }
}

/// Numbers are written as cty writes them: ints, exact floats, else decimal strings.
#[test]
fn encodes_numbers_like_cty() {
    let float = |f: f64| {
        let mut b = vec![0xcb];
        b.extend(f.to_bits().to_be_bytes());
        b
    };
    let cases: Vec<(Value, Vec<u8>)> = vec![
        (Value::int(5), vec![0x05]),
        (Value::int(-1), vec![0xff]),
        (Value::int(-33), vec![0xd0, 0xdf]),
        (Value::int(300), vec![0xcd, 0x01, 0x2c]),
        (Value::int(i64::MIN), vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (
            num("18446744073709551615"),
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (num("1e3"), vec![0xcd, 0x03, 0xe8]),
        (num("0.5"), float(0.5)),
        (num("1180591620717411303424"), float(2f64.powi(70))),
        (num("0.1"), str_bytes("0.1")),
        (
            num("-1e-40"),
            str_bytes("-0.0000000000000000000000000000000000000001"),
        ),
        (
            num("18446744073709551617"),
            str_bytes("18446744073709551617"),
        ),
    ];
    for (value, bytes) in cases {
        assert_eq!(encode(&value, &Type::Number).unwrap(), bytes, "{value:?}");
    }
}

/// NaN, infinities and text that is not a number are refused, saying where.
#[test]
fn rejects_non_numbers() {
    let mut nan = vec![0xcb];
    nan.extend(f64::NAN.to_bits().to_be_bytes());
    let mut inf = vec![0xca];
    inf.extend(f32::INFINITY.to_bits().to_be_bytes());
    for bad in [nan, inf, str_bytes("abc"), str_bytes("NaN"), vec![0xc3]] {
        let ty = Type::object([("n", Type::Number)]);
        let mut bytes = vec![0x81, 0xa1, b'n'];
        bytes.extend(&bad);
        let err = error_text(&bytes, &ty);
        assert!(err.contains("at .n"), "{err}");
    }
}

/// A dynamic value is `[type JSON, value]`, the type written as bin (str accepted).
#[test]
fn dynamic_envelope() {
    let mut bytes = vec![0x92, 0xc4, 0x08];
    bytes.extend(br#""string""#);
    bytes.extend([0xa2, b'h', b'i']);
    let value = Value::Dynamic(Type::String, Box::new(Value::string("hi")));
    assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), value);
    assert_eq!(encode(&value, &Type::Dynamic).unwrap(), bytes);

    let mut as_str = vec![0x92, 0xa8];
    as_str.extend(br#""string""#);
    as_str.extend([0xa2, b'h', b'i']);
    assert_eq!(decode(&as_str, &Type::Dynamic).unwrap(), value);

    let list_ty = Type::list(Type::Number);
    let list = Value::Dynamic(
        list_ty.clone(),
        Box::new(Value::List(vec![Value::int(1), Value::Null])),
    );
    let mut list_bytes = vec![0x92];
    write_bin(&mut list_bytes, &list_ty.to_json_bytes()).unwrap();
    list_bytes.extend([0x92, 0x01, 0xc0]);
    assert_eq!(encode(&list, &Type::Dynamic).unwrap(), list_bytes);
    assert_eq!(decode(&list_bytes, &Type::Dynamic).unwrap(), list);

    // Null and unknown are bare; a typed null or unknown keeps its type.
    assert_eq!(decode(&[0xc0], &Type::Dynamic).unwrap(), Value::Null);
    assert_eq!(
        decode(&[0xd4, 0, 0], &Type::Dynamic).unwrap(),
        Value::UNKNOWN
    );
    let typed_null = Value::Dynamic(Type::Bool, Box::new(Value::Null));
    let typed_null_bytes = encode(&typed_null, &Type::Dynamic).unwrap();
    assert_eq!(
        typed_null_bytes,
        [&[0x92, 0xc4, 0x06][..], b"\"bool\"", &[0xc0]].concat()
    );
    assert_eq!(
        decode(&typed_null_bytes, &Type::Dynamic).unwrap(),
        typed_null
    );

    // A bare known value cannot be written where the type is dynamic.
    let err = encode(&Value::string("hi"), &Type::Dynamic)
        .unwrap_err()
        .to_string();
    assert!(err.contains("concrete type"), "{err}");
    // A tagged value of the right type can be written where the type is known.
    assert_eq!(encode(&value, &Type::String).unwrap(), [0xa2, b'h', b'i']);
}

/// Malformed envelopes are errors, not panics.
#[test]
fn bad_dynamic_envelopes() {
    for bytes in [
        vec![0x91, 0xc4, 0x08],
        vec![0x92, 0x01, 0x01],
        [&[0x92, 0xc4, 0x05][..], b"\"foo\"", &[0x01]].concat(),
        [&[0x92, 0xc4, 0x08][..], b"\"string\"", &[0x01]].concat(),
        vec![0xa2, b'h', b'i'],
    ] {
        assert!(decode(&bytes, &Type::Dynamic).is_err(), "{bytes:02x?}");
    }
}

/// Objects are written with every attribute in name order; missing
/// attributes decode as null and unexpected ones are errors with their path.
#[test]
fn objects() {
    let ty = Type::object([("b", Type::String), ("a", Type::Number)]);
    let sparse = Value::object([("a", Value::int(1))]);
    let bytes = encode(&sparse, &ty).unwrap();
    assert_eq!(bytes, [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0xc0]);
    let full = Value::object([("a", Value::int(1)), ("b", Value::Null)]);
    assert_eq!(decode(&[0x81, 0xa1, b'a', 0x01], &ty).unwrap(), full);
    assert_eq!(
        decode(&[0x80], &ty).unwrap(),
        Value::object([("a", Value::Null), ("b", Value::Null)])
    );

    let err = error_text(&[0x81, 0xa1, b'c', 0x01], &ty);
    assert!(
        err.contains("at .c") && err.contains("no such attribute"),
        "{err}"
    );
    let err = encode(&Value::object([("c", Value::int(1))]), &ty)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at .c"), "{err}");
    let err = error_text(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02], &ty);
    assert!(err.contains("duplicate attribute"), "{err}");
    let err = error_text(&[0x81, 0x01, 0x01], &ty);
    assert!(err.contains("must be strings"), "{err}");
}

/// Errors name the full path to the failing value.
#[test]
fn errors_name_the_path() {
    let ty = Type::object([(
        "spec",
        Type::object([(
            "env",
            Type::object([(
                "variables",
                Type::map(Type::object([("value", Type::String)])),
            )]),
        )]),
    )]);
    let mut bytes = vec![0x81];
    bytes.extend(str_bytes("spec"));
    bytes.push(0x81);
    bytes.extend(str_bytes("env"));
    bytes.push(0x81);
    bytes.extend(str_bytes("variables"));
    bytes.extend([0x81, 0xa1, b'K', 0x81]);
    bytes.extend(str_bytes("value"));
    bytes.push(0x07);
    let err = decode(&bytes, &ty).unwrap_err();
    let CodecError::TypeMismatch {
        path,
        expected,
        message,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(path, r#".spec.env.variables["K"].value"#);
    assert_eq!(expected, r#""string""#);
    assert!(message.contains("found an integer"), "{message}");
}

/// Collections decode element by element; sets keep their order and duplicates.
#[test]
fn collections() {
    let set = Type::set(Type::String);
    let bytes = [0x93, 0xa1, b'b', 0xa1, b'a', 0xa1, b'b'];
    let value = Value::Set(vec![
        Value::string("b"),
        Value::string("a"),
        Value::string("b"),
    ]);
    assert_eq!(decode(&bytes, &set).unwrap(), value);
    assert_eq!(encode(&value, &set).unwrap(), bytes);

    let tuple = Type::Tuple(vec![Type::String, Type::Bool]);
    assert_eq!(
        decode(&[0x92, 0xa0, 0xc3], &tuple).unwrap(),
        Value::Tuple(vec![Value::string(""), Value::Bool(true)])
    );
    assert!(error_text(&[0x91, 0xa0], &tuple).contains("expected 2 tuple elements"));
    assert!(encode(&Value::Tuple(vec![]), &tuple).is_err());

    let map = Type::map(Type::Bool);
    let value = Value::Map([("x".to_owned(), Value::Bool(true))].into());
    assert_eq!(decode(&[0x81, 0xa1, b'x', 0xc3], &map).unwrap(), value);
    assert!(error_text(&[0x82, 0xa1, b'x', 0xc3, 0xa1, b'x', 0xc2], &map).contains("duplicate"));
    assert!(error_text(&[0x81, 0x01, 0xc3], &map).contains("must be strings"));
    // bin is accepted for strings when it is UTF-8.
    assert_eq!(
        decode(&[0xc4, 0x01, b'z'], &Type::String).unwrap(),
        Value::string("z")
    );
    assert!(decode(&[0xa1, 0xff], &Type::String).is_err());
}

/// Broken input fails with an error: empty, truncated, trailing bytes, wrong kind.
#[test]
fn malformed_input() {
    assert!(error_text(&[], &Type::String).contains("end of input"));
    assert!(error_text(&[0xa5, b'a'], &Type::String).contains("end of input"));
    assert!(error_text(&[0xc0, 0xc0], &Type::String).contains("unexpected bytes after"));
    assert!(error_text(&[0xc1], &Type::String).contains("reserved"));
    assert!(error_text(&[0x90], &Type::String).contains("expected a string, found an array"));
}

/// A length header claiming billions of items allocates nothing and fails.
#[test]
fn huge_claimed_lengths_fail_fast() {
    let ty = Type::list(Type::String);
    assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &ty).is_err());
    assert!(decode(&[0xdf, 0xff, 0xff, 0xff, 0xff], &Type::map(Type::String)).is_err());
    assert!(decode(&[0xdb, 0xff, 0xff, 0xff, 0xff], &Type::String).is_err());
    assert!(decode(&[0xc9, 0xff, 0xff, 0xff, 0xff, 0x0c], &Type::String).is_err());
}

/// Deep nesting fails cleanly instead of overflowing the stack, both
/// through nested types and through dynamic envelopes that nest forever.
#[test]
fn deep_nesting_is_refused() {
    let mut deep_ty = Type::String;
    for _ in 0..200 {
        deep_ty = Type::list(deep_ty);
    }
    let bytes = [vec![0x91; 200], vec![0xa0]].concat();
    assert!(error_text(&bytes, &deep_ty).contains("nest more than"));

    let mut envelopes = Vec::new();
    for _ in 0..100_000 {
        envelopes.extend([0x92, 0xc4, 0x09]);
        envelopes.extend(br#""dynamic""#);
    }
    envelopes.push(0xc0);
    assert!(error_text(&envelopes, &Type::Dynamic).contains("nest more than"));

    // Just inside the limit still works.
    let mut ok_ty = Type::String;
    for _ in 0..MAX_DEPTH {
        ok_ty = Type::list(ok_ty);
    }
    let bytes = [vec![0x91; MAX_DEPTH], vec![0xa0]].concat();
    let value = decode(&bytes, &ok_ty).unwrap();
    assert_eq!(encode(&value, &ok_ty).unwrap(), bytes);
}

/// A 64 MiB string decodes in one copy, well within a second or so.
#[test]
fn decodes_a_64_mib_string() {
    const SIZE: usize = 64 << 20;
    let ty = Type::object([("data", Type::String)]);
    let mut bytes = vec![0x81, 0xa4, b'd', b'a', b't', b'a', 0xdb];
    bytes.extend(u32::try_from(SIZE).unwrap().to_be_bytes());
    bytes.resize(bytes.len() + SIZE, b'x');
    let start = Instant::now();
    let value = decode(&bytes, &ty).unwrap();
    let took = start.elapsed();
    assert_eq!(value.get("data").as_str().map(str::len), Some(SIZE));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(encode(&value, &ty).unwrap() == bytes);
}
