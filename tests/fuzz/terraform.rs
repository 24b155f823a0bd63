//! What Terraform does around PlanResourceChange, ported from Terraform's
//! `internal/plans/objchange` (v1.15) so that a fuzzer can play Terraform:
//!
//! - [`proposed_new`]: `ProposedNew`, the proposed new state Terraform
//!   sends with the configuration and the prior state;
//! - [`plan_errors`]: `AssertPlanValid`, the checks after which Terraform
//!   reports "Provider produced invalid plan" (a configured non-computed
//!   value is planned as configured, a known configured value stays known,
//!   nested collections keep their configured elements, write-only values
//!   are null);
//! - [`replace_path_errors`]: requires-replace paths must lead somewhere in
//!   the prior or planned value (Terraform's `hcl.ApplyPath` on both).
//!
//! Values are compared as Terraform's `RawEquals` after dropping
//! refinements; set nesting is planned as configured (the resource has none).

use planton_provider::tf::schema::{Attribute, AttributeKind, NestedAttributes, Nesting};
use planton_provider::tf::{AttributePath, PathStep, Value};

static NULL: Value = Value::Null;

// ---------------------------------------------------------------------------
// ProposedNew

/// The proposed new state for `config` over `prior` (a resource's
/// top-level attributes).
pub fn proposed_new(attributes: &[Attribute], prior: &Value, config: &Value) -> Value {
    if config.is_null() && prior.is_null() {
        return Value::Null;
    }
    if config.is_null() || config.is_unknown() {
        return prior.clone();
    }
    Value::Object(
        attributes
            .iter()
            .map(|a| (a.name.clone(), proposed_attribute(a, prior, config)))
            .collect(),
    )
}

fn proposed_attribute(a: &Attribute, prior: &Value, config: &Value) -> Value {
    let prior_v = if prior.is_null() {
        &NULL
    } else {
        prior.get(&a.name)
    };
    let config_v = config.get(&a.name);
    let nested = match &a.kind {
        AttributeKind::Nested(n) => Some(n),
        AttributeKind::Type(_) => None,
    };
    if a.computed && a.optional {
        if config_v.is_null() {
            if optional_value_not_computable(a, prior_v) {
                return config_v.clone();
            }
            return prior_v.clone();
        }
        return match nested {
            Some(n) => proposed_nested(n, prior_v, config_v),
            None => config_v.clone(),
        };
    }
    if a.computed {
        if optional_value_not_computable(a, prior_v) {
            return config_v.clone();
        }
        return prior_v.clone();
    }
    match nested {
        Some(n) => proposed_nested(n, prior_v, config_v),
        None => config_v.clone(),
    }
}

/// Whether a prior nested value holds an attribute only configuration can
/// set (so the configuration was not null before).
fn optional_value_not_computable(a: &Attribute, prior: &Value) -> bool {
    if !a.optional {
        return false;
    }
    let AttributeKind::Nested(n) = &a.kind else {
        return false;
    };
    fn objects<'a>(n: &NestedAttributes, v: &'a Value) -> Vec<&'a Value> {
        match (n.nesting, v) {
            (_, Value::Null | Value::Unknown(_)) => Vec::new(),
            (Nesting::Single | Nesting::Group, o) => vec![o],
            (_, v) => v
                .as_elements()
                .map(|e| e.iter().collect())
                .or_else(|| v.as_entries().map(|m| m.values().collect()))
                .unwrap_or_default(),
        }
    }
    fn found(n: &NestedAttributes, v: &Value) -> bool {
        objects(n, v).into_iter().any(|o| {
            n.attributes.iter().any(|child| {
                let cv = o.get(&child.name);
                if cv.is_null() {
                    return false;
                }
                if !child.computed {
                    return true;
                }
                match &child.kind {
                    AttributeKind::Nested(cn) => found(cn, cv),
                    AttributeKind::Type(_) => false,
                }
            })
        })
    }
    found(n, prior)
}

