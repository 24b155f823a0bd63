//! What only matters because this is Terraform: Planton references
//! (`value_from`) that Terraform cannot resolve, with the HCL reference to
//! write instead; "exactly one of" choices the schema cannot express
//! (a variable's or secret's value); an empty cluster name that would
//! silently select the provider-level cluster; and null map or list
//! elements where Kubernetes needs a value.

use std::fmt::Write as _;

use crate::kubernetes_job::model::spec::{Field, KubernetesJob, ValueFromRef};
use crate::tf::{AttributePath, Diagnostics};

use super::wording::spec_path;

/// Checks that exist because this is a Terraform provider: unresolvable
/// Planton references, "exactly one of" pairs, and nulls where Kubernetes
/// needs a value.
pub fn provider_rules(job: &KubernetesJob) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(spec) = job.spec.known() else {
        return d;
    };
    let sp = spec_path();

    // An empty cluster name would read as "no target cluster" and select the
    // provider-level cluster: a silent fallback, so it is an error.
    if let Some(tc) = spec.target_cluster.known()
        && tc.cluster_name.known().is_some_and(|n| n.trim().is_empty())
    {
        d.attribute_error(
            sp.attr("target_cluster").attr("cluster_name"),
            "Invalid Cluster Name",
            "`cluster_name` is empty. Set it to a key of the provider's `clusters` to manage the Job in that \
             cluster, or leave it unset (null) to use the provider-level settings.",
        );
    }

    if let Some(ns) = spec.namespace.known() {
        unresolvable(
            &ns.value_from,
            &sp.attr("namespace").attr("value_from"),
            ("KubernetesNamespace", "spec.name"),
            "namespace = {\n  value = kubernetes_namespace_v1.jobs.metadata[0].name\n}",
            &mut d,
        );
    }

    if let Some(env) = spec.env.known() {
        if let Some(vars) = env.variables.known() {
            for (name, var) in vars {
                let Some(var) = var.known() else { continue };
                let p = sp.attr("env").attr("variables").key(name.clone());
                let var_name: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let example = format!("{name} = {{ value = var.{var_name} }}");
                unresolvable(
                    &var.value_from,
                    &p.attr("value_from"),
                    ("", ""),
                    &example,
                    &mut d,
                );
                if var.value.is_null() && var.value_from.is_null() {
                    d.attribute_error(
                        p,
                        "Missing Variable Value",
                        format!(
                            "The variable {name} sets neither `value` nor `value_from`. Set `value` (an empty \
                             string is allowed), or remove the entry."
                        ),
                    );
                }
            }
        }
        if let Some(secrets) = env.secrets.known() {
            for (name, secret) in secrets {
                let Some(secret) = secret.known() else {
                    continue;
                };
                let p = sp.attr("env").attr("secrets").key(name.clone());
                let value = &secret.value;
                let reference = &secret.secret_ref;
                if value.is_null() && reference.is_null() {
                    d.attribute_error(
                        p,
                        "Missing Secret Value",
                        format!(
                            "The secret {name} sets neither `value` nor `secret_ref`. Set exactly one: `value` \
                             for a value this resource stores in its Secret, or `secret_ref` for a key of an \
                             existing Secret."
                        ),
                    );
                } else if matches!(value, Field::Known(_)) && matches!(reference, Field::Known(_)) {
                    d.attribute_error(
                        p,
                        "Conflicting Secret Value",
                        format!(
                            "The secret {name} sets both `value` and `secret_ref`, and a variable has one \
                             source. Keep exactly one of them."
                        ),
                    );
                }
            }
        }
    }

    if let Some(config_maps) = spec.config_maps.known() {
        for (name, data) in config_maps {
            if data.is_null() {
                d.attribute_error(
                    sp.attr("config_maps").key(name.clone()),
                    "Missing ConfigMap Data",
                    format!(
                        "The ConfigMap {name:?} has a null value. Set its content (an empty string is allowed), \
                         or remove the entry."
                    ),
                );
            }
        }
    }

    for (attr, list) in [("command", &spec.command), ("args", &spec.args)] {
        let Some(items) = list.known() else { continue };
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                d.attribute_error(
                    sp.attr(attr).index(i),
                    "Null List Element",
                    format!(
                        "Element {i} of `{attr}` is null, and a container's {attr} is a list of strings. Remove \
                         the element or give it a value."
                    ),
                );
            }
        }
    }
    d
}

/// Reports a `value_from` that Terraform cannot resolve. A reference with an
/// empty name is left to [`super::planton_rules`], which reports it already.
pub(super) fn unresolvable(
    value_from: &Field<ValueFromRef>,
    p: &AttributePath,
    defaults: (&str, &str),
    example: &str,
    d: &mut Diagnostics,
) {
    let Some(vf) = value_from.known() else {
        return;
    };
    if vf.name.text() == Some("") {
        return;
    }
    let kind = vf.kind.non_empty().unwrap_or(defaults.0);
    let field = vf.field_path.non_empty().unwrap_or(defaults.1);
    let mut target = String::new();
    if !field.is_empty() {
        let _ = write!(target, "field {field:?} of ");
    }
    if !kind.is_empty() {
        let _ = write!(target, "{kind} ");
    }
    match vf.name.known() {
        Some(name) => {
            let _ = write!(target, "{name:?}");
        }
        None => target.push_str("a resource whose name is not known yet"),
    }
    if let Some(env) = vf.env.non_empty() {
        let _ = write!(target, " in environment {env:?}");
    }
    d.attribute_error(
        p.clone(),
        "Unresolvable Value Reference",
        format!(
            "`value_from` reads the {target}. Planton's orchestrator resolves such references before it deploys; \
             Terraform does not, so this provider cannot use them. Pass the value with an HCL reference in \
             `value` instead and remove `value_from`, for example:\n\n{example}\n\nwhere the reference is a \
             variable or an attribute of the resource that provides the value (Terraform then orders the two \
             resources for you)."
        ),
    );
}
