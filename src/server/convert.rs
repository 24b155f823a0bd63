//! Translation between protobuf messages and framework types. Nothing here
//! fails with a gRPC status: every problem becomes a diagnostic.

use super::proto::tfplugin6 as pb;
use crate::tf::Type;
use crate::tf::diag::{Diagnostic, Diagnostics, Severity};
use crate::tf::function::{FunctionError, Parameter, Signature};
use crate::tf::path::{AttributePath, PathStep};
use crate::tf::resource::{ClientCapabilities, DeferredReason};
use crate::tf::schema::{
    Attribute, AttributeKind, Block, IdentitySchema, NestedBlock, Nesting, Schema,
};
use crate::tf::value::{CodecError, Value, json, msgpack};

/// msgpack `nil`: a null value of any type.
const MSGPACK_NIL: u8 = 0xc0;

/// Decodes a value Terraform sent. An absent or empty value is null;
/// msgpack is preferred, JSON is the documented fallback.
pub(crate) fn decode_value(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
) -> Result<Value, CodecError> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    if !value.msgpack.is_empty() {
        if value.msgpack == [MSGPACK_NIL] {
            return Ok(Value::Null);
        }
        return msgpack::decode(&value.msgpack, ty);
    }
    if !value.json.is_empty() {
        return json::decode(&value.json, ty);
    }
    Ok(Value::Null)
}

/// Encodes a value for Terraform, always as msgpack (Terraform does not
/// accept JSON consistently in responses).
pub(crate) fn encode_value(value: &Value, ty: &Type) -> Result<pb::DynamicValue, CodecError> {
    let msgpack = if value.is_null() {
        vec![MSGPACK_NIL]
    } else {
        msgpack::encode(value, ty)?
    };
    Ok(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

/// The diagnostic for a value Terraform sent that we could not read.
pub(crate) fn undecodable(what: &str, type_name: &str, err: &CodecError) -> pb::Diagnostic {
    diagnostic(&Diagnostic::undecodable(what, type_name, err))
}

/// The diagnostic for a value of ours that could not be encoded.
pub(crate) fn unencodable(what: &str, type_name: &str, err: &CodecError) -> pb::Diagnostic {
    diagnostic(&Diagnostic::unencodable(what, type_name, err))
}

/// Framework diagnostics to protobuf.
pub(crate) fn diagnostics(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic).collect()
}

/// One diagnostic to protobuf.
pub(crate) fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    let severity = match d.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .path
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(attribute_path),
    }
}

