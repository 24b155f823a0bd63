//! The resource's own settings, outside Planton's `metadata` and `spec`:
//! how Terraform waits, re-runs and deletes, and the image pull credentials
//! (Planton passes those in its stack input, not in the spec).
//!
//! [`Options::from_value`] reads them from a configuration or plan, with the
//! schema defaults already applied by the plan; [`validate`] checks them at
//! plan time.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::kube::budget::{Budget, format_duration};
use crate::kubernetes_job::model::attr;
use crate::tf::{Attribute, AttributePath, Diagnostics, Nesting, Number, Type, Value};

/// `wait_for_completion` when the configuration leaves it out: wait.
pub const WAIT_FOR_COMPLETION_DEFAULT: bool = true;

/// Default create (and update) timeout when the Job has no deadline.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Added to `active_deadline_seconds` for the default timeout, so that the
/// Job's own DeadlineExceeded failure is what the user sees, with its pods'
/// details, rather than our timeout.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(30);
/// Default delete timeout.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long a refresh may take (the resource has no `timeouts.read`).
pub const READ_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// How long an import may take.
pub const IMPORT_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// How long listing Jobs for `terraform query` may take.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What read does when a finished Job was deleted by its TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterTtlDeletion {
    /// Keep the Job in state as finished; plan no changes.
    #[default]
    Keep,
    /// Forget it, so that the next plan creates (re-runs) it.
    Recreate,
}

impl AfterTtlDeletion {
    /// Accepted values.
    pub const NAMES: [&'static str; 2] = ["keep", "recreate"];

    /// Its name in a configuration.
    pub fn name(self) -> &'static str {
        match self {
            AfterTtlDeletion::Keep => "keep",
            AfterTtlDeletion::Recreate => "recreate",
        }
    }

    /// Parses an exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "keep" => Some(AfterTtlDeletion::Keep),
            "recreate" => Some(AfterTtlDeletion::Recreate),
            _ => None,
        }
    }
}

/// How the Job's pods are deleted with it. Orphan is deliberately absent:
/// pods left without their Job keep running and are never cleaned up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletePropagation {
    /// The Job goes at once; the garbage collector removes its pods.
    #[default]
    Background,
    /// The Job stays (terminating) until its pods are gone.
    Foreground,
}

impl DeletePropagation {
    /// Accepted values.
    pub const NAMES: [&'static str; 2] = ["Background", "Foreground"];

    /// Its name in a configuration.
    pub fn name(self) -> &'static str {
        match self {
            DeletePropagation::Background => "Background",
            DeletePropagation::Foreground => "Foreground",
        }
    }

    /// Parses an exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "Background" => Some(DeletePropagation::Background),
            "Foreground" => Some(DeletePropagation::Foreground),
            _ => None,
        }
    }
}

/// The `timeouts` attribute, parsed; `None` means "use the default".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// `timeouts.create`.
    pub create: Option<Duration>,
    /// `timeouts.update`.
    pub update: Option<Duration>,
    /// `timeouts.delete`.
    pub delete: Option<Duration>,
}

/// The resource's settings outside `metadata` and `spec`.
#[derive(Clone, PartialEq, Default)]
pub struct Options {
    /// `wait_for_completion`.
    pub wait_for_completion: bool,
    /// `timeouts`.
    pub timeouts: Timeouts,
    /// `docker_config_json`, when set and not empty.
    pub docker_config_json: Option<String>,
    /// `rerun_triggers`.
    pub rerun_triggers: BTreeMap<String, String>,
    /// `after_ttl_deletion`.
    pub after_ttl_deletion: AfterTtlDeletion,
    /// `delete_propagation`.
    pub delete_propagation: DeletePropagation,
}

impl std::fmt::Debug for Options {
    // `docker_config_json` holds registry credentials: whether it is set.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("wait_for_completion", &self.wait_for_completion)
            .field("timeouts", &self.timeouts)
            .field(
                "docker_config_json",
                &self.docker_config_json.as_ref().map(|_| "<redacted>"),
            )
            .field("rerun_triggers", &self.rerun_triggers)
            .field("after_ttl_deletion", &self.after_ttl_deletion)
            .field("delete_propagation", &self.delete_propagation)
            .finish()
    }
}

