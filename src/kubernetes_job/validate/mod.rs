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

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::kubernetes_job::model::kinds;
use crate::kubernetes_job::model::names::{INJECTED_ENV, dot_prefix_problem, env_name_problem};
use crate::kubernetes_job::model::quantity::Quantity;
use crate::kubernetes_job::model::spec::{
    ClusterKind, CompletionMode, ConfigMapVolumeSource, CpuMemory, Field, HostPathType, JobSpec,
    KubernetesJob, RelationshipType, RestartPolicy, SourcePresence, StorageMedium, ValueFromRef,
    VolumeMount,
};
use crate::tf::{AttributePath, Diagnostics, Number, PathStep, Value};

/// Kubernetes caps `completions` and `parallelism` of an Indexed Job.
pub const MAX_INDEXED: i64 = 100_000;

/// Kubernetes limits the data of one ConfigMap to 1 MiB.
pub const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;

const INT32_MAX: i64 = i32::MAX as i64;

/// Validates a resource configuration: every rule, every problem.
pub fn validate(config: &Value) -> Diagnostics {
    let job = match KubernetesJob::from_value(config) {
        Ok(job) => job,
        Err(e) => {
            let mut d = Diagnostics::new();
            d.attribute_error(
                e.path.clone(),
                "Unexpected Configuration Shape",
                format!(
                    "While reading the configuration: {e}. Terraform checks types before calling the provider, \
                     so this is a bug in the provider; please report it with TF_LOG=debug output."
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

fn spec_path() -> AttributePath {
    AttributePath::root("spec")
}

// ---------------------------------------------------------------------------
// Planton's rules (research section (b)), and nothing else.

/// Project Planton's validation rules for a KubernetesJob, with Planton's
/// semantics: a null string counts as empty (protobuf has no null string).
pub fn planton_rules(job: &KubernetesJob) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(meta) = job.metadata.known()
        && let Some(relationships) = meta.relationships.known()
    {
        for (i, rel) in relationships.iter().enumerate() {
            let Some(rel) = rel.known() else { continue };
            let p = AttributePath::root("metadata")
                .attr("relationships")
                .index(i);
            match rel.kind.text() {
                Some("") => d.attribute_error(
                    p.attr("kind"),
                    "Missing Relationship Kind",
                    "A relationship names the Planton kind of the related resource, and `kind` is empty. Set it \
                     to a kind name such as \"KubernetesNamespace\" or \"KubernetesPostgres\".",
                ),
                Some(kind) => kind_rule(kind, &p.attr("kind"), "the related resource", &mut d),
                None => {}
            }
            if rel.name.text() == Some("") {
                d.attribute_error(
                    p.attr("name"),
                    "Missing Relationship Name",
                    "A relationship names the related resource, and `name` is empty. Set it to that resource's \
                     name.",
                );
            }
            if let Some(t) = rel.r#type.text()
                && RelationshipType::from_name(t).is_none()
            {
                d.attribute_error(
                    p.attr("type"),
                    "Invalid Relationship Type",
                    format!(
                        "{} Planton accepts {}.{}",
                        describe_value("The relationship type", t),
                        choices(RelationshipType::NAMES),
                        case_hint(t, RelationshipType::NAMES),
                    ),
                );
            }
        }
    }

    let Some(spec) = job.spec.known() else {
        return d;
    };
    let sp = spec_path();

    // Planton requires `cluster_kind` whenever `target_cluster` is set;
    // Terraform does not need it (the cluster is the provider's
    // `clusters[cluster_name]`), so here it is checked only when set
    // (issue 4).
    if let Some(tc) = spec.target_cluster.known()
        && let Some(kind) = tc.cluster_kind.known()
        && ClusterKind::from_name(kind).is_none()
    {
        let what = if kind.is_empty() {
            "`cluster_kind` is an empty string.".to_string()
        } else {
            format!(
                "{} Planton supports these cluster kinds only.{}",
                describe_value("The cluster kind", kind),
                case_hint(kind, ClusterKind::NAMES)
            )
        };
        d.attribute_error(
            sp.attr("target_cluster").attr("cluster_kind"),
            "Invalid Cluster Kind",
            format!(
                "{what} Set `cluster_kind` to {}, or leave it unset.",
                choices(ClusterKind::NAMES)
            ),
        );
    }

    if let Some(mode) = spec.completion_mode.known()
        && CompletionMode::from_name(mode).is_none()
    {
        d.attribute_error(
            sp.attr("completion_mode"),
            "Invalid Completion Mode",
            format!(
                "{} A Job's completion mode is {} (exact spelling).{} Leave it out for \"NonIndexed\".",
                describe_value("The completion mode", mode),
                choices(CompletionMode::NAMES),
                case_hint(mode, CompletionMode::NAMES),
            ),
        );
    }

    if let Some(policy) = spec.restart_policy.known()
        && RestartPolicy::from_name(policy).is_none()
    {
        let why = if policy == "Always" {
            " A Job's pods must stop once their work is done, so Planton and Kubernetes refuse \"Always\" \
             for Jobs; use a Deployment for a process that should keep running."
        } else {
            ""
        };
        d.attribute_error(
            sp.attr("restart_policy"),
            "Invalid Restart Policy",
            format!(
                "{} A Job's restart policy is {} (exact spelling).{}{} Leave it out for \"Never\".",
                describe_value("The restart policy", policy),
                choices(RestartPolicy::NAMES),
                case_hint(policy, RestartPolicy::NAMES),
                why,
            ),
        );
    }

    if let Some(ns) = spec.namespace.known() {
        reference_name(
            &ns.value_from,
            &sp.attr("namespace").attr("value_from"),
            &mut d,
        );
    }

    if let Some(env) = spec.env.known() {
        if let Some(vars) = env.variables.known() {
            for (name, var) in vars {
                if let Some(var) = var.known() {
                    let p = sp.attr("env").attr("variables").key(name.clone());
                    reference_name(&var.value_from, &p.attr("value_from"), &mut d);
                }
            }
        }
        if let Some(secrets) = env.secrets.known() {
            for (name, secret) in secrets {
                let Some(reference) = secret.known().and_then(|s| s.secret_ref.known()) else {
                    continue;
                };
                let p = sp
                    .attr("env")
                    .attr("secrets")
                    .key(name.clone())
                    .attr("secret_ref");
                if reference.name.text() == Some("") {
                    d.attribute_error(
                        p.attr("name"),
                        "Missing Secret Name",
                        format!(
                            "The secret reference of {name} has an empty `name`. It must name an existing Secret \
                             in the Job's namespace; set `name`, or set `value` instead of `secret_ref`."
                        ),
                    );
                }
                if reference.key.text() == Some("") {
                    d.attribute_error(
                        p.attr("key"),
                        "Missing Secret Key",
                        format!(
                            "The secret reference of {name} has an empty `key`. It must name the key inside the \
                             Secret whose value becomes the variable; set `key`."
                        ),
                    );
                }
            }
        }
    }

    if let Some(mounts) = spec.volume_mounts.known() {
        for (i, mount) in mounts.iter().enumerate() {
            if let Some(mount) = mount.known() {
                planton_volume_rules(mount, &sp.attr("volume_mounts").index(i), &mut d);
            }
        }
    }
    d
}

/// A kind, when given, must be one of Planton's `CloudResourceKind` names.
fn kind_rule(kind: &str, p: &AttributePath, what: &str, d: &mut Diagnostics) {
    if kinds::is_kind(kind) {
        return;
    }
    d.attribute_error(
        p.clone(),
        "Unknown Planton Kind",
        format!(
            "{} `kind` names the Planton kind of {what}, one of the names of Planton's CloudResourceKind \
             (exact spelling). The closest are {}.",
            describe_value("The kind", kind),
            choices(&kinds::closest(kind)),
        ),
    );
}

fn reference_name(value_from: &Field<ValueFromRef>, p: &AttributePath, d: &mut Diagnostics) {
    // Planton's `value_from.kind` has no rule of its own, but protojson
    // accepts only enum names, so an unknown name never reaches Planton.
    if let Some(vf) = value_from.known()
        && let Some(kind) = vf.kind.non_empty()
    {
        kind_rule(kind, &p.attr("kind"), "the referenced resource", d);
    }
    if let Some(vf) = value_from.known()
        && vf.name.text() == Some("")
    {
        d.attribute_error(
            p.attr("name"),
            "Missing Reference Name",
            "A `value_from` reference must name the resource it reads from, and `name` is empty. Note that \
             Terraform does not resolve Planton references at all: set `value` instead, with an HCL reference \
             such as `value = var.db_host`, and remove `value_from`.",
        );
    }
}

fn planton_volume_rules(mount: &VolumeMount, p: &AttributePath, d: &mut Diagnostics) {
    if mount.name.text() == Some("") {
        d.attribute_error(
            p.attr("name"),
            "Missing Volume Name",
            "A volume mount needs a name: it names both the pod volume and its mount. Set `name` to a DNS-1123 \
             label such as \"data\".",
        );
    }
    if mount.mount_path.text() == Some("") {
        d.attribute_error(
            p.attr("mount_path"),
            "Missing Mount Path",
            "A volume mount needs the path where the volume appears in the container. Set `mount_path` to an \
             absolute path such as \"/data\".",
        );
    }
    if let Some(cm) = mount.config_map.known()
        && cm.name.text() == Some("")
    {
        d.attribute_error(
            p.attr("config_map").attr("name"),
            "Missing ConfigMap Name",
            "`config_map.name` is empty. Set it to the name of a `spec.config_maps` entry or of an existing \
             ConfigMap in the Job's namespace.",
        );
    }
    if let Some(secret) = mount.secret.known()
        && secret.name.text() == Some("")
    {
        d.attribute_error(
            p.attr("secret").attr("name"),
            "Missing Secret Name",
            "`secret.name` is empty. Set it to the name of an existing Secret in the Job's namespace.",
        );
    }
    if let Some(hp) = mount.host_path.known() {
        if hp.path.text() == Some("") {
            d.attribute_error(
                p.attr("host_path").attr("path"),
                "Missing Host Path",
                "`host_path.path` is empty. Set it to the path on the node to mount, such as \"/var/log\".",
            );
        }
        if let Some(t) = hp.r#type.text()
            && HostPathType::from_name(t).is_none()
        {
            d.attribute_error(
                p.attr("host_path").attr("type"),
                "Invalid Host Path Type",
                format!(
                    "{} It must be one of {} (exact spelling).{}",
                    describe_value("The host path type", t),
                    choices(HostPathType::NAMES),
                    case_hint(t, HostPathType::NAMES),
                ),
            );
        }
    }
    if let Some(ed) = mount.empty_dir.known()
        && let Some(medium) = ed.medium.text()
        && StorageMedium::from_name(medium).is_none()
    {
        d.attribute_error(
            p.attr("empty_dir").attr("medium"),
            "Invalid Storage Medium",
            format!(
                "{} It must be {} (exact spelling): \"\" uses the node's disk, \"Memory\" a tmpfs.{}",
                describe_value("The emptyDir medium", medium),
                choices(StorageMedium::NAMES),
                case_hint(medium, StorageMedium::NAMES),
            ),
        );
    }
    if let Some(pvc) = mount.pvc.known()
        && pvc.claim_name.text() == Some("")
    {
        d.attribute_error(
            p.attr("pvc").attr("claim_name"),
            "Missing Claim Name",
            "`pvc.claim_name` is empty. Set it to the name of an existing PersistentVolumeClaim in the Job's \
             namespace.",
        );
    }
}

// ---------------------------------------------------------------------------
// What Kubernetes would reject later.

/// Checks that kube-apiserver (or the kubelet) would otherwise fail at apply
/// or run time.
pub fn kubernetes_rules(job: &KubernetesJob) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(meta) = job.metadata.known()
        && let Some(name) = meta.name.known()
        && let Some(problem) = dns1123_label_problem(name)
    {
        d.attribute_error(
            AttributePath::root("metadata").attr("name"),
            "Invalid Job Name",
            format!(
                "{} The Job name becomes the `job-name` label on every pod and part of the pods' names, so \
                 Kubernetes needs a DNS-1123 label: at most 63 characters, lowercase letters, digits and '-', \
                 starting and ending with a letter or digit ({problem}). For example \"nightly-report\".",
                describe_value("The job name", name),
            ),
        );
    }
    let Some(spec) = job.spec.known() else {
        return d;
    };
    let sp = spec_path();
    let namespace = namespace_rules(spec, &mut d);
    image_rules(spec, &mut d);
    resource_rules(spec, &mut d);
    count_rules(spec, &mut d);
    env_rules(spec, namespace, &mut d);

    if let Some(config_maps) = spec.config_maps.known() {
        for (name, data) in config_maps {
            let p = sp.attr("config_maps").key(name.clone());
            if let Some(problem) = dns1123_subdomain_problem(name) {
                d.attribute_error(
                    p.clone(),
                    "Invalid ConfigMap Name",
                    format!(
                        "{} Each key of `config_maps` names a ConfigMap and is also its data key, so Kubernetes \
                         needs a DNS-1123 subdomain: at most 253 characters, lowercase letters, digits, '-' and \
                         '.', starting and ending with a letter or digit ({problem}). For example \
                         \"backup-script\".",
                        describe_value("The ConfigMap name", name),
                    ),
                );
            }
            if let Some(data) = data.known()
                && name.len() + data.len() > MAX_CONFIG_MAP_BYTES
            {
                d.attribute_error(
                    p,
                    "ConfigMap Too Large",
                    format!(
                        "The ConfigMap {name:?} would hold {} bytes, and Kubernetes refuses ConfigMaps larger \
                         than {MAX_CONFIG_MAP_BYTES} bytes (1 MiB). Split the content, or put it in the image \
                         or a volume.",
                        name.len() + data.len()
                    ),
                );
            }
        }
    }

    if let Some(mounts) = spec.volume_mounts.known() {
        volume_rules(mounts, &mut d);
    }
    d
}

/// Checks the namespace and returns it when known.
fn namespace_rules<'a>(spec: &'a JobSpec, d: &mut Diagnostics) -> Option<&'a str> {
    let ns = spec.namespace.known()?;
    let p = spec_path().attr("namespace").attr("value");
    match ns.value.text() {
        // Unknown: checked once known.
        None => None,
        Some("") => {
            if ns.value_from.is_null() {
                d.attribute_error(
                    p,
                    "Missing Namespace",
                    "`spec.namespace.value` is not set, and every Kubernetes object of this resource needs a \
                     namespace. Set it, for example `namespace = { value = \"batch\" }`, or reference another \
                     resource's namespace with `value = kubernetes_namespace_v1.jobs.metadata[0].name`.",
                );
            }
            None
        }
        Some(value) => {
            if let Some(problem) = dns1123_label_problem(value) {
                d.attribute_error(
                    p,
                    "Invalid Namespace",
                    format!(
                        "{} Kubernetes namespace names are DNS-1123 labels: at most 63 characters, lowercase \
                         letters, digits and '-', starting and ending with a letter or digit ({problem}).",
                        describe_value("The namespace", value),
                    ),
                );
            }
            Some(value)
        }
    }
}

fn image_rules(spec: &JobSpec, d: &mut Diagnostics) {
    let Some(image) = spec.image.known() else {
        return;
    };
    let p = spec_path().attr("image");
    let repo = image.repo.known().map(String::as_str);
    let mut repo_ok = false;
    match repo {
        Some("") => d.attribute_error(
            p.attr("repo"),
            "Missing Image Repository",
            "`image.repo` is empty, so the container has no image to run. Set it, for example \
             `repo = \"busybox\"` or `repo = \"ghcr.io/acme/report\"`.",
        ),
        Some(repo) => match image_repo_problem(repo) {
            Some(problem) => d.attribute_error(
                p.attr("repo"),
                "Invalid Image Repository",
                format!(
                    "{} {problem} The kubelet would fail to pull it (InvalidImageName).",
                    describe_value("The image repository", repo),
                ),
            ),
            None => repo_ok = true,
        },
        None => {}
    }
    if let Some(tag) = image.tag.non_empty() {
        if !is_image_tag(tag) {
            d.attribute_error(
                p.attr("tag"),
                "Invalid Image Tag",
                format!(
                    "{} An image tag has 1 to 128 letters, digits, '_', '.' and '-', and does not start with \
                     '.' or '-'; the kubelet would fail to pull the image (InvalidImageName).",
                    describe_value("The image tag", tag),
                ),
            );
        } else if let Some(repo) = repo.filter(|_| repo_ok)
            && repo_has_tag_or_digest(repo)
        {
            d.attribute_error(
                p.attr("tag"),
                "Conflicting Image Tag",
                format!(
                    "The repository {repo:?} already ends with a tag or digest, and `tag` would add another \
                     (\"{repo}:{tag}\" is not an image reference). Remove `tag`, or remove the tag or digest \
                     from `repo`."
                ),
            );
        }
    }
}

fn resource_rules(spec: &JobSpec, d: &mut Diagnostics) {
    let Some(resources) = spec.resources.known() else {
        return;
    };
    let p = spec_path().attr("resources");
    fn read<'a>(
        side: &'a Field<CpuMemory>,
        p: &AttributePath,
        d: &mut Diagnostics,
    ) -> Option<(Parsed<'a>, Parsed<'a>)> {
        side.known().map(|cm| {
            (
                quantity(&cm.cpu, &p.attr("cpu"), false, d),
                quantity(&cm.memory, &p.attr("memory"), false, d),
            )
        })
    }
    let limits = read(&resources.limits, &p.attr("limits"), d);
    let requests = read(&resources.requests, &p.attr("requests"), d);
    let (Some((limit_cpu, limit_memory)), Some((request_cpu, request_memory))) = (limits, requests)
    else {
        return;
    };
    for (what, request, limit) in [
        ("cpu", request_cpu, limit_cpu),
        ("memory", request_memory, limit_memory),
    ] {
        if let (Some((request, request_text)), Some((limit, limit_text))) = (request, limit)
            && request > limit
        {
            d.attribute_error(
                p.attr("requests").attr(what),
                "Request Exceeds Limit",
                format!(
                    "The {what} request {request_text:?} is larger than the {what} limit {limit_text:?}. \
                     Kubernetes rejects a container whose request exceeds its limit. Lower the request or raise \
                     the limit."
                ),
            );
        }
    }
}

