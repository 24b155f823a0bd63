//! Compiles the plugin protocol definitions with protox (pure Rust), so that
//! no system `protoc` is needed, and generates tonic servers and clients.
//! The clients are used by the protocol tests.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["tfplugin6.proto", "plugin.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .generate_default_stubs(false)
        .compile_fds(fds)?;
    Ok(())
}
