//! What Terraform says it can do, and why an answer is deferred: shared by
//! resources and actions.

/// What Terraform told us it can do.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCapabilities {
    /// Terraform accepts a deferred response.
    pub deferral_allowed: bool,
    /// Terraform understands write-only attributes.
    pub write_only_attributes_allowed: bool,
}

/// Why a response was deferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferredReason {
    /// The resource's configuration is not fully known.
    ResourceConfigUnknown,
    /// The provider's configuration is not fully known.
    ProviderConfigUnknown,
    /// A prerequisite is missing.
    AbsentPrereq,
}
