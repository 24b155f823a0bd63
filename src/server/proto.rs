//! Code generated from `proto/` by tonic-build: the provider protocol and
//! go-plugin's services, exactly as the `.proto` files declare them.

#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used
)]

/// `tfplugin6`: the provider protocol.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}
/// `plugin`: go-plugin's controller, stdio and broker services.
pub mod plugin {
    tonic::include_proto!("plugin");
}
