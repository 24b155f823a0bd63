//! Diagnostics: how every failure reaches the user.

use super::path::AttributePath;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown, but the operation goes on.
    Warning,
}

/// One message for the user: a short title, a detail that says what happened
/// and what to do, and optionally the attribute it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short title in Title Case.
    pub summary: String,
    /// What happened and what to do about it.
    pub detail: String,
    /// The attribute the message is about, if any.
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    /// An error about no attribute in particular.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    /// The error for a value Terraform sent that does not fit the schema
    /// (`what` of `type_name`, e.g. "prior state" of a resource type).
    pub fn undecodable(what: &str, type_name: &str, err: &dyn std::fmt::Display) -> Self {
        Diagnostic::provider_bug(
            "Unreadable Value From Terraform",
            format!(
                "While reading the {what} Terraform sent for {type_name}: {err}. \
                 The value does not match the provider's schema, unless this Terraform version is one \
                 the provider does not support."
            ),
        )
    }

    /// The error for a value of ours that does not fit the schema it is
    /// sent with.
    pub fn unencodable(what: &str, type_name: &str, err: &dyn std::fmt::Display) -> Self {
        Diagnostic::provider_bug(
            "Provider Produced An Invalid Value",
            format!("While sending the {what} of {type_name} to Terraform: {err}."),
        )
    }

    /// An error for what cannot happen unless the provider is wrong:
    /// `what` says what happened, as whole sentences, and the detail ends
    /// with [`PROVIDER_BUG`].
    pub fn provider_bug(summary: impl Into<String>, what: impl std::fmt::Display) -> Self {
        Diagnostic::error(summary, format!("{what} {PROVIDER_BUG}"))
    }
}

/// An ordered collection of diagnostics; operations append to it and callers
/// stop once [`Diagnostics::has_error`] is true.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }
    /// Adds an error that is not about one attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary.into(), detail.into(), None);
    }
    /// Adds an error about one attribute.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary.into(), detail.into(), Some(path));
    }
    /// Adds a warning that is not about one attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary.into(), detail.into(), None);
    }
    /// Adds a warning about one attribute.
    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary.into(), detail.into(), Some(path));
    }
    fn push(
        &mut self,
        severity: Severity,
        summary: String,
        detail: String,
        path: Option<AttributePath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary,
            detail,
            path,
        });
    }
    /// Appends one diagnostic.
    pub fn add(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Whether any diagnostic is an error.
    pub fn has_error(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    /// Whether there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over the diagnostics.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

/// How every report of a state the provider should never reach ends.
pub const PROVIDER_BUG: &str =
    "This is a bug in the provider; please report it with TF_LOG=debug output.";

impl Diagnostics {
    /// Adds an error for what cannot happen unless the provider is wrong
    /// (Terraform checked the types, the plan let only known values
    /// through, ...): `what` says what happened, as whole sentences, and
    /// the detail ends with [`PROVIDER_BUG`]. `path` is the attribute it
    /// concerns, when there is one.
    pub fn provider_bug(
        &mut self,
        path: Option<AttributePath>,
        summary: impl Into<String>,
        what: impl std::fmt::Display,
    ) {
        let mut bug = Diagnostic::provider_bug(summary, what);
        bug.path = path;
        self.0.push(bug);
    }
}
