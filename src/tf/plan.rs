//! The plan pipeline that runs for every PlanResourceChange, in the order
//! terraform-plugin-framework uses:
//!
//! 1. start from Terraform's proposed new state;
//! 2. plan each attribute's default where the configuration leaves it null;
//! 3. null out write-only attributes (they never reach plan or state);
//! 4. if the resource is created or changes, mark computed attributes whose
//!    configuration is null as unknown ("known after apply"), except those
//!    that keep their prior value (`use_state_for_unknown`);
//! 5. collect the paths of `requires_replace` attributes that change;
//! 6. let the resource refine the plan.
//!
//! Plan invariants Terraform enforces, which every step keeps: a configured
//! value is planned as configured; a known planned value is what apply must
//! produce; an unknown may later become anything of its type.

use super::path::AttributePath;
use super::resource::{ClientCapabilities, PlanRequest, PlanResponse, Resource};
use super::schema::{Attribute, AttributeKind, Nesting};
use super::value::Value;

/// Everything PlanResourceChange receives, decoded.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// Prior state (`Null` on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (`Null` on destroy).
    pub proposed_new_state: Value,
    /// Configuration (`Null` on destroy).
    pub config: Value,
    /// Prior private bytes.
    pub prior_private: Vec<u8>,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
}

/// Plans a change of `resource`.
pub async fn plan_resource_change(resource: &dyn Resource, input: PlanInput) -> PlanResponse {
    let mut resp = PlanResponse {
        planned_state: Value::Null,
        planned_private: input.prior_private.clone(),
        ..PlanResponse::default()
    };
    let req = PlanRequest {
        prior_state: input.prior_state,
        config: input.config,
        prior_private: input.prior_private,
        capabilities: input.capabilities,
    };

    // Destroy: the plan is null; the resource may still add diagnostics.
    if input.proposed_new_state.is_null() {
        resource.plan(&req, &mut resp).await;
        resp.planned_state = Value::Null;
        return resp;
    }

    let schema = resource.schema();
    let attributes = &schema.block.attributes;
    let mut planned = input.proposed_new_state;
    apply_defaults(attributes, &mut planned, &req.config);
    null_write_only(attributes, &mut planned);
    let changed = req.prior_state.is_null() || !planned.semantically_equal(&req.prior_state);
    if changed {
        mark_computed_unknown(attributes, &mut planned, &req.config, &req.prior_state);
    }
    if !req.prior_state.is_null() {
        collect_requires_replace(
            attributes,
            &AttributePath::empty(),
            &req.prior_state,
            &planned,
            &mut resp.requires_replace,
        );
        resp.requires_replace.sort();
        resp.requires_replace.dedup();
    }
    resp.planned_state = planned;
    resource.plan(&req, &mut resp).await;
    resp
}

/// Visits the nested objects of a nested attribute value, pairing each with
/// the matching configuration (and optionally prior) object.
fn nested_objects_mut<'a>(
    nesting: Nesting,
    planned: &'a mut Value,
    config: &'a Value,
) -> Vec<(&'a mut Value, &'a Value)> {
    static NULL: Value = Value::Null;
    match (nesting, planned) {
        (Nesting::Single | Nesting::Group, obj @ Value::Object(_)) => vec![(obj, config)],
        (Nesting::List, Value::List(items)) => {
            let cfg = config.as_elements().unwrap_or(&[]);
            items
                .iter_mut()
                .enumerate()
                .map(|(i, v)| (v, cfg.get(i).unwrap_or(&NULL)))
                .collect()
        }
        (Nesting::Map, Value::Map(items)) => items
            .iter_mut()
            .map(|(k, v)| {
                (
                    v,
                    config.as_entries().and_then(|m| m.get(k)).unwrap_or(&NULL),
                )
            })
            .collect(),
        // Set elements cannot be paired with their configuration.
        _ => Vec::new(),
    }
}

fn attribute_mut<'a>(object: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    match object {
        Value::Object(m) => m.get_mut(name),
        _ => None,
    }
}

/// Step 2: defaults where the configuration is null.
fn apply_defaults(attributes: &[Attribute], planned: &mut Value, config: &Value) {
    for attr in attributes {
        let cfg = config.get(&attr.name);
        let Some(slot) = attribute_mut(planned, &attr.name) else {
            continue;
        };
        if let (true, Some(default)) = (cfg.is_null(), &attr.default) {
            *slot = default.clone();
            continue;
        }
        if let AttributeKind::Nested(nested) = &attr.kind {
            for (obj, obj_cfg) in nested_objects_mut(nested.nesting, slot, cfg) {
                apply_defaults(&nested.attributes, obj, obj_cfg);
            }
        }
    }
}