/// A usable quantity and the text it was written as.
type Parsed<'a> = Option<(Quantity, &'a str)>;

/// Parses a quantity attribute, reporting syntax errors and negative values;
/// returns the value and its text when it is usable for comparisons.
fn quantity<'a>(
    field: &'a Field<String>,
    p: &AttributePath,
    allow_empty: bool,
    d: &mut Diagnostics,
) -> Parsed<'a> {
    let text = field.known()?;
    if text.is_empty() && allow_empty {
        return None;
    }
    let attr = last_attribute(p);
    match Quantity::parse(text) {
        Ok(q) if q.is_negative() => {
            d.attribute_error(
                p.clone(),
                "Negative Quantity",
                format!(
                    "`{attr}` is {text:?}. Kubernetes rejects negative resource quantities; use a value of 0 or \
                     more."
                ),
            );
            None
        }
        Ok(q) => Some((q, text.as_str())),
        Err(e) => {
            let hint = if text.is_empty() {
                " Leave the attribute out instead of setting it to an empty string."
            } else {
                ""
            };
            d.attribute_error(
                p.clone(),
                "Invalid Quantity",
                format!(
                    "`{attr}` is {text:?}, which is not a Kubernetes quantity: {e}. Examples: \"500m\" (half a \
                     CPU), \"2\", \"512Mi\", \"1Gi\", \"1e3\".{hint}"
                ),
            );
            None
        }
    }
}

