//! Rules about names that more than one part applies: the environment
//! variables the provider sets itself ([`INJECTED_ENV`]), what Kubernetes
//! accepts as an environment variable name ([`env_name_problem`]), the
//! names it reserves for itself ([`dot_prefix_problem`]), and how a
//! snake_case name is spelled in JSON ([`json_name`]). Validation checks
//! `spec.env` with them, the write-only secrets check their own names with
//! them, and rendering puts the injected variables first.

/// Environment variables the provider injects ahead of the user's (as
/// Planton does): `HOSTNAME` (the pod IP) and `K8S_POD_ID` (the pod name).
pub const INJECTED_ENV: [&str; 2] = ["HOSTNAME", "K8S_POD_ID"];

/// Why `s` is not an environment variable name by the strict rule
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn env_name_problem(s: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    match s.chars().next() {
        None => return Some("it is empty".into()),
        Some(c) if c.is_ascii_digit() => return Some("it starts with a digit".into()),
        _ => {}
    }
    if let Some(c) = s.chars().find(|c| !ok(*c)) {
        return Some(format!("it contains {c:?}"));
    }
    dot_prefix_problem(s)
}

/// Kubernetes reserves `.`, `..` and names starting with `..`.
pub fn dot_prefix_problem(s: &str) -> Option<String> {
    if s == "." || s.starts_with("..") {
        Some("it is '.' or starts with '..'".into())
    } else {
        None
    }
}

/// lowerCamelCase of a snake_case name: how protojson (Planton manifests)
/// and the Kubernetes API spell a field.
pub fn json_name(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
