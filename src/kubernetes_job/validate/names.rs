//! Name and path rules as kube-apiserver states them, each a function that
//! says why a text breaks the rule (or `None` when it does not): DNS-1123
//! labels and subdomains, ConfigMap and Secret data keys, relative paths
//! inside a volume, and image repositories and tags. The wording of the
//! diagnostics that use them lives with the rules; the name rules other
//! parts share are in [`crate::kubernetes_job::model::names`].

use crate::kubernetes_job::model::names::dot_prefix_problem;

/// Why `s` is not a DNS-1123 label, if it is not one.
pub(super) fn dns1123_label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 63 {
        return Some(format!("it has {} characters", s.len()));
    }
    label_chars_problem(s, false)
}

/// Why `s` is not a DNS-1123 subdomain, if it is not one.
pub(super) fn dns1123_subdomain_problem(s: &str) -> Option<String> {
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

pub(super) fn label_chars_problem(s: &str, in_subdomain: bool) -> Option<String> {
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
pub(super) fn data_key_problem(s: &str) -> Option<String> {
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
pub(super) fn relative_path_problem(path: &str, reserved: bool) -> Option<String> {
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
pub(super) fn image_repo_problem(repo: &str) -> Option<String> {
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
pub(super) fn is_image_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// Whether the repository already carries a digest (`@`) or a tag (`:` in
/// its last path component; a `:` before a `/` is a registry port).
pub(super) fn repo_has_tag_or_digest(repo: &str) -> bool {
    repo.contains('@')
        || repo
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
}