/// A whole-number attribute's allowed range and why.
struct IntRule {
    summary: &'static str,
    min: i64,
    max: i64,
    why: &'static str,
}

/// Checks a number against a rule; returns it when valid.
fn integer(
    field: &Field<Number>,
    p: &AttributePath,
    rule: &IntRule,
    d: &mut Diagnostics,
) -> Option<i64> {
    let n = field.known()?;
    let value = n.as_i64().filter(|v| (rule.min..=rule.max).contains(v));
    if value.is_none() {
        d.attribute_error(
            p.clone(),
            rule.summary,
            format!(
                "`{}` is {}, but it must be a whole number from {} to {}: {}",
                last_attribute(p),
                short(&n.to_string()),
                rule.min,
                rule.max,
                rule.why
            ),
        );
    }
    value
}

fn count_rules(spec: &JobSpec, d: &mut Diagnostics) {
    let sp = spec_path();
    let parallelism = integer(
        &spec.parallelism,
        &sp.attr("parallelism"),
        &IntRule {
            summary: "Invalid Parallelism",
            min: 0,
            max: INT32_MAX,
            why: "Kubernetes stores Job `parallelism` as a 32-bit integer. 0 means unset, as in Planton: \
                  Kubernetes' default of 1 applies.",
        },
        d,
    );
    let completions = integer(
        &spec.completions,
        &sp.attr("completions"),
        &IntRule {
            summary: "Invalid Completions",
            min: 0,
            max: INT32_MAX,
            why: "Kubernetes stores Job `completions` as a 32-bit integer. 0 means unset, as in Planton: \
                  Kubernetes' default applies.",
        },
        d,
    );
    integer(
        &spec.backoff_limit,
        &sp.attr("backoff_limit"),
        &IntRule {
            summary: "Invalid Backoff Limit",
            min: 0,
            max: INT32_MAX,
            why: "Kubernetes stores Job `backoffLimit` as a non-negative 32-bit integer; 0 means no retry.",
        },
        d,
    );
    integer(
        &spec.active_deadline_seconds,
        &sp.attr("active_deadline_seconds"),
        &IntRule {
            summary: "Invalid Active Deadline",
            min: 0,
            max: i64::MAX,
            why: "Kubernetes stores Job `activeDeadlineSeconds` as a 64-bit integer. 0 means no deadline, as \
                  in Planton.",
        },
        d,
    );
    integer(
        &spec.ttl_seconds_after_finished,
        &sp.attr("ttl_seconds_after_finished"),
        &IntRule {
            summary: "Invalid TTL After Finished",
            min: 0,
            max: INT32_MAX,
            why: "Kubernetes stores Job `ttlSecondsAfterFinished` as a 32-bit integer. 0 means no automatic \
                  cleanup, as in Planton: the finished Job is kept.",
        },
        d,
    );

    if spec.completion_mode.known().map(String::as_str) != Some(CompletionMode::Indexed.name()) {
        return;
    }
    // Left out, `completions` is planned as Planton's default, 1.
    match completions {
        Some(0) => d.attribute_error(
            sp.attr("completions"),
            "Missing Completions",
            "`completion_mode` is \"Indexed\" and `completions` is 0, which means unset, as in Planton. \
             Kubernetes requires an Indexed Job to say how many indexes it has: set `completions` to the \
             number of indexes, for example `completions = 10`, or leave it out for Planton's default of 1.",
        ),
        Some(n) if n > MAX_INDEXED => d.attribute_error(
            sp.attr("completions"),
            "Invalid Completions",
            format!(
                "`completions` is {n}, but Kubernetes allows at most {MAX_INDEXED} completions for an Indexed \
                 Job. Lower it, or split the work across several Jobs."
            ),
        ),
        _ => {}
    }
    if let Some(n) = parallelism
        && n > MAX_INDEXED
    {
        d.attribute_error(
            sp.attr("parallelism"),
            "Invalid Parallelism",
            format!(
                "`parallelism` is {n}, but Kubernetes allows a parallelism of at most {MAX_INDEXED} for an \
                 Indexed Job. Lower it."
            ),
        );
    }
}

