//! What Kubernetes would reject in `spec.volume_mounts`: volume names and
//! mount paths (valid and unique), sub paths, exactly one source per mount,
//! the items and modes of ConfigMap and Secret volumes, host paths and
//! emptyDir size limits. The Planton-side rules of the same mounts are in
//! [`super::planton`].

use std::collections::BTreeMap;

use crate::kubernetes_job::model::spec::{
    ConfigMapVolumeSource, Field, SourcePresence, VolumeMount,
};
use crate::tf::{AttributePath, Diagnostics};

use super::names::{dns1123_label_problem, relative_path_problem};
use super::numbers::{IntRule, integer, quantity};
use super::wording::{describe_value, spec_path};

pub(super) fn volume_rules(mounts: &[Field<VolumeMount>], d: &mut Diagnostics) {
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

pub(super) fn source_count(mount: &VolumeMount, p: &AttributePath, d: &mut Diagnostics) {
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

pub(super) fn keyed_source_rules(
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
