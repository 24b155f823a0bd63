//! The `kube-emulator` binary: `--listen 127.0.0.1:0 --kubeconfig-out FILE`.

use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;

use crate::util::client_for;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary picks a free port, writes a kubeconfig naming it (with TLS and a token), and serves.
#[tokio::test]
async fn binary_serves_and_writes_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("kubeconfig");
    let _child = Child(
        Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kc_path)
            .args(["--tls", "--token", "t0ken", "--fast"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let kubeconfig = loop {
        if let Ok(text) = std::fs::read_to_string(&kc_path)
            && text.contains("users:")
        {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no kubeconfig written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        kubeconfig.contains("server: https://127.0.0.1:") && kubeconfig.contains("token: t0ken")
    );
    let ns: Api<Namespace> = Api::all(client_for(&kubeconfig).await);
    let names: Vec<String> = ns
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"default".to_string()) && names.contains(&"kube-system".to_string()));
    let out = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "non-loopback addresses are refused");
}
