//! `terraform providers schema -json`: the schema as Terraform sees it.

use serde_json::Value as Json;

use crate::eqnice;
use crate::harness::{FULL_SOURCE, RESOURCE_TYPE, Tf, repo_root};

/// The expected tree, written by hand from the agreed schema shape.
const EXPECTED_TREE: &str = "tests/fixtures/schema-tree.txt";

/// One attribute, flattened: its dotted path and what Terraform knows of it.
#[derive(Debug)]
pub struct Attribute {
    /// Dotted, without map keys or list indexes: `spec.env.variables.value`.
    pub path: String,
    /// The cty type, or `nested(<mode>)` / `block(<mode>)`.
    pub kind: String,
    flags: String,
    description: Option<String>,
    description_kind: Option<String>,
}

impl Attribute {
    fn line(&self) -> String {
        format!("{} {} {}", self.path, self.kind, self.flags)
    }
}

/// Renders a cty type as JSON (`"string"`, `["map","string"]`,
/// `["object",{...}]`) in HCL's type syntax.
fn cty_type(ty: &Json) -> String {
    match ty {
        Json::String(s) => s.clone(),
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some(kind @ ("list" | "set" | "map")), Some(elem)) => {
                format!("{kind}({})", cty_type(elem))
            }
            (Some("object"), Some(Json::Object(attrs))) => {
                let mut fields: Vec<String> = attrs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", cty_type(v)))
                    .collect();
                fields.sort();
                format!("object({{{}}})", fields.join(","))
            }
            (Some("tuple"), Some(Json::Array(elems))) => {
                let elems: Vec<String> = elems.iter().map(cty_type).collect();
                format!("tuple([{}])", elems.join(","))
            }
            _ => format!("?{ty}"),
        },
        other => format!("?{other}"),
    }
}

fn flags(attr: &Json) -> String {
    let is = |key: &str| attr[key].as_bool().unwrap_or(false);
    let mut flags = vec![match (is("required"), is("optional"), is("computed")) {
        (true, false, false) => "R",
        (false, true, false) => "O",
        (false, false, true) => "C",
        (false, true, true) => "D",
        _ => "INVALID(required/optional/computed)",
    }];
    if is("sensitive") {
        flags.push("S");
    }
    if is("write_only") {
        flags.push("W");
    }
    if is("deprecated") {
        flags.push("DEPRECATED");
    }
    flags.join(" ")
}

/// Flattens a schema block (`{"attributes": {...}, "block_types": {...}}`),
/// depth first.
fn flatten_block(prefix: &str, block: &Json, out: &mut Vec<Attribute>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, attr) in attrs {
            let path = join(name);
            let nested = &attr["nested_type"];
            let kind = if nested.is_object() {
                format!("nested({})", nested["nesting_mode"].as_str().unwrap_or("?"))
            } else {
                cty_type(&attr["type"])
            };
            out.push(Attribute {
                path: path.clone(),
                kind,
                flags: flags(attr),
                description: attr["description"].as_str().map(str::to_string),
                description_kind: attr["description_kind"].as_str().map(str::to_string),
            });
            if nested.is_object() {
                flatten_block(&path, nested, out);
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, bt) in blocks {
            let path = join(name);
            let mode = bt["nesting_mode"].as_str().unwrap_or("?");
            let mut flags = String::new();
            if let Some(min) = bt["min_items"].as_u64() {
                flags.push_str(&format!("min={min} "));
            }
            if let Some(max) = bt["max_items"].as_u64() {
                flags.push_str(&format!("max={max}"));
            }
            out.push(Attribute {
                path: path.clone(),
                kind: format!("block({mode})"),
                flags: flags.trim().to_string(),
                description: bt["block"]["description"].as_str().map(str::to_string),
                description_kind: bt["block"]["description_kind"].as_str().map(str::to_string),
            });
            flatten_block(&path, &bt["block"], out);
        }
    }
}

fn resource_block(schema: &Json) -> &Json {
    let provider = &schema["provider_schemas"][FULL_SOURCE];
    assert!(
        provider.is_object(),
        "no provider {FULL_SOURCE} in the schema:\n{schema:#}"
    );
    let resource = &provider["resource_schemas"][RESOURCE_TYPE];
    assert!(
        resource.is_object(),
        "no resource {RESOURCE_TYPE} in the schema; resources: {:?}",
        provider["resource_schemas"]
            .as_object()
            .map(|m| m.keys().collect::<Vec<_>>())
    );
    &resource["block"]
}

/// The resource's attributes in `terraform providers schema -json` output,
/// flattened and sorted by path.
pub fn resource_attributes(schema: &Json) -> Vec<Attribute> {
    let mut attrs = Vec::new();
    flatten_block("", resource_block(schema), &mut attrs);
    attrs.sort_by(|a, b| a.path.cmp(&b.path));
    attrs
}

fn schema_attributes() -> Vec<Attribute> {
    let tf = Tf::new("schema");
    tf.config("");
    tf.init();
    resource_attributes(&tf.providers_schema_json())
}

/// Every attribute of `planton_kubernetes_job` (path, type or nesting,
/// required/optional/computed, sensitive) is exactly as agreed in
/// `tests/fixtures/schema-tree.txt`.
#[test]
fn schema_attribute_tree_matches_expected() {
    let expected_text = std::fs::read_to_string(repo_root().join(EXPECTED_TREE)).unwrap();
    let mut expected: Vec<String> = expected_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    expected.sort();
    let got: Vec<String> = schema_attributes().iter().map(Attribute::line).collect();
    eqnice!(
        expected.join("\n"),
        got.join("\n"),
        "attribute tree of {RESOURCE_TYPE} differs from {EXPECTED_TREE} \
         (format: path type flags; see the file's header)"
    );
}

/// Every attribute carries a Markdown description, since the docs are
/// generated from them.
#[test]
fn schema_every_attribute_has_markdown_description() {
    let bad: Vec<String> = schema_attributes()
        .iter()
        .filter(|a| {
            a.description.as_deref().is_none_or(|d| d.trim().is_empty())
                || a.description_kind.as_deref() != Some("markdown")
        })
        .map(|a| {
            format!(
                "{}: description={:?} description_kind={:?}",
                a.path, a.description, a.description_kind
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "attributes without a Markdown description:\n{}",
        bad.join("\n")
    );
}
