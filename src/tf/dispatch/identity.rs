//! Identity rules: Terraform receives an identity derived from the state
//! the operation produced; where the resource cannot tell one, Terraform
//! keeps the identity it already had; a destroyed object has none. A
//! derived identity that does not fit the identity schema is a provider
//! bug, reported next to the answer instead of sent.

use super::registry::ResourceEntry;
use crate::tf::diag::Diagnostic;
use crate::tf::value::{Value, msgpack};

/// The identity Terraform should hold after an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum NewIdentity {
    /// No identity (a resource without identity, a destroy, or a plan
    /// that cannot tell it yet).
    Absent,
    /// The identity Terraform sent with the request, unchanged.
    KeepPrior,
    /// This identity.
    Set(Value),
}

/// An identity with the problem found while deriving it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    /// The identity to answer.
    pub identity: NewIdentity,
    /// Set when the resource produced an identity that does not fit its
    /// schema.
    pub problem: Option<Diagnostic>,
}

impl Identified {
    fn new(identity: NewIdentity) -> Self {
        Identified {
            identity,
            problem: None,
        }
    }
}

/// Whether `value` can be sent as a value of the entry's `ty` (a null
/// always can); the error names `what` it was.
pub fn check_encodable(
    value: &Value,
    ty: &crate::tf::types::Type,
    what: &str,
    type_name: &str,
) -> Result<(), Diagnostic> {
    if value.is_null() {
        return Ok(());
    }
    msgpack::encode(value, ty)
        .map(drop)
        .map_err(|e| Diagnostic::unencodable(what, type_name, &e))
}

/// The identity of the object `state` describes; `None` when the
/// resource has no identity or cannot tell it from `state`.
pub fn identity_of(entry: &ResourceEntry, state: &Value) -> Result<Option<Value>, Diagnostic> {
    let Some((_, ty)) = &entry.identity else {
        return Ok(None);
    };
    if state.is_null() {
        return Ok(None);
    }
    let Some(identity) = entry.resource.identity(state) else {
        return Ok(None);
    };
    check_encodable(&identity, ty, "identity", entry.resource.type_name())?;
    Ok(Some(identity))
}

/// Keep what Terraform sent, when the resource has an identity at all.
fn keep(entry: &ResourceEntry) -> NewIdentity {
    match entry.identity {
        Some(_) => NewIdentity::KeepPrior,
        None => NewIdentity::Absent,
    }
}

/// The identity of `state`, else the one Terraform sent (read, apply).
pub fn derived_or_kept(entry: &ResourceEntry, state: &Value) -> Identified {
    match identity_of(entry, state) {
        Ok(Some(identity)) => Identified::new(NewIdentity::Set(identity)),
        Ok(None) => Identified::new(keep(entry)),
        Err(d) => Identified {
            identity: keep(entry),
            problem: Some(d),
        },
    }
}

/// The planned identity: none for a destroy; an update keeps the prior
/// identity Terraform sent; otherwise (a create, or a state written before
/// identities) it is derived from the prior state, else from the plan,
/// once that is wholly known.
pub fn planned(
    entry: &ResourceEntry,
    destroying: bool,
    has_prior_identity: bool,
    prior_state: &Value,
    planned_state: &Value,
) -> Identified {
    if destroying {
        return Identified::new(NewIdentity::Absent);
    }
    if has_prior_identity {
        return Identified::new(keep(entry));
    }
    let source = if prior_state.is_null() {
        planned_state
    } else {
        prior_state
    };
    if !source.is_wholly_known() {
        return Identified::new(NewIdentity::Absent);
    }
    match identity_of(entry, source) {
        Ok(Some(identity)) => Identified::new(NewIdentity::Set(identity)),
        Ok(None) => Identified::new(NewIdentity::Absent),
        Err(d) => Identified {
            identity: NewIdentity::Absent,
            problem: Some(d),
        },
    }
}