fn proposed_nested(n: &NestedAttributes, prior: &Value, config: &Value) -> Value {
    if config.is_unknown() {
        return config.clone();
    }
    match n.nesting {
        Nesting::Single | Nesting::Group => {
            if config.is_null() {
                config.clone()
            } else {
                proposed_object(&n.attributes, prior, config)
            }
        }
        Nesting::List => match config {
            Value::List(items) if !items.is_empty() => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match prior.as_elements().and_then(|p| p.get(i)) {
                        Some(p) => proposed_object(&n.attributes, p, c),
                        None => c.clone(),
                    })
                    .collect(),
            ),
            _ => config.clone(),
        },
        Nesting::Map => match config {
            Value::Map(items) if !items.is_empty() => Value::Map(
                items
                    .iter()
                    .map(|(k, c)| {
                        let v = match prior.as_entries().and_then(|p| p.get(k)) {
                            Some(p) => proposed_object(&n.attributes, p, c),
                            None => c.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            _ => config.clone(),
        },
        Nesting::Set => config.clone(),
    }
}

fn proposed_object(attributes: &[Attribute], prior: &Value, config: &Value) -> Value {
    if config.is_null() {
        return config.clone();
    }
    Value::Object(
        attributes
            .iter()
            .map(|a| (a.name.clone(), proposed_attribute(a, prior, config)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// AssertPlanValid

/// Why Terraform would refuse `planned` as the plan for `config` over
/// `prior`; empty when it accepts it.
pub fn plan_errors(
    attributes: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Vec<String> {
    let mut errs = Vec::new();
    let root = AttributePath::empty();
    if planned.is_null() && !config.is_null() {
        errs.push("planned for absence but config wants existence".to_string());
        return errs;
    }
    if config.is_null() && !planned.is_null() {
        errs.push("planned for existence but config wants absence".to_string());
        return errs;
    }
    if planned.is_null() {
        return errs;
    }
    attrs_valid(attributes, prior, config, planned, &root, &mut errs);
    errs
}

fn attrs_valid(
    attributes: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttributePath,
    errs: &mut Vec<String>,
) {
    for a in attributes {
        let planned_v = planned.get(&a.name);
        let config_v = config.get(&a.name);
        let prior_v = if prior.is_null() {
            &NULL
        } else {
            prior.get(&a.name)
        };
        let path = path.attr(&a.name);
        if a.write_only {
            if !planned_v.is_null() {
                errs.push(format!(
                    "{path}: planned a value for a write-only attribute"
                ));
            }
            continue;
        }
        value_valid(a, prior_v, config_v, planned_v, &path, errs);
    }
}

fn value_valid(
    a: &Attribute,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttributePath,
    errs: &mut Vec<String>,
) {
    if raw_equal(planned, config) {
        return;
    }
    if raw_equal(planned, prior) && !prior.is_null() && !config.is_null() {
        return;
    }
    if a.computed && !a.optional && !a.required {
        return;
    }
    if config.is_null() && a.computed {
        return;
    }
    if config.is_null() && !planned.is_null() {
        errs.push(format!(
            "{path}: planned value {planned:?} for a non-computed attribute"
        ));
        return;
    }
    if let AttributeKind::Nested(n) = &a.kind {
        object_valid(n, prior, config, planned, path, errs);
        return;
    }
    if prior.is_null() {
        errs.push(format!(
            "{path}: planned value {planned:?} does not match config value {config:?}"
        ));
    } else {
        errs.push(format!(
            "{path}: planned value {planned:?} does not match config value {config:?} nor prior value {prior:?}"
        ));
    }
}

fn object_valid(
    n: &NestedAttributes,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttributePath,
    errs: &mut Vec<String>,
) {
    if planned.is_null() && !config.is_null() {
        errs.push(format!(
            "{path}: planned for absence but config wants existence"
        ));
        return;
    }
    if config.is_null() && !planned.is_null() {
        errs.push(format!(
            "{path}: planned for existence but config wants absence"
        ));
        return;
    }
    if !config.is_null() && planned.is_unknown() {
        errs.push(format!("{path}: planned unknown for configured value"));
        return;
    }
    if planned.is_null() {
        return;
    }
    match n.nesting {
        Nesting::Single | Nesting::Group => {
            attrs_valid(&n.attributes, prior, config, planned, path, errs)
        }
        Nesting::List => {
            if config.is_unknown() {
                errs.push(format!(
                    "{path}: count in plan disagrees with count in config (unknown)"
                ));
                return;
            }
            let (p, c) = (
                planned.as_elements().unwrap_or(&[]),
                config.as_elements().unwrap_or(&[]),
            );
            if p.len() != c.len() {
                errs.push(format!(
                    "{path}: count in plan ({}) disagrees with count in config ({})",
                    p.len(),
                    c.len()
                ));
                return;
            }
            for (i, (pe, ce)) in p.iter().zip(c).enumerate() {
                let prior_e = prior.as_elements().and_then(|e| e.get(i)).unwrap_or(&NULL);
                attrs_valid(&n.attributes, prior_e, ce, pe, &path.index(i), errs);
            }
        }
        Nesting::Map => {
            if config.is_unknown() {
                errs.push(format!(
                    "{path}: count in plan disagrees with count in config (unknown)"
                ));
                return;
            }
            let empty = Default::default();
            let p = planned.as_entries().unwrap_or(&empty);
            let c = config.as_entries().unwrap_or(&empty);
            if p.len() != c.len() {
                errs.push(format!(
                    "{path}: count in plan ({}) disagrees with count in config ({})",
                    p.len(),
                    c.len()
                ));
                return;
            }
            for (k, pe) in p {
                let Some(ce) = c.get(k) else {
                    errs.push(format!(
                        "{path}: map key {k:?} from plan is not present in config"
                    ));
                    continue;
                };
                let prior_e = prior.as_entries().and_then(|m| m.get(k)).unwrap_or(&NULL);
                attrs_valid(&n.attributes, prior_e, ce, pe, &path.key(k), errs);
            }
            for k in c.keys() {
                if !p.contains_key(k) {
                    errs.push(format!(
                        "{path}: map key {k:?} from config is not present in plan"
                    ));
                }
            }
        }
        Nesting::Set => {}
    }
}

/// `RawEquals` of unrefined values: unknowns equal unknowns, sets compare
/// as sets.
pub fn raw_equal(a: &Value, b: &Value) -> bool {
    a.semantically_equal(b)
}

// ---------------------------------------------------------------------------
// Requires-replace paths

/// The requires-replace paths that lead nowhere in both `prior` and
/// `planned` (Terraform: "indicated requires replacement on a non-existent
/// attribute path").
pub fn replace_path_errors(prior: &Value, planned: &Value, paths: &[AttributePath]) -> Vec<String> {
    if prior.is_null() {
        // A create: Terraform ignores them.
        return Vec::new();
    }
    paths
        .iter()
        .filter(|p| !leads_somewhere(prior, p) && !leads_somewhere(planned, p))
        .map(|p| format!("requires replacement on a non-existent attribute path {p}"))
        .collect()
}

/// `hcl.ApplyPath`: stepping into null fails, into unknown succeeds.
fn leads_somewhere(value: &Value, path: &AttributePath) -> bool {
    let mut v = value;
    for step in &path.0 {
        if v.is_unknown() {
            return true;
        }
        let next = match (step, v) {
            (PathStep::Attribute(name), Value::Object(m)) => m.get(name),
            (PathStep::Key(k), Value::Map(m)) => m.get(k),
            (PathStep::Index(i), Value::List(items) | Value::Tuple(items)) => {
                usize::try_from(*i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// AssertObjectCompatible (after apply)

/// Why Terraform would call `actual` an inconsistent result of applying
/// `planned` ("Provider produced inconsistent result after apply"): a
/// known planned value changed, or an unknown is left in the new state.
pub fn apply_errors(planned: &Value, actual: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    compatible(planned, actual, &AttributePath::empty(), &mut errs);
    errs
}

fn compatible(planned: &Value, actual: &Value, path: &AttributePath, errs: &mut Vec<String>) {
    if !actual.is_wholly_known() {
        errs.push(format!("{path}: the new state holds an unknown value"));
        return;
    }
    match (planned, actual) {
        (Value::Unknown(_), _) => {}
        (Value::Object(p), Value::Object(a)) | (Value::Map(p), Value::Map(a)) => {
            let map = matches!(planned, Value::Map(_));
            if map && p.len() != a.len() {
                errs.push(format!(
                    "{path}: planned {} elements, got {}",
                    p.len(),
                    a.len()
                ));
                return;
            }
            for (k, pv) in p {
                let step = if map { path.key(k) } else { path.attr(k) };
                compatible(pv, a.get(k).unwrap_or(&NULL), &step, errs);
            }
        }
        (Value::List(p), Value::List(a)) | (Value::Tuple(p), Value::Tuple(a)) => {
            if p.len() != a.len() {
                errs.push(format!(
                    "{path}: planned {} elements, got {}",
                    p.len(),
                    a.len()
                ));
                return;
            }
            for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                compatible(pv, av, &path.index(i), errs);
            }
        }
        // Sets with unknown elements may gain or lose elements.
        (Value::Set(p), Value::Set(_)) if !p.iter().all(Value::is_wholly_known) => {}
        (p, a) => {
            if !p.semantically_equal(a) {
                errs.push(format!("{path}: was {p:?}, but now {a:?}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The port must catch what Terraform catches, or the fuzzer proves
    //! nothing: each rule against a plan that breaks it.

    use planton_provider::tf::{Type, Value};

    use super::*;

    fn schema() -> Vec<Attribute> {
        vec![
            Attribute::computed("id", Type::String, "id"),
            Attribute::required("name", Type::String, "name"),
            Attribute::optional("size", Type::Number, "size").with_default(Value::int(1)),
            Attribute::optional("secret", Type::String, "secret").write_only(),
            Attribute::nested(
                "items",
                Nesting::Map,
                vec![Attribute::optional("flag", Type::Bool, "flag")],
                "items",
            )
            .set_optional(),
        ]
    }

    fn config() -> Value {
        Value::object([
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("size", Value::Null),
            ("secret", Value::string("s")),
            (
                "items",
                Value::Map(
                    [(
                        "k".to_string(),
                        Value::object([("flag", Value::Bool(true))]),
                    )]
                    .into(),
                ),
            ),
        ])
    }

    fn good_plan() -> Value {
        let mut p = proposed_new(&schema(), &Value::Null, &config());
        if let Value::Object(m) = &mut p {
            m.insert("id".into(), Value::UNKNOWN);
            m.insert("size".into(), Value::int(1));
            m.insert("secret".into(), Value::Null);
        }
        p
    }

    fn with(mut v: Value, name: &str, value: Value) -> Value {
        if let Value::Object(m) = &mut v {
            m.insert(name.into(), value);
        }
        v
    }

    #[test]
    fn a_plan_that_keeps_the_rules_passes() {
        let errs = plan_errors(&schema(), &Value::Null, &config(), &good_plan());
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn a_changed_configured_value_is_refused() {
        let plan = with(good_plan(), "name", Value::string("b"));
        let errs = plan_errors(&schema(), &Value::Null, &config(), &plan);
        assert!(errs[0].contains("name: planned value"), "{errs:?}");
    }

    #[test]
    fn a_known_configured_value_planned_unknown_is_refused() {
        let plan = with(good_plan(), "name", Value::UNKNOWN);
        assert_eq!(
            plan_errors(&schema(), &Value::Null, &config(), &plan).len(),
            1
        );
    }

    #[test]
    fn a_value_for_an_unset_non_computed_attribute_is_refused() {
        let cfg = with(config(), "items", Value::Null);
        let plan = good_plan();
        let errs = plan_errors(&schema(), &Value::Null, &cfg, &plan);
        assert!(errs[0].contains("non-computed"), "{errs:?}");
    }

    #[test]
    fn a_write_only_value_in_the_plan_is_refused() {
        let plan = with(good_plan(), "secret", Value::string("s"));
        let errs = plan_errors(&schema(), &Value::Null, &config(), &plan);
        assert!(errs[0].contains("write-only"), "{errs:?}");
    }

    #[test]
    fn a_map_key_the_configuration_lacks_is_refused() {
        let items = Value::Map(
            [
                (
                    "k".to_string(),
                    Value::object([("flag", Value::Bool(true))]),
                ),
                ("x".to_string(), Value::object([("flag", Value::Null)])),
            ]
            .into(),
        );
        let plan = with(good_plan(), "items", items);
        let errs = plan_errors(&schema(), &Value::Null, &config(), &plan);
        assert!(errs[0].contains("count in plan"), "{errs:?}");
    }

    #[test]
    fn a_prior_value_may_stand_for_an_equivalent_configured_one() {
        let prior = with(good_plan(), "name", Value::string("A"));
        let prior = with(prior, "id", Value::string("x"));
        let plan = with(good_plan(), "name", Value::string("A"));
        assert!(plan_errors(&schema(), &prior, &config(), &plan).is_empty());
    }

    #[test]
    fn proposed_new_keeps_computed_prior_values_and_takes_configured_ones() {
        let prior = with(
            with(good_plan(), "id", Value::string("x")),
            "name",
            Value::string("old"),
        );
        let proposed = proposed_new(&schema(), &prior, &config());
        assert_eq!(proposed.get("id"), &Value::string("x"));
        assert_eq!(proposed.get("name"), &Value::string("a"));
    }

    #[test]
    fn replace_paths_must_lead_somewhere() {
        let prior = with(good_plan(), "id", Value::string("x"));
        let ok = AttributePath::root("items").key("k").attr("flag");
        let missing = AttributePath::root("items").key("nope").attr("flag");
        let errs = replace_path_errors(&prior, &good_plan(), &[ok, missing]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("nope"), "{errs:?}");
    }
}
