//! Load 1,000 Jobs (each with a running pod) into an in-process emulator with all
//! controllers on, then measure sequential requests per second through kube-rs:
//! creates, gets, label-selected lists, merge patches and status reads.
//! Prints the figures and their ratio to the 200 req/s target. Not a timed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_emulator::EmulatorConfig;
use serde_json::json;

const JOBS: usize = 1000;
const TARGET: f64 = 200.0;

fn job(i: usize) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": format!("bench-{i}"), "labels": {"bench": format!("b{i}")}},
        "spec": {"template": {"metadata": {"labels": {"bench": format!("b{i}")}}, "spec": {"restartPolicy": "Never", "containers": [{
            "name": "main", "image": "busybox:1.36",
            "env": [{"name": "EMULATOR_NEVER_EXIT", "value": "1"}],
            "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "100Mi"}}
        }]}}}
    }))
    .unwrap()
}

fn report(what: &str, n: usize, started: Instant) -> f64 {
    let secs = started.elapsed().as_secs_f64();
    let rate = n as f64 / secs;
    println!(
        "{what:<32} {n:>6} requests in {secs:>7.3} s = {rate:>8.1} req/s ({:.1}x the {TARGET} req/s target)",
        rate / TARGET
    );
    rate
}

#[tokio::main]
async fn main() {
    let emu = kube_emulator::start(EmulatorConfig::default())
        .await
        .unwrap();
    let kc = Kubeconfig::from_yaml(&emu.kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let jobs: Api<Job> = Api::namespaced(client, "default");

    let started = Instant::now();
    for i in 0..JOBS {
        jobs.create(&PostParams::default(), &job(i)).await.unwrap();
    }
    let mut rates = vec![report("create Job", JOBS, started)];

    let started = Instant::now();
    for i in 0..JOBS {
        jobs.get(&format!("bench-{}", (i * 7919) % JOBS))
            .await
            .unwrap();
    }
    rates.push(report("get Job", JOBS, started));

    let started = Instant::now();
    for i in 0..200 {
        let l = jobs
            .list(&ListParams::default().labels(&format!("bench=b{}", (i * 31) % JOBS)))
            .await
            .unwrap();
        assert_eq!(l.items.len(), 1);
    }
    rates.push(report("list Jobs by label (of 1,000)", 200, started));

    let started = Instant::now();
    for i in 0..500 {
        let patch = json!({"metadata": {"annotations": {"bench/round": i.to_string()}}});
        jobs.patch(
            &format!("bench-{}", (i * 13) % JOBS),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .unwrap();
    }
    rates.push(report("merge patch Job", 500, started));

    let started = Instant::now();
    for i in 0..500 {
        jobs.get_status(&format!("bench-{}", (i * 17) % JOBS))
            .await
            .unwrap();
    }
    rates.push(report("get Job status", 500, started));

    let pods: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(jobs.clone().into_client(), "default");
    let running = pods
        .list(&ListParams::default().labels("bench"))
        .await
        .unwrap()
        .items
        .len();
    let slowest = rates.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "store: {JOBS} Jobs, {running} pods; slowest sequential rate {slowest:.1} req/s = {:.1}x target",
        slowest / TARGET
    );
}