fn env_rules(spec: &JobSpec, namespace: Option<&str>, d: &mut Diagnostics) {
    let Some(env) = spec.env.known() else {
        return;
    };
    let p = spec_path().attr("env");
    let variables = env.variables.known();
    let secrets = env.secrets.known();
    let names = variables
        .into_iter()
        .flat_map(|m| m.keys().map(|k| ("variables", k)))
        .chain(
            secrets
                .into_iter()
                .flat_map(|m| m.keys().map(|k| ("secrets", k))),
        );
    for (group, name) in names {
        let path = p.attr(group).key(name.clone());
        if let Some(problem) = env_name_problem(name) {
            d.attribute_error(
                path,
                "Invalid Environment Variable Name",
                format!(
                    "{} Environment variable names consist of letters, digits, '_', '-' and '.', and do not \
                     start with a digit ({problem}). This is the rule every Kubernetes version accepts; newer \
                     versions are more lenient, but a name that passes it works everywhere. For example \
                     \"DB_HOST\".",
                    describe_value("The name", name),
                ),
            );
        } else if INJECTED_ENV.contains(&name.as_str()) {
            d.attribute_error(
                path,
                "Duplicate Environment Variable",
                format!(
                    "{name} is set by the provider itself (HOSTNAME carries the pod's IP and K8S_POD_ID its name, \
                     as in Planton), so the container would get the variable twice. Choose another name."
                ),
            );
        } else if group == "secrets" && variables.is_some_and(|v| v.contains_key(name)) {
            d.attribute_error(
                path,
                "Duplicate Environment Variable",
                format!(
                    "{name} appears in both `env.variables` and `env.secrets`, so the container would get it \
                     twice and only one value would win. Keep it in one of the two maps."
                ),
            );
        }
    }

    let Some(secrets) = secrets else {
        return;
    };
    for (name, secret) in secrets {
        let Some(reference) = secret.known().and_then(|s| s.secret_ref.known()) else {
            continue;
        };
        let rp = p.attr("secrets").key(name.clone()).attr("secret_ref");
        if let Some(secret_name) = reference.name.non_empty()
            && let Some(problem) = dns1123_subdomain_problem(secret_name)
        {
            d.attribute_error(
                rp.attr("name"),
                "Invalid Secret Name",
                format!(
                    "{} Kubernetes Secret names are DNS-1123 subdomains: at most 253 characters, lowercase \
                     letters, digits, '-' and '.', starting and ending with a letter or digit ({problem}); \
                     kube-apiserver rejects a secretKeyRef to any other name.",
                    describe_value("The Secret name", secret_name),
                ),
            );
        }
        if let Some(key) = reference.key.non_empty()
            && let Some(problem) = data_key_problem(key)
        {
            d.attribute_error(
                rp.attr("key"),
                "Invalid Secret Key",
                format!(
                    "{} Secret keys consist of letters, digits, '-', '_' and '.' and are at most 253 characters \
                     ({problem}); kube-apiserver rejects a secretKeyRef to any other key.",
                    describe_value("The key", key),
                ),
            );
        }
        if let (Some(ref_ns), Some(job_ns)) = (reference.namespace.non_empty(), namespace)
            && ref_ns != job_ns
        {
            d.attribute_error(
                rp.attr("namespace"),
                "Cross-Namespace Secret Reference",
                format!(
                    "The secret reference of {name} points at namespace {ref_ns:?}, but the Job runs in \
                     {job_ns:?}. Kubernetes resolves a container's secretKeyRef only in the pod's own \
                     namespace. Copy the Secret into {job_ns:?} (or run the Job in {ref_ns:?}), then remove \
                     `namespace` or set it to {job_ns:?}."
                ),
            );
        }
    }
}

