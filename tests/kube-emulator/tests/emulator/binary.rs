//! The `kube-emulator` binary: `--listen 127.0.0.1:0 --kubeconfig-out FILE`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::Api;

use crate::util::client_for;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the binary on a free loopback port with `flags`, writing its kubeconfig
/// to `kc_path`; returns once the kubeconfig is written (at most 20 s).
async fn serve(kc_path: &Path, flags: &[&str]) -> (Child, String) {
    let child = Child(
        Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(kc_path)
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let kubeconfig = loop {
        if let Ok(text) = std::fs::read_to_string(kc_path)
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
    (child, kubeconfig)
}

/// The binary picks a free port, writes a kubeconfig naming it (with TLS and a token), and serves.
#[tokio::test]
async fn binary_serves_and_writes_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("kubeconfig");
    let (_child, kubeconfig) = serve(&kc_path, &["--tls", "--token", "t0ken", "--fast"]).await;
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

/// `--user`, `--deny` and `--allow-namespaces` configure users and what they
/// may not do; bad forms are refused with the usage.
#[tokio::test]
async fn binary_flags_refuse_users_requests() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("kubeconfig");
    let (_child, kubeconfig) = serve(
        &kc_path,
        &[
            "--token",
            "admin-token",
            "--fast",
            "--user",
            "alice=alice-token",
            "--user",
            "bob=bob-token",
            "--deny",
            "alice:get,list:configmaps:default",
            "--allow-namespaces",
            "bob:kube-system",
        ],
    )
    .await;
    let as_user =
        |token: &str| kubeconfig.replace("token: admin-token", &format!("token: {token}"));
    let alice: Api<ConfigMap> =
        Api::namespaced(client_for(&as_user("alice-token")).await, "default");
    let s = crate::util::status_of(alice.get("kube-root-ca.crt").await.unwrap_err());
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            403,
            "configmaps \"kube-root-ca.crt\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\""
        )
    );
    let bob = client_for(&as_user("bob-token")).await;
    let ns: Api<Namespace> = Api::all(bob.clone());
    assert_eq!(
        crate::util::status_of(ns.list(&Default::default()).await.unwrap_err()).code,
        403
    );
    let system: Api<ConfigMap> = Api::namespaced(bob, "kube-system");
    assert!(system.get("kube-root-ca.crt").await.is_ok());
    let admin: Api<ConfigMap> = Api::namespaced(client_for(&kubeconfig).await, "default");
    assert!(admin.get("kube-root-ca.crt").await.is_ok());

    for bad in [
        ["--deny", "alice:get:configmaps"],
        ["--user", "alice"],
        ["--allow-namespaces", "bob"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
