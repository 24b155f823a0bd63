//! The framework's server: the policy behind every RPC, with no protobuf in
//! sight. The transport decodes a request with the types registered here,
//! calls one function or method, and encodes what comes back. This is where
//! ApplyResourceChange turns into a create, an update or a delete, where a
//! destroy answers a null state, where identities are derived from state or
//! kept, where an import gives way to StopProvider, where lists stop at
//! Terraform's limit and where function calls are held to their signature.
//!
//! - [`registry`]: what the provider offers, looked up by name, and the
//!   stop signal.
//! - [`managed`]: the managed-resource RPCs.
//! - [`identity`]: which identity Terraform receives.
//! - [`data_source`]: ReadDataSource and its deferral.
//! - [`list`]: ListResource's streaming.
//! - [`function`]: CallFunction's checks.
//! - [`action`]: InvokeAction's streaming.

pub mod action;
pub mod data_source;
pub mod function;
pub mod identity;
pub mod list;
pub mod managed;
pub mod registry;

pub use action::ActionEvent;
pub use function::Called;
pub use identity::{Identified, NewIdentity};
pub use list::{ListEvent, ListTypes};
pub use managed::{Imported, apply_resource_change};
pub use registry::{
    ActionEntry, DataSourceEntry, Dispatcher, FunctionEntry, ListEntry, ResourceEntry, unsupported,
};

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
