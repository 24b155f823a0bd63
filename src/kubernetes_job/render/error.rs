//! How rendering reads the model: a value it needs must be known and set
//! (`need`), an optional one known (`opt`), a count a 32-bit whole
//! number (`int32`); anything else is a `RenderError` on the
//! attribute's path. Plan and validation rule these out, so such an error
//! is always the provider's bug.

use crate::kubernetes_job::model::spec::Field;
use crate::tf::{AttributePath, Number};

/// A value rendering needs was not known, not set, or out of range. The
/// plan and validation rule these out, so this is a provider bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} is {problem}")]
pub struct RenderError {
    /// The attribute.
    pub path: AttributePath,
    /// What is wrong with it.
    pub problem: &'static str,
}

pub(super) type Result<T> = std::result::Result<T, RenderError>;

pub(super) fn need<T>(field: &Field<T>, path: impl FnOnce() -> AttributePath) -> Result<&T> {
    match field {
        Field::Known(v) => Ok(v),
        Field::Unknown => Err(RenderError {
            path: path(),
            problem: "not known yet",
        }),
        Field::Null => Err(RenderError {
            path: path(),
            problem: "not set",
        }),
    }
}

/// A known value, `None` when null; unknown is an error.
pub(super) fn opt<T>(field: &Field<T>, path: impl FnOnce() -> AttributePath) -> Result<Option<&T>> {
    match field {
        Field::Known(v) => Ok(Some(v)),
        Field::Null => Ok(None),
        Field::Unknown => Err(RenderError {
            path: path(),
            problem: "not known yet",
        }),
    }
}

pub(super) fn int32(n: &Number, path: impl FnOnce() -> AttributePath) -> Result<i32> {
    n.as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| RenderError {
            path: path(),
            problem: "not a 32-bit whole number",
        })
}

pub(super) fn sp() -> AttributePath {
    AttributePath::root("spec")
}
