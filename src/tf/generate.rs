//! Configuration from state, for GenerateResourceConfig: what Terraform
//! writes as a resource block when it imports an object that has no
//! configuration yet (`import` blocks with `-generate-config-out`, and
//! `terraform query -generate-config-out`).
//!
//! The rule is the schema's: an attribute a configuration cannot set
//! (computed only) is null, a write-only one is null (it never reaches
//! state), and an optional attribute whose value is its planned default is
//! null too, so the generated block says only what differs from the
//! defaults. Everything else is kept as stored.

use super::schema::{Attribute, AttributeKind, Block, Nesting};
use super::value::Value;

/// The configuration that, planned against `state`, plans no change:
/// `state` with every attribute a configuration cannot or need not set
/// made null.
pub fn config_from_state(block: &Block, state: &Value) -> Value {
    match state {
        Value::Object(_) => {}
        _ => return Value::Null,
    }
    let mut out = std::collections::BTreeMap::new();
    for attr in &block.attributes {
        out.insert(attr.name.clone(), attribute(attr, state.get(&attr.name)));
    }
    for nested in &block.blocks {
        let value = state.get(&nested.type_name);
        let config = match (nested.nesting, value) {
            (Nesting::Single | Nesting::Group, v @ Value::Object(_)) => {
                config_from_state(&nested.block, v)
            }
            (Nesting::List, Value::List(items)) => Value::List(
                items
                    .iter()
                    .map(|i| config_from_state(&nested.block, i))
                    .collect(),
            ),
            (Nesting::Set, Value::Set(items)) => Value::Set(
                items
                    .iter()
                    .map(|i| config_from_state(&nested.block, i))
                    .collect(),
            ),
            (Nesting::Map, Value::Map(items)) => Value::Map(
                items
                    .iter()
                    .map(|(k, i)| (k.clone(), config_from_state(&nested.block, i)))
                    .collect(),
            ),
            (_, other) => other.clone(),
        };
        out.insert(nested.type_name.clone(), config);
    }
    Value::Object(out)
}

/// One attribute's configuration value.
fn attribute(attr: &Attribute, value: &Value) -> Value {
    // Computed only, or never stored: nothing to write.
    if (attr.computed && !attr.optional && !attr.required) || attr.write_only {
        return Value::Null;
    }
    // Unknown never reaches state; should it, leave it to the default.
    if value.is_unknown() {
        return Value::Null;
    }
    // The default is what a configuration without the attribute plans.
    if !attr.required
        && let Some(default) = &attr.default
        && value.semantically_equal(default)
    {
        return Value::Null;
    }
    let AttributeKind::Nested(nested) = &attr.kind else {
        return value.clone();
    };
    let object = |v: &Value| {
        let block = Block::new(nested.attributes.clone(), "");
        config_from_state(&block, v)
    };
    match (nested.nesting, value) {
        (Nesting::Single | Nesting::Group, v @ Value::Object(_)) => object(v),
        (Nesting::List, Value::List(items)) => Value::List(items.iter().map(object).collect()),
        (Nesting::Set, Value::Set(items)) => Value::Set(items.iter().map(object).collect()),
        (Nesting::Map, Value::Map(items)) => {
            Value::Map(items.iter().map(|(k, v)| (k.clone(), object(v))).collect())
        }
        (_, other) => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::tf::Type;

    fn schema() -> Block {
        Block::new(
            vec![
                Attribute::computed("id", Type::String, "Computed id."),
                Attribute::required("name", Type::String, "The name."),
                Attribute::optional("replicas", Type::Number, "Replicas.")
                    .with_default(Value::int(1)),
                Attribute::optional("password", Type::String, "Write-only.").write_only(),
                Attribute::optional("tag", Type::String, "Optional computed.").set_computed(),
                Attribute::nested(
                    "items",
                    Nesting::List,
                    vec![
                        Attribute::required("key", Type::String, "Key."),
                        Attribute::computed("uid", Type::String, "Computed uid."),
                        Attribute::optional("mode", Type::String, "Mode.")
                            .with_default(Value::string("rw")),
                    ],
                    "Items.",
                )
                .set_optional(),
                Attribute::nested(
                    "status",
                    Nesting::Single,
                    vec![Attribute::computed("phase", Type::String, "Phase.")],
                    "Status.",
                )
                .set_computed(),
            ],
            "A thing.",
        )
    }

    /// Table of states and the configuration generated for each.
    #[test]
    fn configuration_keeps_only_what_config_sets() {
        let item = |key: &str, mode: &str| {
            Value::object([
                ("key", Value::string(key)),
                ("uid", Value::string("u")),
                ("mode", Value::string(mode)),
            ])
        };
        let cases = [
            (
                "computed, write-only and defaulted attributes are null",
                Value::object([
                    ("id", Value::string("x")),
                    ("name", Value::string("n")),
                    ("replicas", Value::int(1)),
                    ("password", Value::Null),
                    ("tag", Value::string("v1")),
                    ("items", Value::Null),
                    ("status", Value::object([("phase", Value::string("Done"))])),
                ]),
                Value::object([
                    ("id", Value::Null),
                    ("name", Value::string("n")),
                    ("replicas", Value::Null),
                    ("password", Value::Null),
                    ("tag", Value::string("v1")),
                    ("items", Value::Null),
                    ("status", Value::Null),
                ]),
            ),
            (
                "values other than the default and nested objects are kept",
                Value::object([
                    ("id", Value::string("x")),
                    ("name", Value::string("n")),
                    ("replicas", Value::int(3)),
                    ("password", Value::Null),
                    ("tag", Value::Null),
                    ("items", Value::List(vec![item("a", "rw"), item("b", "ro")])),
                    ("status", Value::Null),
                ]),
                Value::object([
                    ("id", Value::Null),
                    ("name", Value::string("n")),
                    ("replicas", Value::int(3)),
                    ("password", Value::Null),
                    ("tag", Value::Null),
                    (
                        "items",
                        Value::List(vec![
                            Value::object([
                                ("key", Value::string("a")),
                                ("uid", Value::Null),
                                ("mode", Value::Null),
                            ]),
                            Value::object([
                                ("key", Value::string("b")),
                                ("uid", Value::Null),
                                ("mode", Value::string("ro")),
                            ]),
                        ]),
                    ),
                    ("status", Value::Null),
                ]),
            ),
        ];
        for (name, state, want) in cases {
            assert_eq!(config_from_state(&schema(), &state), want, "{name}");
        }
        assert_eq!(config_from_state(&schema(), &Value::Null), Value::Null);
    }
}