impl Options {
    /// Reads the settings from a plan or state. Values that are null,
    /// unknown or invalid read as their defaults (validation reports the
    /// invalid ones before anything is applied).
    pub fn from_value(v: &Value) -> Options {
        let duration = |name: &str| {
            v.get(attr::TIMEOUTS)
                .get(name)
                .as_str()
                .and_then(|s| parse_duration(s).ok())
        };
        Options {
            wait_for_completion: v
                .get(attr::WAIT_FOR_COMPLETION)
                .as_bool()
                .unwrap_or(WAIT_FOR_COMPLETION_DEFAULT),
            timeouts: Timeouts {
                create: duration("create"),
                update: duration("update"),
                delete: duration("delete"),
            },
            docker_config_json: v
                .get(attr::DOCKER_CONFIG_JSON)
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            rerun_triggers: v
                .get(attr::RERUN_TRIGGERS)
                .as_entries()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            after_ttl_deletion: v
                .get(attr::AFTER_TTL_DELETION)
                .as_str()
                .and_then(AfterTtlDeletion::from_name)
                .unwrap_or_default(),
            delete_propagation: v
                .get(attr::DELETE_PROPAGATION)
                .as_str()
                .and_then(DeletePropagation::from_name)
                .unwrap_or_default(),
        }
    }

    /// How long create may take: `timeouts.create`, else the Job's deadline
    /// plus [`DEADLINE_GRACE`], else [`DEFAULT_CREATE_TIMEOUT`].
    pub fn create_timeout(&self, active_deadline_seconds: Option<&Number>) -> Duration {
        self.timeouts
            .create
            .unwrap_or_else(|| default_run_timeout(active_deadline_seconds))
    }

    /// How long an update may take: `timeouts.update`, else as create.
    pub fn update_timeout(&self, active_deadline_seconds: Option<&Number>) -> Duration {
        self.timeouts
            .update
            .unwrap_or_else(|| default_run_timeout(active_deadline_seconds))
    }

    /// How long delete may take.
    pub fn delete_timeout(&self) -> Duration {
        self.timeouts.delete.unwrap_or(DEFAULT_DELETE_TIMEOUT)
    }
}

/// The budget of an apply (create, update or delete, as `prior` and
/// `planned` say): every request it sends is bounded by the operation's
/// timeout and by `cancel` (StopProvider).
pub fn apply_budget(prior: &Value, planned: &Value, cancel: CancellationToken) -> Budget {
    let (name, set, timeout) = if planned.is_null() {
        let o = Options::from_value(prior);
        ("delete", o.timeouts.delete.is_some(), o.delete_timeout())
    } else {
        let o = Options::from_value(planned);
        let deadline = planned
            .get("spec")
            .get("active_deadline_seconds")
            .as_number();
        if prior.is_null() {
            (
                "create",
                o.timeouts.create.is_some(),
                o.create_timeout(deadline),
            )
        } else {
            (
                "update",
                o.timeouts.update.is_some(),
                o.update_timeout(deadline),
            )
        }
    };
    let what = if set {
        format!("`timeouts.{name}` ({})", format_duration(timeout))
    } else {
        format!("the default {name} timeout ({})", format_duration(timeout))
    };
    Budget::new(what, timeout, cancel)
}

/// The budget of a refresh: [`READ_TIMEOUT`].
pub fn read_budget(cancel: CancellationToken) -> Budget {
    fixed_budget("refresh", READ_TIMEOUT, cancel)
}

/// The budget of an import: [`IMPORT_TIMEOUT`].
pub fn import_budget(cancel: CancellationToken) -> Budget {
    fixed_budget("import", IMPORT_TIMEOUT, cancel)
}