/// Step 3: write-only attributes are always null in a plan.
fn null_write_only(attributes: &[Attribute], planned: &mut Value) {
    static NULL: Value = Value::Null;
    for attr in attributes {
        let Some(slot) = attribute_mut(planned, &attr.name) else {
            continue;
        };
        if attr.write_only {
            *slot = Value::Null;
            continue;
        }
        if let AttributeKind::Nested(nested) = &attr.kind {
            for (obj, _) in nested_objects_mut(nested.nesting, slot, &NULL) {
                null_write_only(&nested.attributes, obj);
            }
        }
    }
}

/// Step 4: computed attributes the configuration leaves null become unknown,
/// or keep their prior value where the schema says so.
fn mark_computed_unknown(
    attributes: &[Attribute],
    planned: &mut Value,
    config: &Value,
    prior: &Value,
) {
    for attr in attributes {
        let cfg = config.get(&attr.name);
        let prior_value = prior.get(&attr.name);
        let Some(slot) = attribute_mut(planned, &attr.name) else {
            continue;
        };
        if attr.computed && attr.default.is_none() && cfg.is_null() {
            *slot = if attr.use_state_for_unknown && !prior.is_null() && !prior.is_unknown() {
                prior_value.clone()
            } else {
                Value::UNKNOWN
            };
            continue;
        }
        if let AttributeKind::Nested(nested) = &attr.kind {
            // Only single nested objects pair with a prior object reliably.
            let prior_obj = if matches!(nested.nesting, Nesting::Single | Nesting::Group) {
                prior_value.clone()
            } else {
                Value::Null
            };
            for (obj, obj_cfg) in nested_objects_mut(nested.nesting, slot, cfg) {
                mark_computed_unknown(&nested.attributes, obj, obj_cfg, &prior_obj);
            }
        }
    }
}