/// An attribute path to protobuf.
pub(crate) fn attribute_path(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = path
        .0
        .iter()
        .map(|step| pb::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                PathStep::Index(i) => Selector::ElementKeyInt(*i),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

/// Terraform's capabilities from protobuf (absent = none).
pub(crate) fn client_capabilities(caps: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    caps.map(|c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
    .unwrap_or_default()
}

/// A deferral reason to protobuf.
pub(crate) fn deferred(reason: Option<DeferredReason>) -> Option<pb::Deferred> {
    use pb::deferred::Reason;
    reason.map(|r| {
        let reason = match r {
            DeferredReason::ResourceConfigUnknown => Reason::ResourceConfigUnknown,
            DeferredReason::ProviderConfigUnknown => Reason::ProviderConfigUnknown,
            DeferredReason::AbsentPrereq => Reason::AbsentPrereq,
        };
        pb::Deferred {
            reason: reason as i32,
        }
    })
}

/// A schema to protobuf. Descriptions are Markdown.
pub(crate) fn schema(schema: &Schema) -> pb::Schema {
    let mut block = block(&schema.block);
    block.version = schema.version;
    pb::Schema {
        version: schema.version,
        block: Some(block),
    }
}

fn block(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: !b.deprecation.is_empty(),
        deprecation_message: b.deprecation.clone(),
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.kind {
        AttributeKind::Type(t) => (t.to_json_bytes(), None),
        AttributeKind::Nested(n) => {
            use pb::schema::object::NestingMode;
            let nesting = match n.nesting {
                // Group exists only for blocks; a nested attribute that asks
                // for it behaves as a single object.
                Nesting::Single | Nesting::Group => NestingMode::Single,
                Nesting::List => NestingMode::List,
                Nesting::Set => NestingMode::Set,
                Nesting::Map => NestingMode::Map,
            };
            let object = pb::schema::Object {
                attributes: n.attributes.iter().map(attribute).collect(),
                nesting: nesting as i32,
                ..Default::default()
            };
            (Vec::new(), Some(object))
        }
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: !a.deprecation.is_empty(),
        write_only: a.write_only,
        deprecation_message: a.deprecation.clone(),
    }
}

fn nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match b.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(block(&b.block)),
        nesting: nesting as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

/// An identity schema to protobuf.
pub(crate) fn identity_schema(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: a.optional_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

/// A function's signature to protobuf. Descriptions are Markdown; the
/// summary is plain text.
pub(crate) fn function(sig: &Signature) -> pb::Function {
    pb::Function {
        parameters: sig.parameters.iter().map(function_parameter).collect(),
        variadic_parameter: sig.variadic_parameter.as_ref().map(function_parameter),
        r#return: Some(pb::function::Return {
            r#type: sig.return_type.to_json_bytes(),
        }),
        summary: sig.summary.clone(),
        description: sig.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: sig.deprecation.clone(),
    }
}

fn function_parameter(p: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null_value,
        allow_unknown_values: p.allow_unknown_values,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

/// A function's failure to protobuf. Terraform puts the text into a
/// sentence of its own that ends in a period ("Invalid value for "x"
/// parameter: TEXT."), so the text's own final period is dropped.
pub(crate) fn function_error(e: &FunctionError) -> pb::FunctionError {
    let text = e.text.trim_end();
    pb::FunctionError {
        text: text.strip_suffix('.').unwrap_or(text).to_string(),
        function_argument: e.argument.and_then(|i| i64::try_from(i).ok()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::tf::schema::IdentityAttribute;

    #[test]
    fn paths_use_the_right_selectors() {
        use pb::attribute_path::step::Selector;
        let p = AttributePath::root("spec").attr("env").key("K").index(2);
        let steps: Vec<_> = attribute_path(&p)
            .steps
            .into_iter()
            .map(|s| s.selector.unwrap())
            .collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("spec".into()),
                Selector::AttributeName("env".into()),
                Selector::ElementKeyString("K".into()),
                Selector::ElementKeyInt(2),
            ]
        );
    }

    #[test]
    fn diagnostics_keep_severity_and_path() {
        let mut diags = Diagnostics::new();
        diags.attribute_error(AttributePath::root("a"), "Bad A", "why");
        diags.warning("Careful", "details");
        let out = diagnostics(&diags);
        assert_eq!(out[0].severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(out[0].summary, "Bad A");
        assert_eq!(out[0].attribute.as_ref().unwrap().steps.len(), 1);
        assert_eq!(out[1].severity, pb::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
    }

    #[test]
    fn schemas_cover_every_nesting_mode() {
        let leaf = || vec![Attribute::optional("x", Type::String, "An `x`.")];
        let s = Schema {
            version: 3,
            block: Block::new(
                vec![
                    Attribute::required("name", Type::String, "The name."),
                    Attribute::computed("id", Type::String, "The id.").deprecated("Use name."),
                    Attribute::optional("tags", Type::map(Type::String), "Tags.").sensitive(),
                    Attribute::optional("secret", Type::String, "Secret.").write_only(),
                    Attribute::nested("single", Nesting::Single, leaf(), "S.").set_optional(),
                    Attribute::nested("list", Nesting::List, leaf(), "L.").set_optional(),
                    Attribute::nested("set", Nesting::Set, leaf(), "S.").set_optional(),
                    Attribute::nested("map", Nesting::Map, leaf(), "M.").set_optional(),
                ],
                "A thing.",
            ),
        };
        let p = schema(&s);
        assert_eq!(p.version, 3);
        let b = p.block.unwrap();
        assert_eq!(b.version, 3);
        assert_eq!(b.description_kind, pb::StringKind::Markdown as i32);
        let by_name = |n: &str| b.attributes.iter().find(|a| a.name == n).unwrap().clone();
        assert_eq!(by_name("name").r#type, b"\"string\"".to_vec());
        assert!(by_name("name").required);
        assert!(by_name("id").computed && by_name("id").deprecated);
        assert_eq!(by_name("id").deprecation_message, "Use name.");
        assert_eq!(by_name("tags").r#type, br#"["map","string"]"#.to_vec());
        assert!(by_name("tags").sensitive);
        assert!(by_name("secret").write_only);
        use pb::schema::object::NestingMode as M;
        for (n, mode) in [
            ("single", M::Single),
            ("list", M::List),
            ("set", M::Set),
            ("map", M::Map),
        ] {
            let a = by_name(n);
            assert!(a.r#type.is_empty(), "{n} must not carry a type");
            let o = a.nested_type.unwrap();
            assert_eq!(o.nesting, mode as i32, "{n}");
            assert_eq!(o.attributes[0].name, "x");
            assert_eq!(
                o.attributes[0].description_kind,
                pb::StringKind::Markdown as i32
            );
        }
    }

    #[test]
    fn blocks_cover_group_nesting() {
        let mut root = Block::new(vec![], "root");
        root.blocks.push(NestedBlock {
            type_name: "timeouts".into(),
            block: Block::new(vec![Attribute::optional("create", Type::String, "c")], "t"),
            nesting: Nesting::Group,
            min_items: 0,
            max_items: 0,
        });
        let p = schema(&Schema::new(root));
        let nb = &p.block.unwrap().block_types[0];
        assert_eq!(
            nb.nesting,
            pb::schema::nested_block::NestingMode::Group as i32
        );
        assert_eq!(nb.block.as_ref().unwrap().attributes[0].name, "create");
    }

    #[test]
    fn null_and_absent_values() {
        let ty = Type::object([("a", Type::String)]);
        assert_eq!(decode_value(None, &ty).unwrap(), Value::Null);
        let nil = pb::DynamicValue {
            msgpack: vec![MSGPACK_NIL],
            json: vec![],
        };
        assert_eq!(decode_value(Some(&nil), &ty).unwrap(), Value::Null);
        assert_eq!(
            decode_value(Some(&pb::DynamicValue::default()), &ty).unwrap(),
            Value::Null
        );
        assert_eq!(
            encode_value(&Value::Null, &ty).unwrap().msgpack,
            vec![MSGPACK_NIL]
        );
    }

    #[test]
    fn function_errors_leave_the_final_period_to_terraform() {
        let e = function_error(&FunctionError::argument(1, "a.b: wrong. Use \"x\".\n"));
        assert_eq!(e.text, "a.b: wrong. Use \"x\"");
        assert_eq!(e.function_argument, Some(1));
        let e = function_error(&FunctionError::new("no period"));
        assert_eq!((e.text.as_str(), e.function_argument), ("no period", None));
    }

    #[test]
    fn identity_schema_and_type() {
        let s = IdentitySchema {
            version: 1,
            attributes: vec![IdentityAttribute {
                name: "name".into(),
                ty: Type::String,
                required_for_import: true,
                optional_for_import: false,
                description: "d".into(),
            }],
        };
        let p = identity_schema(&s);
        assert_eq!(p.version, 1);
        assert!(p.identity_attributes[0].required_for_import);
        assert_eq!(s.value_type(), Type::object([("name", Type::String)]));
    }
}
