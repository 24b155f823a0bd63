//! Project Planton's own rules, and nothing else: what its protovalidate
//! constraints on a KubernetesJob check (relationships, cluster kind,
//! completion mode, restart policy, `value_from` references, secret
//! references and volume mounts), with Planton's semantics that a null
//! string counts as empty, so a manifest Planton accepts passes here and a
//! manifest it refuses fails here on the same attribute.

use crate::kubernetes_job::model::kinds;
use crate::kubernetes_job::model::spec::{
    ClusterKind, CompletionMode, Field, HostPathType, KubernetesJob, RelationshipType,
    RestartPolicy, StorageMedium, ValueFromRef, VolumeMount,
};
use crate::tf::{AttributePath, Diagnostics};

use super::wording::{case_hint, choices, describe_value, spec_path};

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
pub(super) fn kind_rule(kind: &str, p: &AttributePath, what: &str, d: &mut Diagnostics) {
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

pub(super) fn reference_name(
    value_from: &Field<ValueFromRef>,
    p: &AttributePath,
    d: &mut Diagnostics,
) {
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

pub(super) fn planton_volume_rules(mount: &VolumeMount, p: &AttributePath, d: &mut Diagnostics) {
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