/// The budget of a data source's read: [`IMPORT_TIMEOUT`], as it reads
/// what an import reads first.
pub fn data_source_budget(cancel: CancellationToken) -> Budget {
    fixed_budget("data source read", IMPORT_TIMEOUT, cancel)
}

/// The budget of a list: [`LIST_TIMEOUT`].
pub fn list_budget(cancel: CancellationToken) -> Budget {
    fixed_budget("list", LIST_TIMEOUT, cancel)
}

fn fixed_budget(name: &str, timeout: Duration, cancel: CancellationToken) -> Budget {
    Budget::new(
        format!("the {name} time limit ({})", format_duration(timeout)),
        timeout,
        cancel,
    )
}

fn default_run_timeout(active_deadline_seconds: Option<&Number>) -> Duration {
    match active_deadline_seconds.and_then(Number::as_u64) {
        Some(s) if s > 0 => Duration::from_secs(s).saturating_add(DEADLINE_GRACE),
        _ => DEFAULT_CREATE_TIMEOUT,
    }
}

/// Parses a Go duration string (`"90s"`, `"10m"`, `"1h30m"`, `"1.5h"`,
/// `"500ms"`), as Terraform users write timeouts. Negative durations and a
/// bare number other than `0` are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.starts_with('-') {
        return Err("it is negative".into());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let value: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("{:?} is not a number", &rest[..number_len]))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("{value} has no unit (use s, m or h)")),
            unit => return Err(format!("unknown unit {unit:?} (use ns, us, ms, s, m or h)")),
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| "it is too long".to_string())
}

/// The schema of these settings (top-level attributes of the resource).
pub fn attributes() -> Vec<Attribute> {
    vec![
        Attribute::optional(attr::DOCKER_CONFIG_JSON, Type::String, DOCKER_CONFIG_JSON).sensitive(),
        Attribute::optional(
            attr::RERUN_TRIGGERS,
            Type::map(Type::String),
            RERUN_TRIGGERS,
        )
        .requires_replace(),
        Attribute::optional(attr::WAIT_FOR_COMPLETION, Type::Bool, WAIT_FOR_COMPLETION)
            .with_default(Value::Bool(WAIT_FOR_COMPLETION_DEFAULT)),
        Attribute::nested(
            attr::TIMEOUTS,
            Nesting::Single,
            vec![
                Attribute::optional("create", Type::String, TIMEOUT_CREATE),
                Attribute::optional("update", Type::String, TIMEOUT_UPDATE),
                Attribute::optional("delete", Type::String, TIMEOUT_DELETE),
            ],
            TIMEOUTS,
        )
        .set_optional(),
        Attribute::optional(attr::AFTER_TTL_DELETION, Type::String, AFTER_TTL_DELETION)
            .with_default(Value::string(AfterTtlDeletion::default().name())),
        Attribute::optional(attr::DELETE_PROPAGATION, Type::String, DELETE_PROPAGATION)
            .with_default(Value::string(DeletePropagation::default().name())),
    ]
}

const DOCKER_CONFIG_JSON: &str = "Registry credentials for pulling the image: the content of a Docker config \
file (`{\"auths\": {...}}`), as Planton's stack input passes it. When set, the resource manages an image pull \
Secret `<metadata.name>-image-pull-secret` of type `kubernetes.io/dockerconfigjson` and the pod uses it. Changing \
the content updates the Secret in place; setting or removing it replaces the Job. Sensitive: hidden in plan \
output, but stored in Terraform state; prefer the write-only `docker_config_json_wo` (Terraform 1.11+).";

const RERUN_TRIGGERS: &str = "Arbitrary values that, when any of them changes, replace the Job so that it runs \
again (for example `{ schema = sha1(file(\"schema.sql\")) }` or a release version). Nothing else about them is \
used.";

const WAIT_FOR_COMPLETION: &str = "Whether `terraform apply` waits for the Job to finish. Defaults to `true`: \
apply returns as soon as the Job completes, and fails as soon as it fails, with the reason, each failed pod's exit \
code or waiting reason (for example `ImagePullBackOff` or `OOMKilled`) and the last lines of its log. A failed or \
timed-out create leaves the resource tainted, so the next apply runs the Job again. A suspended Job is never \
waited for.";

