//! The steps e2e tests are made of: Terraform commands as the tests run
//! them, a world whose provider points at an emulator, and the provider
//! processes a running Terraform started.

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