/// Step 5: paths of replace-forcing attributes whose planned value differs
/// from the prior state.
fn collect_requires_replace(
    attributes: &[Attribute],
    base: &AttributePath,
    prior: &Value,
    planned: &Value,
    out: &mut Vec<AttributePath>,
) {
    for attr in attributes {
        let path = base.attr(&attr.name);
        let before = prior.get(&attr.name);
        let after = planned.get(&attr.name);
        if attr.requires_replace {
            if !before.semantically_equal(after) || after.is_unknown() && !before.is_unknown() {
                out.push(path);
            }
            continue;
        }
        if let AttributeKind::Nested(nested) = &attr.kind {
            match nested.nesting {
                Nesting::Single | Nesting::Group => {
                    collect_requires_replace(&nested.attributes, &path, before, after, out)
                }
                Nesting::List => {
                    let (b, a) = (
                        before.as_elements().unwrap_or(&[]),
                        after.as_elements().unwrap_or(&[]),
                    );
                    for (i, (pb, pa)) in b.iter().zip(a).enumerate() {
                        collect_requires_replace(&nested.attributes, &path.index(i), pb, pa, out);
                    }
                }
                Nesting::Map => {
                    if let (Some(b), Some(a)) = (before.as_entries(), after.as_entries()) {
                        for (k, pa) in a {
                            if let Some(pb) = b.get(k) {
                                collect_requires_replace(
                                    &nested.attributes,
                                    &path.key(k),
                                    pb,
                                    pa,
                                    out,
                                );
                            }
                        }
                    }
                }
                Nesting::Set => {}
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::tf::diag::Diagnostics;
    use crate::tf::resource::{
        ApplyResponse, CreateRequest, DeleteRequest, ReadRequest, ReadResponse, UpdateRequest,
        ValidateRequest,
    };
    use crate::tf::schema::{Block, Schema};
    use crate::tf::types::Type;

    /// A resource with one attribute of each plan behaviour.
    struct Fake;

    #[async_trait]
    impl Resource for Fake {
        fn type_name(&self) -> &'static str {
            "fake_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new(
                vec![
                    Attribute::computed("id", Type::String, "id").use_state_for_unknown(),
                    Attribute::computed("status", Type::String, "changes on every apply"),
                    Attribute::required("name", Type::String, "name").requires_replace(),
                    Attribute::optional("secret", Type::String, "secret").write_only(),
                    Attribute::nested(
                        "spec",
                        Nesting::Single,
                        vec![
                            Attribute::optional("size", Type::Number, "size")
                                .with_default(Value::int(1)),
                            Attribute::optional("mode", Type::String, "mode").requires_replace(),
                        ],
                        "spec",
                    )
                    .set_optional(),
                    Attribute::nested(
                        "items",
                        Nesting::List,
                        vec![
                            Attribute::optional("flag", Type::Bool, "flag")
                                .with_default(Value::Bool(false)),
                        ],
                        "items",
                    )
                    .set_optional(),
                ],
                "fake",
            ))
        }
        async fn validate(&self, _req: ValidateRequest) -> Diagnostics {
            Diagnostics::new()
        }
        async fn create(&self, _req: CreateRequest) -> ApplyResponse {
            ApplyResponse::default()
        }
        async fn read(&self, _req: ReadRequest) -> ReadResponse {
            ReadResponse::default()
        }
        async fn update(&self, _req: UpdateRequest) -> ApplyResponse {
            ApplyResponse::default()
        }
        async fn delete(&self, _req: DeleteRequest) -> ApplyResponse {
            ApplyResponse::default()
        }
    }

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::object(pairs)
    }

    /// A configuration as Terraform proposes it: every attribute present.
    fn config(name: &str, size: Value, mode: Value, items: Value) -> Value {
        obj(vec![
            ("id", Value::Null),
            ("status", Value::Null),
            ("name", Value::string(name)),
            ("secret", Value::string("hunter2")),
            ("spec", obj(vec![("size", size), ("mode", mode)])),
            ("items", items),
        ])
    }

    async fn plan(prior: Value, proposed: Value, config: Value) -> PlanResponse {
        plan_resource_change(
            &Fake,
            PlanInput {
                prior_state: prior,
                proposed_new_state: proposed,
                config,
                prior_private: Vec::new(),
                capabilities: ClientCapabilities::default(),
            },
        )
        .await
    }

    fn items_one_null_flag() -> Value {
        Value::List(vec![obj(vec![("flag", Value::Null)])])
    }

    /// On create, defaults are known, computed values unknown, write-only null.
    #[tokio::test]
    async fn create_plans_defaults_and_unknowns() {
        let cfg = config("a", Value::Null, Value::Null, items_one_null_flag());
        let resp = plan(Value::Null, cfg.clone(), cfg).await;
        let p = &resp.planned_state;
        assert_eq!(p.get("id"), &Value::UNKNOWN);
        assert_eq!(p.get("status"), &Value::UNKNOWN);
        assert_eq!(p.get("secret"), &Value::Null);
        assert_eq!(p.get("spec").get("size"), &Value::int(1));
        assert_eq!(
            p.get("items").as_elements().unwrap()[0].get("flag"),
            &Value::Bool(false)
        );
        assert!(resp.requires_replace.is_empty());
    }

    /// An unchanged resource plans exactly its prior state (no diff).
    #[tokio::test]
    async fn unchanged_plans_no_change() {
        let cfg = config("a", Value::Null, Value::Null, items_one_null_flag());
        let prior = obj(vec![
            ("id", Value::string("x")),
            ("status", Value::string("done")),
            ("name", Value::string("a")),
            ("secret", Value::Null),
            (
                "spec",
                obj(vec![("size", Value::int(1)), ("mode", Value::Null)]),
            ),
            (
                "items",
                Value::List(vec![obj(vec![("flag", Value::Bool(false))])]),
            ),
        ]);
        // Terraform proposes prior values for computed attributes.
        let mut proposed = cfg.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("id".into(), Value::string("x"));
            m.insert("status".into(), Value::string("done"));
        }
        let resp = plan(prior.clone(), proposed, cfg).await;
        assert!(
            resp.planned_state.semantically_equal(&prior),
            "{:?}",
            resp.planned_state
        );
        assert!(resp.requires_replace.is_empty());
    }

    /// An in-place change keeps `id` (use state for unknown) and marks other
    /// computed values unknown; a changed replace attribute is reported.
    #[tokio::test]
    async fn update_keeps_id_and_reports_replacement() {
        let cfg = config("b", Value::int(3), Value::string("fast"), Value::Null);
        let prior = obj(vec![
            ("id", Value::string("x")),
            ("status", Value::string("done")),
            ("name", Value::string("a")),
            ("secret", Value::Null),
            (
                "spec",
                obj(vec![
                    ("size", Value::int(1)),
                    ("mode", Value::string("slow")),
                ]),
            ),
            ("items", Value::Null),
        ]);
        let resp = plan(prior, cfg.clone(), cfg).await;
        assert_eq!(resp.planned_state.get("id"), &Value::string("x"));
        assert_eq!(resp.planned_state.get("status"), &Value::UNKNOWN);
        assert_eq!(
            resp.requires_replace,
            vec![
                AttributePath::root("name"),
                AttributePath::root("spec").attr("mode")
            ]
        );
    }

    /// A destroy plans null.
    #[tokio::test]
    async fn destroy_plans_null() {
        let prior = config("a", Value::int(1), Value::Null, Value::Null);
        let resp = plan(prior, Value::Null, Value::Null).await;
        assert_eq!(resp.planned_state, Value::Null);
    }

    /// An unknown configured value stays unknown and never takes a default.
    #[tokio::test]
    async fn unknown_config_is_kept() {
        let cfg = config("a", Value::UNKNOWN, Value::Null, Value::UNKNOWN);
        let resp = plan(Value::Null, cfg.clone(), cfg).await;
        assert_eq!(resp.planned_state.get("spec").get("size"), &Value::UNKNOWN);
        assert_eq!(resp.planned_state.get("items"), &Value::UNKNOWN);
    }
}
