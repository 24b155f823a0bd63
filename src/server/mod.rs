//! Plugin transport: the go-plugin handshake, AutoMTLS, and the gRPC
//! services Terraform talks to (`tfplugin6.Provider`, `plugin.GRPCController`,
//! `plugin.GRPCStdio`, `plugin.GRPCBroker`, `grpc.health.v1.Health`).
//!
//! Entry points: [`serve()`] for a process Terraform started, [`serve_debug`]
//! for `--debug` (reattach) mode, and [`serve_on`] to serve on a listener the
//! caller bound (tests).

mod calls;
mod clock;
mod controller;
mod convert;
mod debug;
mod grpc;
pub mod handshake;
pub mod logging;
pub mod proto;
mod serve;
pub mod tls;

pub use debug::{reattach_line, serve_debug};
pub use handshake::HandshakeError;
pub use serve::{MAX_MESSAGE_SIZE, PROVIDER_ADDRESS, ServeError, serve, serve_on};
