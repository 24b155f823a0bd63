//! The provider framework: everything a Terraform provider needs that is not
//! tied to the wire protocol or to Kubernetes.
//!
//! - [`value`]: the dynamic [`Value`] (null / unknown / known) and its msgpack
//!   and JSON codecs, driven by a [`Type`].
//! - [`schema`]: attribute and block schemas, with their Markdown descriptions.
//! - [`path`] and [`diag`]: attribute paths and diagnostics.
//! - [`plan`]: the plan pipeline (defaults, unknown computed values,
//!   requires-replace).
//! - [`resource`]: the [`Provider`], [`Resource`],
//!   [`resource::DataSource`] and [`resource::ListResource`] traits with a request and response type per
//!   operation (a resource creates, reads, updates and deletes; it never
//!   sees ApplyResourceChange as such).
//! - [`dispatch`]: the policy behind every RPC, the way
//!   terraform-plugin-framework's internal server holds it: which of create,
//!   update or delete an apply is, what a destroy answers, which identity
//!   Terraform receives, how imports stop, what a deferred data source
//!   answers, how lists stream and functions are checked. The transport
//!   only converts to and from it.
//! - [`generate`]: configuration from state (GenerateResourceConfig).
//! - [`function`]: provider-defined functions (the [`Function`] trait).
//! - [`action`]: actions run on request (the [`action::Action`] trait).
//! - [`capabilities`]: what Terraform can do, and deferral reasons.
//!
//! This layer knows nothing of protobuf (see `server`) nor of Kubernetes,
//! and imports nothing of the crate outside `tf`.

pub mod action;
pub mod capabilities;
pub mod diag;
pub mod dispatch;
pub mod function;
pub mod generate;
pub mod path;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod types;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use function::{Function, FunctionError};
pub use path::{AttributePath, PathStep};
pub use resource::{Provider, Resource};
pub use schema::{Attribute, AttributeKind, Block, NestedAttributes, NestedBlock, Nesting, Schema};
pub use types::Type;
pub use value::{Number, Value};
