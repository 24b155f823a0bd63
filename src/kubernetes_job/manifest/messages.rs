//! How the manifest functions' errors say where and what: a place in the
//! manifest written both as the manifest names it (`spec.volumeMounts[0]`)
//! and as the attribute it fills, a short description of a wrong value, the
//! valid field names with the closest one to a misspelling, and what a
//! value of each type is called.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::tf::{Type, Value};

/// One step from the root of a value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Key(&'a str),
}

/// Where a value is: a chain of steps up to the root, built on the stack
/// while walking and rendered only for an error.
#[derive(Debug, Clone, Copy)]
pub(super) struct At<'a> {
    parent: Option<&'a At<'a>>,
    step: Step<'a>,
}

/// How a path is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notation {
    /// A manifest: `spec.env.variables.LOG_LEVEL.value`, `spec.volumeMounts[1]`.
    Manifest,
    /// Terraform: `spec.env.variables["LOG_LEVEL"].value`.
    Terraform,
}

impl<'a> At<'a> {
    pub(super) fn root(name: &'a str) -> At<'a> {
        At {
            parent: None,
            step: Step::Field(name),
        }
    }

    pub(super) fn child(&'a self, step: Step<'a>) -> At<'a> {
        At {
            parent: Some(self),
            step,
        }
    }

    pub(super) fn render(&self, notation: Notation) -> String {
        let mut steps = vec![self.step];
        let mut up = self.parent;
        while let Some(at) = up {
            steps.push(at.step);
            up = at.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match *step {
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Step::Key(key) => {
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if notation == Notation::Manifest && plain {
                        out.push('.');
                        out.push_str(key);
                    } else {
                        let _ = write!(out, "[{key:?}]");
                    }
                }
            }
        }
        out
    }
}

/// A value's own description, for "found ..." in messages.
pub(super) fn describe(v: &Value) -> String {
    match strip(v) {
        Value::Null => "null".into(),
        Value::Unknown(_) => "an unknown value".into(),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                format!("the string {:?}...", shown)
            } else {
                format!("the string {s:?}")
            }
        }
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the bool {b}"),
        Value::List(_) | Value::Set(_) | Value::Tuple(_) => "a list".into(),
        Value::Map(_) | Value::Object(_) => "an object".into(),
        Value::Dynamic(..) => "a value".into(),
    }
}

/// The value inside any dynamic wrappers.
pub(super) fn strip(v: &Value) -> &Value {
    match v {
        Value::Dynamic(_, inner) => strip(inner),
        other => other,
    }
}

/// The entries of an object or map.
pub(super) fn entries(v: &Value) -> Option<&BTreeMap<String, Value>> {
    match strip(v) {
        Value::Object(m) | Value::Map(m) => Some(m),
        _ => None,
    }
}

/// The elements of a list, tuple or set.
pub(super) fn elements(v: &Value) -> Option<&[Value]> {
    match strip(v) {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

/// "a, b and c".
pub(super) fn enumerate(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Edit distance counting an adjacent swap as one edit.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The valid name `wrong` most likely meant: the same name in another case
/// or spelling convention, or one a couple of edits away.
pub(super) fn closest<'n>(wrong: &str, valid: &'n [String]) -> Option<&'n str> {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    if let Some(same) = valid.iter().find(|v| fold(v) == fold(wrong)) {
        return Some(same);
    }
    let limit = if wrong.chars().count() < 4 { 1 } else { 2 };
    valid
        .iter()
        .map(|v| (distance(&fold(wrong), &fold(v)), v))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v.as_str())
}

/// The message for a field or attribute that does not exist.
pub(super) fn unknown_field(
    at: &At<'_>,
    notation: Notation,
    what: &str,
    valid: &[String],
) -> String {
    let key = match at.step {
        Step::Field(name) => name,
        _ => "",
    };
    let mut text = format!("{}: unknown {what} {key:?}.", at.render(notation));
    if let Some(near) = closest(key, valid) {
        let _ = write!(text, " Did you mean {near:?}?");
    }
    let level = match at.parent {
        Some(parent) => parent.render(notation),
        None => String::new(),
    };
    if level.is_empty() {
        let _ = write!(
            text,
            " A KubernetesJob manifest has the fields {}.",
            enumerate(valid)
        );
    } else {
        let _ = write!(text, " The {what}s of {level} are {}.", enumerate(valid));
    }
    text
}

/// What a value of `ty` is called in messages.
pub(super) fn noun(ty: &Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Number => "a number",
        Type::Bool => "true or false",
        Type::List(_) | Type::Set(_) | Type::Tuple(_) => "a list",
        Type::Map(_) | Type::Object(_) => "an object",
        Type::Dynamic => "a value",
    }
}
