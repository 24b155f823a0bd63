//! How validation details say where and what: the `spec` path most rules
//! start from, a value quoted and trimmed to a readable length, a list of
//! valid names, a hint when a name differs only in case, and the attribute
//! a path ends in. Shared by every group of rules so that all details read
//! alike.

use crate::tf::{AttributePath, PathStep};

/// The path of `spec`, where most attributes live.
pub(super) fn spec_path() -> AttributePath {
    AttributePath::root("spec")
}

/// `The restart policy is "always".`, trimmed for very long values.
pub(super) fn describe_value(what: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{what} is empty.")
    } else {
        format!("{what} is {}.", short(&format!("{value:?}")))
    }
}

/// At most 80 characters of `text`.
pub(super) fn short(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// `"OnFailure" or "Never"`, `"a", "b" or "c"`.
pub(super) fn choices(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// ` Did you mean "Never"?` when the value differs only in case.
pub(super) fn case_hint(value: &str, names: &[&str]) -> String {
    names
        .iter()
        .find(|n| !n.is_empty() && n.eq_ignore_ascii_case(value))
        .map(|n| format!(" Names are case-sensitive: did you mean {n:?}?"))
        .unwrap_or_default()
}

/// The last attribute name of a path, for details.
pub(super) fn last_attribute(p: &AttributePath) -> String {
    p.0.iter()
        .rev()
        .find_map(|step| match step {
            PathStep::Attribute(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