fn volume_rules(mounts: &[Field<VolumeMount>], d: &mut Diagnostics) {
    let base = spec_path().attr("volume_mounts");
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut paths: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, mount) in mounts.iter().enumerate() {
        let Some(mount) = mount.known() else {
            continue;
        };
        let p = base.index(i);

        if let Some(name) = mount.name.non_empty() {
            if let Some(problem) = dns1123_label_problem(name) {
                d.attribute_error(
                    p.attr("name"),
                    "Invalid Volume Name",
                    format!(
                        "{} The name becomes a pod volume's name, which Kubernetes requires to be a DNS-1123 \
                         label: at most 63 characters, lowercase letters, digits and '-', starting and ending \
                         with a letter or digit ({problem}).",
                        describe_value("The volume name", name),
                    ),
                );
            } else if let Some(first) = names.get(name) {
                d.attribute_error(
                    p.attr("name"),
                    "Duplicate Volume Name",
                    format!(
                        "The volume name {name:?} is already used by volume_mounts[{first}]. Each entry creates \
                         its own pod volume, and Kubernetes requires volume names to be unique. Rename one."
                    ),
                );
            } else {
                names.insert(name, i);
            }
        }

        if let Some(path) = mount.mount_path.non_empty() {
            if !path.starts_with('/') {
                d.attribute_error(
                    p.attr("mount_path"),
                    "Invalid Mount Path",
                    format!(
                        "{} Volumes are mounted at absolute paths inside the container; the container runtime \
                         fails to start a pod with a relative one. Use a path starting with '/', such as \"/{}\".",
                        describe_value("The mount path", path),
                        path.trim_start_matches("./"),
                    ),
                );
            } else if let Some(first) = paths.get(path) {
                d.attribute_error(
                    p.attr("mount_path"),
                    "Duplicate Mount Path",
                    format!(
                        "The mount path {path:?} is already used by volume_mounts[{first}]. Kubernetes requires \
                         the mount paths of a container to be unique. Choose another path."
                    ),
                );
            } else {
                paths.insert(path, i);
            }
        }

        if let Some(sub_path) = mount.sub_path.non_empty()
            && let Some(problem) = relative_path_problem(sub_path, false)
        {
            d.attribute_error(
                p.attr("sub_path"),
                "Invalid Sub Path",
                format!(
                    "{} Kubernetes requires `subPath` to be a relative path inside the volume ({problem}).",
                    describe_value("The sub path", sub_path),
                ),
            );
        }

        source_count(mount, &p, d);

        for (attr, object, source) in [
            ("config_map", "ConfigMap", &mount.config_map),
            ("secret", "Secret", &mount.secret),
        ] {
            if let Some(source) = source.known() {
                keyed_source_rules(source, &p.attr(attr), object, d);
            }
        }
        if let Some(hp) = mount.host_path.known()
            && let Some(path) = hp.path.non_empty()
            && path.split('/').any(|part| part == "..")
        {
            d.attribute_error(
                p.attr("host_path").attr("path"),
                "Invalid Host Path",
                format!(
                    "{} Kubernetes rejects host paths that contain a '..' element. Write the path without it.",
                    describe_value("The host path", path),
                ),
            );
        }
        if let Some(ed) = mount.empty_dir.known() {
            quantity(
                &ed.size_limit,
                &p.attr("empty_dir").attr("size_limit"),
                true,
                d,
            );
        }
    }
}

