//! What kube-apiserver or the kubelet would reject later, caught at plan
//! time: the Job and namespace names, the image reference, resource
//! quantities and requests against limits, the Job's counts and their
//! 32-bit ranges, and environment variable names and secret references.
//! Volume mounts have their own file, [`super::volumes`]; the number and
//! quantity checks, shared with it, are in [`super::numbers`].

use crate::kubernetes_job::model::names::{INJECTED_ENV, env_name_problem};
use crate::kubernetes_job::model::spec::{
    CompletionMode, CpuMemory, Field, JobSpec, KubernetesJob,
};
use crate::tf::{AttributePath, Diagnostics};

use super::names::{
    data_key_problem, dns1123_label_problem, dns1123_subdomain_problem, image_repo_problem,
    is_image_tag, repo_has_tag_or_digest,
};
use super::numbers::{INT32_MAX, IntRule, Parsed, integer, quantity};
use super::volumes::volume_rules;
use super::wording::{describe_value, spec_path};

/// Kubernetes caps `completions` and `parallelism` of an Indexed Job.
pub const MAX_INDEXED: i64 = 100_000;

/// Kubernetes limits the data of one ConfigMap to 1 MiB.
pub const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;

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
pub(super) fn namespace_rules<'a>(spec: &'a JobSpec, d: &mut Diagnostics) -> Option<&'a str> {
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

pub(super) fn image_rules(spec: &JobSpec, d: &mut Diagnostics) {
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

pub(super) fn resource_rules(spec: &JobSpec, d: &mut Diagnostics) {
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

pub(super) fn count_rules(spec: &JobSpec, d: &mut Diagnostics) {
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

pub(super) fn env_rules(spec: &JobSpec, namespace: Option<&str>, d: &mut Diagnostics) {
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
