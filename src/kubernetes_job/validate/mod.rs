//! Plan-time validation of a `planton_kubernetes_job` configuration.
//!
//! Three groups of rules, each a function over the [`KubernetesJob`] model:
//!
//! - [`planton_rules`]: exactly what Project Planton's protovalidate rules
//!   check, so a manifest Planton accepts is accepted here and vice versa,
//!   with one deliberate exception: `target_cluster.cluster_kind` may be
//!   left unset (Terraform selects the cluster by `cluster_name` alone).
//! - [`kubernetes_rules`]: what kube-apiserver (or the kubelet) would reject
//!   later, caught before anything is applied.
//! - [`provider_rules`]: what only matters because this is Terraform: Planton
//!   references (`value_from`) that Terraform cannot resolve, and "exactly
//!   one of" choices the schema cannot express.
//!
//! Every problem is reported (no early return), each on its exact attribute
//! path. Unknown values skip their checks, and a null or unknown parent skips
//! its children. No detail ever quotes a secret value.
//!
//! Files: [`planton`], [`kubernetes`] (with [`volumes`] for volume mounts)
//! and [`provider`] hold the three groups; [`names`] the name and path rules
//! as kube-apiserver states them; [`wording`] how details quote values.

pub mod kubernetes;
pub mod names;
pub mod numbers;
pub mod planton;
pub mod provider;
pub mod volumes;
pub mod wording;

pub use kubernetes::{MAX_CONFIG_MAP_BYTES, MAX_INDEXED, kubernetes_rules};
pub use planton::planton_rules;
pub use provider::provider_rules;

use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::tf::{Diagnostics, Value};

/// Validates a resource configuration: every rule, every problem.
pub fn validate(config: &Value) -> Diagnostics {
    let job = match KubernetesJob::from_value(config) {
        Ok(job) => job,
        Err(e) => {
            let mut d = Diagnostics::new();
            d.provider_bug(
                Some(e.path.clone()),
                "Unexpected Configuration Shape",
                format!(
                    "While reading the configuration: {e}. Terraform checks types before calling the provider."
                ),
            );
            return d;
        }
    };
    let mut d = planton_rules(&job);
    d.extend(kubernetes_rules(&job));
    d.extend(provider_rules(&job));
    d
}

#[cfg(test)]
mod planton_tests;
#[cfg(test)]
pub(crate) mod tests;
