//! terraform-provider-planton: a Terraform provider for Project Planton's
//! KubernetesJob, speaking plugin protocol 6.
//!
//! # Layout
//!
//! Each layer knows only the one below it:
//!
//! - [`server`]: plugin transport: handshake, TLS, gRPC services, debug
//!   (reattach) mode. Converts protobuf messages to framework types and
//!   back; decides nothing. Imports only `tf`.
//! - [`tf`]: the provider framework: values and their codecs, schemas,
//!   paths, diagnostics, the plan pipeline, the resource traits, and the
//!   RPC policy (`tf::dispatch`: apply as create/update/delete, destroy,
//!   identities, imports, lists, function calls).
//! - [`provider`]: the `planton` provider: its block's schema, the
//!   environment variables it reads, and reading both into connection
//!   settings, which it hands to [`kube`]'s registry of clusters.
//! - [`kubernetes_job`]: the `planton_kubernetes_job` resource: schema,
//!   spec model, validation, rendering, plan, apply, read, wait, delete.
//! - [`kube`]: everything about reaching a cluster: connection settings
//!   and their resolution into a kube Config, the one client builder, the
//!   registry of named clusters, exec plugins, TLS and credential errors,
//!   retries, budgets, server-side apply, errors as diagnostics, watches.

pub mod kube;
pub mod kubernetes_job;
pub mod provider;
pub mod server;
pub mod tf;
