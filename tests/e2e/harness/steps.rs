//! The steps e2e tests are made of: Terraform commands as the tests run
//! them, a world whose provider points at an emulator, and the provider
//! processes a running Terraform started.

use std::io::BufRead as _;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::terraform::{Output, Tf};

/// `terraform apply -auto-approve`, whatever its exit code.
pub fn apply(tf: &Tf) -> Output {
    tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
}

/// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
pub fn plan_exit(tf: &Tf) -> Output {
    tf.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
}

/// `terraform destroy -auto-approve`, which must succeed.
pub fn destroy(tf: &Tf) -> Output {
    tf.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .success()
}

/// Starts `terraform <args>`, waits until `ready` says the moment has
/// come (it gets Terraform's stdout lines as they are printed), sends
/// SIGINT (Ctrl-C) and returns Terraform's output and how long it took to
/// exit after the signal.
pub fn interrupted(
    tf: &Tf,
    args: &[&str],
    ready: impl FnOnce(&mpsc::Receiver<String>),
) -> (Output, Duration) {
    let mut child = tf
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, printed) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    ready(&printed);
    let interrupted = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let took = interrupted.elapsed();
    let out = Output {
        command: format!("terraform {} (interrupted)", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: reader.join().unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (out, took)
}

/// A Terraform world whose provider block points at `cluster`, with `hcl`
/// as the rest of the configuration; initialised.
pub fn world(name: &str, hcl: &str) -> (Tf, Cluster) {
    let tf = Tf::new(name);
    let cluster = Cluster::start(&tf.home());
    cluster.configure(&tf, hcl);
    tf.init();
    (tf, cluster)
}

/// The provider processes Terraform started (children of `terraform_pid`,
/// found in /proc).
pub fn provider_pids(terraform_pid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == Some(terraform_pid) && cmdline.contains("terraform-provider-planton") {
            pids.push(pid);
        }
    }
    pids
}
