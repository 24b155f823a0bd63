//! Attribute paths from source ranges: which attribute of a resource's
//! configuration a Terraform diagnostic points at.
//!
//! Terraform's `validate -json` carries no attribute path, but for a
//! diagnostic the provider attached to a path it computes the `range` from
//! that path, and Terraform 1.15 follows it into nested attributes (object
//! and tuple constructors): the range is exactly the source of the value at
//! the path; for a map element, the element's value. For a path the
//! configuration does not set (a missing attribute), it is the value of the
//! deepest part of the path that is set, e.g. the `spec = { ... }` object for
//! `spec.completions`. So parsing the configuration with spans and
//! finding the value whose span equals the range gives the path back
//! (verified by experiment with Terraform 1.15.5; see `validate.rs`).

use std::collections::BTreeSet;
use std::ops::Range;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{BlockLabel, Structure};
use planton_provider::tf::AttributePath;

/// Every value in one resource block's configuration, with its attribute
/// path and byte span.
#[derive(Debug)]
pub struct ConfigPaths {
    values: Vec<(AttributePath, Range<usize>)>,
}

impl ConfigPaths {
    /// The values of the resource `resource_type.name` in `source`.
    /// `map_paths` are the schema paths (dotted, without keys or indexes) of
    /// map-typed attributes, whose object keys are map keys, not attributes.
    pub fn of_resource(
        source: &str,
        resource_type: &str,
        name: &str,
        map_paths: &BTreeSet<String>,
    ) -> Result<ConfigPaths, String> {
        let body = hcl_edit::parser::parse_body(source).map_err(|e| format!("HCL: {e}"))?;
        let label = |l: &BlockLabel| match l {
            BlockLabel::String(s) => s.value().to_string(),
            BlockLabel::Ident(i) => i.as_str().to_string(),
        };
        let block = body
            .iter()
            .filter_map(Structure::as_block)
            .find(|b| {
                b.ident.as_str() == "resource"
                    && b.labels.iter().map(label).collect::<Vec<_>>() == [resource_type, name]
            })
            .ok_or_else(|| format!("no resource \"{resource_type}\" \"{name}\" in the source"))?;
        let mut values = Vec::new();
        for attr in block.body.iter().filter_map(Structure::as_attribute) {
            let key = attr.key.as_str();
            walk(
                &attr.value,
                AttributePath::root(key),
                key.to_string(),
                map_paths.contains(key),
                map_paths,
                &mut values,
            );
        }
        Ok(ConfigPaths { values })
    }

    /// The path of the deepest value whose span is exactly `range`.
    pub fn at(&self, range: Range<usize>) -> Option<&AttributePath> {
        self.values
            .iter()
            .filter(|(_, span)| *span == range)
            .map(|(path, _)| path)
            .max_by_key(|p| p.0.len())
    }

    /// The deepest value on `path` (a rendered path) that the configuration
    /// sets: `path` itself, or its longest prefix that is set.
    pub fn deepest_set_prefix(&self, path: &str) -> Option<&AttributePath> {
        self.values
            .iter()
            .map(|(p, _)| p)
            .filter(|p| {
                let p = p.to_string();
                path.strip_prefix(&p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
            .max_by_key(|p| p.0.len())
    }
}

/// Records `expr` at `path`, then its elements. `schema_path` is `path`
/// without keys and indexes; `is_map` says `expr` is a whole map value.
fn walk(
    expr: &Expression,
    path: AttributePath,
    schema_path: String,
    is_map: bool,
    map_paths: &BTreeSet<String>,
    out: &mut Vec<(AttributePath, Range<usize>)>,
) {
    if let Some(span) = expr.span() {
        out.push((path.clone(), span));
    }
    match expr {
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    // A computed key: no static path.
                    ObjectKey::Expression(_) => continue,
                };
                if is_map {
                    walk(
                        value.expr(),
                        path.key(key),
                        schema_path.clone(),
                        false,
                        map_paths,
                        out,
                    );
                } else {
                    let child = format!("{schema_path}.{key}");
                    let child_is_map = map_paths.contains(&child);
                    walk(
                        value.expr(),
                        path.attr(key),
                        child,
                        child_is_map,
                        map_paths,
                        out,
                    );
                }
            }
        }
        Expression::Array(array) => {
            for (i, element) in array.iter().enumerate() {
                walk(
                    element,
                    path.index(i),
                    schema_path.clone(),
                    false,
                    map_paths,
                    out,
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"resource "planton_kubernetes_job" "x" {
  metadata = {
    name   = "a"
    labels = { team = "x" }
  }
  spec = {
    env = {
      variables = {
        "1BAD" = { value = "1" }
        B      = {}
      }
    }
    volume_mounts = [
      { name = "v", mount_path = "rel" },
    ]
  }
}
"#;

    fn paths() -> ConfigPaths {
        let maps: BTreeSet<String> = ["metadata.labels", "spec.env.variables"]
            .into_iter()
            .map(String::from)
            .collect();
        ConfigPaths::of_resource(SOURCE, "planton_kubernetes_job", "x", &maps).unwrap()
    }

    fn span_of(text: &str) -> Range<usize> {
        let start = SOURCE.find(text).unwrap();
        start..start + text.len()
    }

    /// Spans map back to attribute paths, with map keys and list indexes.
    #[test]
    fn config_paths_find_values_by_span() {
        let p = paths();
        let at = |text| p.at(span_of(text)).map(ToString::to_string);
        assert_eq!(
            at(r#"{ value = "1" }"#).as_deref(),
            Some(r#"spec.env.variables["1BAD"]"#)
        );
        assert_eq!(
            at(r#""rel""#).as_deref(),
            Some("spec.volume_mounts[0].mount_path")
        );
        assert_eq!(at(r#"{ team = "x" }"#).as_deref(), Some("metadata.labels"));
        let team = SOURCE.find(r#""x" }"#).unwrap();
        assert_eq!(
            p.at(team..team + 3).map(ToString::to_string).as_deref(),
            Some(r#"metadata.labels["team"]"#)
        );
    }

    /// A path the configuration does not set resolves to its deepest set part.
    #[test]
    fn config_paths_deepest_set_prefix() {
        let p = paths();
        let deepest = |path| p.deepest_set_prefix(path).map(ToString::to_string);
        assert_eq!(deepest("spec.completions").as_deref(), Some("spec"));
        assert_eq!(
            deepest(r#"spec.env.variables["B"].value"#).as_deref(),
            Some(r#"spec.env.variables["B"]"#)
        );
        assert_eq!(
            deepest("spec.volume_mounts[0].mount_path").as_deref(),
            Some("spec.volume_mounts[0].mount_path")
        );
        assert_eq!(
            deepest("spec.volume_mounts[1]").as_deref(),
            Some("spec.volume_mounts")
        );
        // `spec.env` is not a prefix of `spec.envx`.
        assert_eq!(deepest("spec.envx").as_deref(), Some("spec"));
    }
}
