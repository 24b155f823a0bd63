//! terraform-provider-planton: a Terraform provider for Project Planton's
//! KubernetesJob, speaking plugin protocol 6.
//!
//! # Layout
//!
//! ARCHITECTURE.md describes the layers, what each may import, and the
//! path of one apply through them; `tests/architecture.rs` checks them.
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
//! - [`kubernetes_job`]: the `planton_kubernetes_job` resource, in parts
//!   that are layers of their own: model, validate, render, cluster, adopt,
//!   lifecycle, manifest.
//! - [`kube`]: everything about reaching a cluster: connection settings
//!   and their resolution into a kube Config, the one client builder, the
//!   registry of named clusters, exec plugins, TLS and credential errors,
//!   retries, budgets, server-side apply, errors as diagnostics, watches.

pub mod kube;
pub mod kubernetes_job;
pub mod provider;
pub mod server;
pub mod tf;