const TIMEOUTS: &str = "How long operations may take, as durations such as `\"90s\"`, `\"10m\"` or \
`\"1h30m\"`. Every request to the cluster counts: when the time is up, the request in flight fails with an \
error that names it, and what was done so far is kept in state. Ctrl-C (Terraform's stop) ends any operation at \
once. A refresh or an import may take up to 2 minutes and `terraform query` up to 5 minutes; any single request \
to the API server at most 60 seconds (connecting at most 10 seconds), and an exec credential plugin at most 30 \
seconds.";

const TIMEOUT_CREATE: &str = "How long creating the Job (including waiting for it to finish) may take. Defaults \
to `spec.active_deadline_seconds` plus 30 seconds when that is set, else 10 minutes.";

const TIMEOUT_UPDATE: &str = "How long an in-place update (including waiting for the Job) may take. Defaults like \
`create`.";

const TIMEOUT_DELETE: &str = "How long destroying may take, including waiting for the Job (and with \
`Foreground` propagation its pods) and a created namespace to be gone. Defaults to 5 minutes.";

const AFTER_TTL_DELETION: &str = "What happens when a finished Job has been deleted by Kubernetes because of \
`spec.ttl_seconds_after_finished`: `\"keep\"` (default) keeps it in state as finished, so plans show no changes \
and the Job does not run again (in-place changes still update the other objects); `\"recreate\"` makes the next \
plan show an update (in `drift`) that creates the Job again, so every apply after the TTL runs it again. A Job \
deleted while no TTL is set is always drift that the next apply repairs.";

const DELETE_PROPAGATION: &str = "How `terraform destroy` (and replacement) deletes the Job's pods: \
`\"Background\"` (default: the Job is deleted at once, its pods right after) or `\"Foreground\"` (the Job \
stays until its pods are gone). Pods are never orphaned.";

