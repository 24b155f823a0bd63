//! From the API server's answer back to the configuration: a 422 names the
//! field of an object it refused (`spec.template.spec.containers[0].env[3]`),
//! and [`Rendered::attribute_for`] finds the attribute behind it, so that
//! the diagnostic points at the line the user wrote.

use crate::kube::ObjectRef;
use crate::kubernetes_job::model::write_only;
use crate::tf::AttributePath;

use super::objects::{EnvOrigin, Rendered};

impl Rendered {
    /// The attribute behind a field the API server names in a 422 cause for
    /// `object`, where there is one.
    pub fn attribute_for(&self, object: &ObjectRef, field: &str) -> Option<AttributePath> {
        let spec = AttributePath::root("spec");
        match object.kind.as_str() {
            "Namespace" => Some(spec.attr("namespace").attr("value")),
            "ConfigMap" => Some(spec.attr("config_maps").key(object.name.clone())),
            "Secret"
                if self
                    .pull_secret
                    .as_ref()
                    .and_then(|s| s.metadata.name.as_deref())
                    == Some(object.name.as_str()) =>
            {
                Some(AttributePath::root("docker_config_json"))
            }
            "Secret" => {
                let key = bracketed(field.strip_prefix("data")?)?;
                Some(spec.attr("env").attr("secrets").key(key).attr("value"))
            }
            "ServiceAccount" => Some(AttributePath::root("metadata").attr("name")),
            "Job" => self.job_attribute(field),
            _ => None,
        }
    }

    fn job_attribute(&self, field: &str) -> Option<AttributePath> {
        let spec = AttributePath::root("spec");
        let simple = [
            (
                "metadata.name",
                AttributePath::root("metadata").attr("name"),
            ),
            ("metadata.namespace", spec.attr("namespace").attr("value")),
            ("spec.parallelism", spec.attr("parallelism")),
            ("spec.completions", spec.attr("completions")),
            ("spec.backoffLimit", spec.attr("backoff_limit")),
            (
                "spec.activeDeadlineSeconds",
                spec.attr("active_deadline_seconds"),
            ),
            (
                "spec.ttlSecondsAfterFinished",
                spec.attr("ttl_seconds_after_finished"),
            ),
            ("spec.completionMode", spec.attr("completion_mode")),
            ("spec.suspend", spec.attr("suspend")),
            (
                "spec.template.spec.restartPolicy",
                spec.attr("restart_policy"),
            ),
        ];
        if let Some((_, path)) = simple.iter().find(|(f, _)| *f == field) {
            return Some(path.clone());
        }
        if let Some(rest) = field.strip_prefix("spec.template.spec.containers[0].") {
            let (head, tail) = split_index(rest);
            return match head {
                "image" => Some(spec.attr("image").attr("repo")),
                "command" | "args" => Some(match tail.and_then(|(i, _)| i) {
                    Some(i) => spec.attr(head).index(i),
                    None => spec.attr(head),
                }),
                "resources.limits" | "resources.requests" => {
                    let side = &head["resources.".len()..];
                    let base = spec.attr("resources").attr(side);
                    // `resources.limits[cpu]`
                    let which = rest.strip_prefix(head).and_then(bracketed);
                    Some(match which {
                        Some(which) => base.attr(which),
                        None => base,
                    })
                }
                "env" => {
                    let i = tail.and_then(|(i, _)| i)?;
                    Some(match self.env_origins.get(i)? {
                        EnvOrigin::Injected => spec.attr("env"),
                        EnvOrigin::Variable(k) => spec.attr("env").attr("variables").key(k.clone()),
                        EnvOrigin::Secret(k) => spec.attr("env").attr("secrets").key(k.clone()),
                        EnvOrigin::WriteOnly(k) => {
                            AttributePath::root(write_only::ENV_SECRETS).key(k.clone())
                        }
                    })
                }
                "volumeMounts" => {
                    let (i, rest) = tail?;
                    let mount = spec.attr("volume_mounts").index(i?);
                    Some(match rest.trim_start_matches('.') {
                        "mountPath" => mount.attr("mount_path"),
                        "subPath" => mount.attr("sub_path"),
                        "name" => mount.attr("name"),
                        _ => mount,
                    })
                }
                _ => Some(spec.clone()),
            };
        }
        if let Some(rest) = field.strip_prefix("spec.template.spec.volumes") {
            let (_, tail) = split_index(rest);
            let (i, _) = tail?;
            return Some(spec.attr("volume_mounts").index(i?));
        }
        if field.starts_with("spec.template.spec.imagePullSecrets") {
            return Some(spec.attr("image").attr("pull_secret_name"));
        }
        None
    }
}

/// `"[key]..."` to `key`.
pub(super) fn bracketed(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].to_string())
}

/// `"env[3].name"` to `("env", Some((Some(3), ".name")))`.
pub(super) fn split_index(text: &str) -> (&str, Option<(Option<usize>, &str)>) {
    match text.find('[') {
        None => (text, None),
        Some(open) => {
            let head = &text[..open];
            let after = &text[open + 1..];
            match after.find(']') {
                Some(close) => (
                    head,
                    Some((after[..close].parse().ok(), &after[close + 1..])),
                ),
                None => (head, None),
            }
        }
    }
}
