//! The little schema knowledge merges need: which lists are keyed (and by what),
//! which are sets, which are atomic, and which structs are atomic. It mirrors the
//! `listType`/`listMapKey`/`patchMergeKey`/`structType` markers of the Kubernetes
//! types the emulator serves. Paths are field names with `[]` for list items.

/// How a list merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Items are identified by these key fields (`listType=map`).
    Map(&'static [&'static str]),
    /// Items are scalars identified by value (`listType=set`).
    Set,
    /// The list is replaced as a whole.
    Atomic,
}

/// Where the pod spec is inside an object of `kind`, as a path prefix.
fn pod_spec_prefix(kind: &str) -> &'static [&'static str] {
    match kind {
        "Job" => &["spec", "template", "spec"],
        "Pod" => &["spec"],
        _ => &[],
    }
}

fn relative<'a>(kind: &str, path: &'a [&'a str]) -> Option<&'a [&'a str]> {
    let prefix = pod_spec_prefix(kind);
    if prefix.is_empty() || path.len() < prefix.len() || &path[..prefix.len()] != prefix {
        return None;
    }
    Some(&path[prefix.len()..])
}

fn is_container_list(s: &str) -> bool {
    matches!(s, "containers" | "initContainers" | "ephemeralContainers")
}

/// The list kind at `path` in an object of `kind`.
pub fn list_kind(kind: &str, path: &[&str]) -> ListKind {
    match path {
        ["metadata", "finalizers"] => return ListKind::Set,
        ["metadata", "ownerReferences"] => return ListKind::Map(&["uid"]),
        [.., "status", "conditions"] => return ListKind::Map(&["type"]),
        _ => {}
    }
    if kind == "ServiceAccount" && matches!(path, ["secrets"] | ["imagePullSecrets"]) {
        return ListKind::Map(&["name"]);
    }
    if let Some(rel) = relative(kind, path) {
        return match rel {
            [c] if is_container_list(c) => ListKind::Map(&["name"]),
            ["volumes"] | ["imagePullSecrets"] | ["resourceClaims"] | ["schedulingGates"] => {
                ListKind::Map(&["name"])
            }
            ["hostAliases"] => ListKind::Map(&["ip"]),
            ["topologySpreadConstraints"] => ListKind::Map(&["topologyKey", "whenUnsatisfiable"]),
            [c, "[]", "env"] if is_container_list(c) => ListKind::Map(&["name"]),
            [c, "[]", "ports"] if is_container_list(c) => {
                ListKind::Map(&["containerPort", "protocol"])
            }
            [c, "[]", "volumeMounts"] if is_container_list(c) => ListKind::Map(&["mountPath"]),
            [c, "[]", "volumeDevices"] if is_container_list(c) => ListKind::Map(&["devicePath"]),
            _ => ListKind::Atomic,
        };
    }
    ListKind::Atomic
}

/// The strategic-merge-patch merge key at `path` (`patchMergeKey`), if the list merges.
pub fn patch_merge_key(kind: &str, path: &[&str]) -> Option<&'static str> {
    if let Some(rel) = relative(kind, path)
        && matches!(rel, [c, "[]", "ports"] if is_container_list(c))
    {
        return Some("containerPort");
    }
    match list_kind(kind, path) {
        ListKind::Map(keys) => keys.first().copied(),
        _ => None,
    }
}

/// Whether the list at `path` merges as a set of scalars under strategic merge patch.
pub fn patch_merges_scalars(path: &[&str]) -> bool {
    matches!(path, ["metadata", "finalizers"])
}

/// Whether the object at `path` is an atomic struct (`structType=atomic`): owned and
/// replaced as a whole.
pub fn is_atomic_struct(kind: &str, path: &[&str]) -> bool {
    if kind == "Job" && path == ["spec", "selector"] {
        return true;
    }
    matches!(
        path,
        [
            ..,
            "valueFrom",
            "secretKeyRef" | "configMapKeyRef" | "fieldRef" | "resourceFieldRef"
        ] | [.., "envFrom", "[]", "secretRef" | "configMapRef"]
            | [.., "fieldRef"]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_pod_template_lists_are_keyed() {
        assert_eq!(
            list_kind("Job", &["spec", "template", "spec", "containers"]),
            ListKind::Map(&["name"])
        );
        assert_eq!(
            list_kind(
                "Job",
                &["spec", "template", "spec", "containers", "[]", "env"]
            ),
            ListKind::Map(&["name"])
        );
        assert_eq!(
            list_kind(
                "Job",
                &["spec", "template", "spec", "containers", "[]", "args"]
            ),
            ListKind::Atomic
        );
        assert_eq!(
            list_kind("Pod", &["spec", "volumes"]),
            ListKind::Map(&["name"])
        );
        assert_eq!(
            list_kind("ConfigMap", &["metadata", "finalizers"]),
            ListKind::Set
        );
        assert_eq!(
            patch_merge_key("Pod", &["spec", "containers", "[]", "ports"]),
            Some("containerPort")
        );
    }
}