/// Plan-time checks of the settings, each on its attribute.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    for name in ["create", "update", "delete"] {
        if let Some(text) = config.get(attr::TIMEOUTS).get(name).as_str()
            && let Err(why) = parse_duration(text)
        {
            d.attribute_error(
                AttributePath::root(attr::TIMEOUTS).attr(name),
                "Invalid Timeout",
                format!(
                    "`timeouts.{name}` is {text:?}, which is not a duration: {why}. Write it as Terraform's \
                     timeouts are written, for example \"90s\", \"10m\" or \"1h30m\"."
                ),
            );
        }
    }
    if let Some(text) = config.get(attr::AFTER_TTL_DELETION).as_str()
        && AfterTtlDeletion::from_name(text).is_none()
    {
        d.attribute_error(
            AttributePath::root(attr::AFTER_TTL_DELETION),
            "Invalid TTL Deletion Policy",
            format!(
                "`after_ttl_deletion` is {text:?}. It is \"keep\" (the default: a finished Job deleted by its \
                 TTL stays in state and is not run again) or \"recreate\" (the next plan creates the Job, so it \
                 runs again)."
            ),
        );
    }
    if let Some(text) = config.get(attr::DELETE_PROPAGATION).as_str()
        && DeletePropagation::from_name(text).is_none()
    {
        let why = if text.eq_ignore_ascii_case("orphan") {
            " Orphan is not offered: the Job's pods would keep running with nothing to clean them up."
        } else {
            ""
        };
        d.attribute_error(
            AttributePath::root(attr::DELETE_PROPAGATION),
            "Invalid Delete Propagation",
            format!(
                "`delete_propagation` is {text:?}. It is \"Background\" (the default: the Job is deleted at once \
                 and its pods right after) or \"Foreground\" (destroy waits until the pods are gone), exact \
                 spelling.{why}"
            ),
        );
    }
    if let Some(text) = config.get(attr::DOCKER_CONFIG_JSON).as_str()
        && !text.is_empty()
    {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => {}
            // Never quote the value: it holds registry credentials.
            _ => d.attribute_error(
                AttributePath::root(attr::DOCKER_CONFIG_JSON),
                "Invalid Docker Config JSON",
                "`docker_config_json` is not a JSON object. It is the content of a Docker config file, for \
                 example `jsonencode({ auths = { \"registry.example.com\" = { auth = base64encode(\"user:password\") } } })`, \
                 and Kubernetes refuses an image pull Secret whose content is not valid JSON.",
            ),
        }
    }
    d
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Go duration syntax, as Terraform timeouts use it.
    #[test]
    fn durations() {
        for (text, secs) in [
            ("0", 0.0),
            ("90s", 90.0),
            ("10m", 600.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("500ms", 0.5),
            ("2m3s", 123.0),
        ] {
            assert_eq!(parse_duration(text).unwrap().as_secs_f64(), secs, "{text}");
        }
        for bad in ["", "10", "-1m", "10x", "m", "1h-3m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// The create timeout follows the Job's deadline unless set.
    #[test]
    fn timeouts_follow_deadline() {
        let o = Options::default();
        assert_eq!(o.create_timeout(None), DEFAULT_CREATE_TIMEOUT);
        assert_eq!(
            o.create_timeout(Some(&Number::from(120i64))),
            Duration::from_secs(150)
        );
        let o = Options {
            timeouts: Timeouts {
                create: Some(Duration::from_secs(5)),
                ..Timeouts::default()
            },
            ..Options::default()
        };
        assert_eq!(
            o.create_timeout(Some(&Number::from(120i64))),
            Duration::from_secs(5)
        );
        assert_eq!(o.delete_timeout(), DEFAULT_DELETE_TIMEOUT);
    }

    /// An apply's budget is the timeout of its operation, named the way
    /// the user set it (or as the default it is).
    #[tokio::test]
    async fn apply_budgets_follow_the_operation() {
        let job = |timeouts: Value, deadline: Value| {
            Value::object([
                ("timeouts", timeouts),
                (
                    "spec",
                    Value::object([("active_deadline_seconds", deadline)]),
                ),
            ])
        };
        let set = job(
            Value::object([
                ("create", Value::string("20s")),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
            Value::Null,
        );
        let left = |b: &Budget| b.deadline() - tokio::time::Instant::now();
        let cancel = CancellationToken::new;
        let create = apply_budget(&Value::Null, &set, cancel());
        assert_eq!(create.what(), "`timeouts.create` (20s)");
        assert!(left(&create) <= Duration::from_secs(20));
        assert!(left(&create) > Duration::from_secs(19));
        let update = apply_budget(&set, &job(Value::Null, Value::int(120)), cancel());
        assert_eq!(update.what(), "the default update timeout (2m30s)");
        let delete = apply_budget(&set, &Value::Null, cancel());
        assert_eq!(delete.what(), "the default delete timeout (5m)");
        assert_eq!(read_budget(cancel()).what(), "the refresh time limit (2m)");
        assert_eq!(list_budget(cancel()).what(), "the list time limit (5m)");
    }

    /// Each invalid setting is reported on its attribute; secrets are not
    /// quoted.
    #[test]
    fn validation() {
        let config = Value::object([
            (
                "timeouts",
                Value::object([
                    ("create", Value::string("ten minutes")),
                    ("update", Value::Null),
                    ("delete", Value::string("5m")),
                ]),
            ),
            ("after_ttl_deletion", Value::string("forget")),
            ("delete_propagation", Value::string("Orphan")),
            ("docker_config_json", Value::string("hunter2")),
        ]);
        let d = validate(&config);
        let paths: Vec<String> = d
            .iter()
            .map(|x| x.path.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "timeouts.create",
                "after_ttl_deletion",
                "delete_propagation",
                "docker_config_json"
            ]
        );
        assert!(d.0[2].detail.contains("Orphan is not offered"));
        assert!(!d.0[3].detail.contains("hunter2"));
    }
}