fn source_count(mount: &VolumeMount, p: &AttributePath, d: &mut Diagnostics) {
    let sources = mount.sources();
    let present: Vec<&str> = sources
        .iter()
        .filter(|(_, s)| *s == SourcePresence::Present)
        .map(|(kind, _)| kind.attribute())
        .collect();
    let unknown = sources.iter().any(|(_, s)| *s == SourcePresence::Unknown);
    let all = "`config_map`, `secret`, `host_path`, `empty_dir` or `pvc`";
    if present.len() > 1 {
        d.attribute_error(
            p.clone(),
            "Conflicting Volume Sources",
            format!(
                "This volume mount sets {}. A Kubernetes volume has exactly one source; keep one of them, and \
                 add another volume mount for the other.",
                present
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        );
    } else if present.is_empty() && !unknown {
        d.attribute_error(
            p.clone(),
            "Missing Volume Source",
            format!(
                "This volume mount sets no source. A Kubernetes volume has exactly one source: set one of {all}, \
                 for example `empty_dir = {{}}` for scratch space."
            ),
        );
    }
}

fn keyed_source_rules(
    source: &ConfigMapVolumeSource,
    p: &AttributePath,
    object: &str,
    d: &mut Diagnostics,
) {
    if let Some(path) = source.path.non_empty() {
        if let Some(problem) = relative_path_problem(path, true) {
            d.attribute_error(
                p.attr("path"),
                "Invalid Volume Item Path",
                format!(
                    "{} It is the file name of `key` inside the volume, and Kubernetes requires a relative path \
                     ({problem}). For example \"config.yaml\".",
                    describe_value("The path", path),
                ),
            );
        } else if source.key.text() == Some("") {
            d.attribute_error(
                p.attr("path"),
                "Path Without Key",
                format!(
                    "`path` names the file for one key of the {object}, but `key` is not set, so the path \
                     would be ignored. Set `key` to the entry to mount, or remove `path` to mount every key."
                ),
            );
        }
    }
    integer(
        &source.default_mode,
        &p.attr("default_mode"),
        &IntRule {
            summary: "Invalid Default Mode",
            min: 0,
            max: 0o777,
            why: "Kubernetes accepts file mode bits up to 0777 (octal), written in decimal here: 420 is \
                  0644 and 493 is 0755. 0 means unset, as in Planton: the volume's default, 420, applies.",
        },
        d,
    );
}

// ---------------------------------------------------------------------------
// What only matters because this is Terraform.

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
/// empty name is left to [`planton_rules`], which reports it already.
fn unresolvable(
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

// ---------------------------------------------------------------------------
// Name and path rules, as kube-apiserver states them.

/// Why `s` is not a DNS-1123 label, if it is not one.
fn dns1123_label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 63 {
        return Some(format!("it has {} characters", s.len()));
    }
    label_chars_problem(s, false)
}

/// Why `s` is not a DNS-1123 subdomain, if it is not one.
fn dns1123_subdomain_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 253 {
        return Some(format!("it has {} characters", s.len()));
    }
    if s.split('.').any(str::is_empty) {
        return Some("it has an empty part between dots".into());
    }
    s.split('.')
        .find_map(|part| label_chars_problem(part, true))
}

