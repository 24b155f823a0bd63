//! Target: import IDs and identities. `ImportId::parse` takes anything a
//! user types after `terraform import`; `ImportId::from_identity` anything
//! in an `import` block's `identity`. Neither may panic; an accepted ID
//! prints back to itself and survives the identity round trip; a refused
//! one gives an error diagnostic.

use planton_provider::kubernetes_job::adopt::identity::ImportId;
use planton_provider::tf::{Type, Value};
use proptest::prelude::*;

use crate::inputs::{Target, arb_string, arb_value, cases};

/// Strings built from the pieces of an ID, so that most are near misses.
fn arb_id() -> BoxedStrategy<String> {
    let part = prop_oneof![
        4 => "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
        2 => arb_string(),
        1 => Just(String::new()),
    ];
    let sep = prop_oneof![Just("/"), Just(":"), Just(""), Just("//"), Just(" / ")];
    prop_oneof![
        1 => arb_string(),
        3 => (part.clone(), sep.clone(), part.clone()).prop_map(|(a, s, b)| format!("{a}{s}{b}")),
        3 => (part.clone(), sep.clone(), part.clone(), sep, part)
            .prop_map(|(a, s, b, t, c)| format!("{a}{s}{b}{t}{c}")),
    ]
    .boxed()
}

/// What the ID names, checked the way Kubernetes checks a DNS-1123 label.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[test]
fn import_ids_parse_print_and_round_trip_or_are_refused() {
    let target = Target::new("import IDs");
    let cases = cases(5000);
    target.run(cases, arb_id(), |id| {
        match ImportId::parse(&id) {
            Ok(parsed) => {
                target.reached("accepted");
                prop_assert!(is_label(&parsed.namespace), "{parsed:?}");
                prop_assert!(is_label(&parsed.name), "{parsed:?}");
                prop_assert_eq!(parsed.to_string(), id.clone());
                let again = ImportId::parse(&parsed.to_string())
                    .map_err(|e| TestCaseError::fail(format!("printed ID refused: {e}")))?;
                prop_assert_eq!(&again, &parsed);
                let from_identity = ImportId::from_identity(&parsed.identity())
                    .map_err(|e| TestCaseError::fail(format!("own identity refused: {e}")))?;
                prop_assert_eq!(&from_identity, &parsed);
                let _ = parsed.job_ref();
            }
            Err(e) => {
                prop_assert!(e.diagnostics().has_error(), "{e:?}");
                prop_assert!(!e.to_string().is_empty());
            }
        }
        Ok(())
    });
    target.assert_reached("accepted", cases, 0.02);
}

#[test]
fn identities_of_any_value_never_panic() {
    let identity_type = Type::object([
        ("cluster", Type::String),
        ("namespace", Type::String),
        ("name", Type::String),
    ]);
    let target = Target::new("import identities");
    let values = prop_oneof![
        3 => arb_value(&identity_type),
        1 => arb_value(&Type::Dynamic),
        1 => arb_value(&Type::map(Type::String)),
    ];
    target.run(cases(5000), values, |identity: Value| {
        match ImportId::from_identity(&identity) {
            Ok(id) => {
                target.reached("accepted");
                prop_assert!(is_label(&id.namespace) && is_label(&id.name), "{id:?}");
                let back = ImportId::from_identity(&id.identity())
                    .map_err(|e| TestCaseError::fail(format!("own identity refused: {e}")))?;
                prop_assert_eq!(back, id);
            }
            Err(e) => prop_assert!(e.diagnostics().has_error()),
        }
        Ok(())
    });
}