fn label_chars_problem(s: &str, in_subdomain: bool) -> Option<String> {
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if c.is_ascii_uppercase() {
            "it has uppercase letters".into()
        } else if c == '.' && !in_subdomain {
            "it contains '.'".into()
        } else {
            format!("it contains {c:?}")
        });
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("it starts or ends with '-'".into());
    }
    None
}

/// Why `s` is not a ConfigMap or Secret data key.
fn data_key_problem(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some(format!("it has {} characters", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Some(format!("it contains {c:?}"));
    }
    dot_prefix_problem(s)
}

/// Why `path` is not a relative path that stays inside a volume; `reserved`
/// also refuses a leading `..` (Kubernetes keeps those names for itself in
/// ConfigMap and Secret volumes).
fn relative_path_problem(path: &str, reserved: bool) -> Option<String> {
    if path.starts_with('/') {
        return Some("it is absolute".into());
    }
    if path.split('/').any(|part| part == "..") {
        return Some("it contains a '..' element".into());
    }
    if reserved && path.starts_with("..") {
        return Some("it starts with '..'".into());
    }
    None
}

/// Why `repo` cannot be an image repository, if so.
fn image_repo_problem(repo: &str) -> Option<String> {
    if let Some(c) = repo.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "An image reference cannot contain whitespace or control characters ({c:?})."
        ));
    }
    // The first component is a registry host when it looks like one; the
    // path after it must be lowercase.
    let path = match repo.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => repo,
    };
    let path = path.split(['@', ':']).next().unwrap_or(path);
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(
            "Repository paths must be lowercase (only a registry host may use uppercase).".into(),
        );
    }
    None
}

/// Whether `tag` matches `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_image_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// Whether the repository already carries a digest (`@`) or a tag (`:` in
/// its last path component; a `:` before a `/` is a registry port).
fn repo_has_tag_or_digest(repo: &str) -> bool {
    repo.contains('@')
        || repo
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
}

// ---------------------------------------------------------------------------
// Wording helpers.

/// `The restart policy is "always".`, trimmed for very long values.
fn describe_value(what: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{what} is empty.")
    } else {
        format!("{what} is {}.", short(&format!("{value:?}")))
    }
}

/// At most 80 characters of `text`.
fn short(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// `"OnFailure" or "Never"`, `"a", "b" or "c"`.
fn choices(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// ` Did you mean "Never"?` when the value differs only in case.
fn case_hint(value: &str, names: &[&str]) -> String {
    names
        .iter()
        .find(|n| !n.is_empty() && n.eq_ignore_ascii_case(value))
        .map(|n| format!(" Names are case-sensitive: did you mean {n:?}?"))
        .unwrap_or_default()
}

/// The last attribute name of a path, for details.
fn last_attribute(p: &AttributePath) -> String {
    p.0.iter()
        .rev()
        .find_map(|step| match step {
            PathStep::Attribute(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests;
