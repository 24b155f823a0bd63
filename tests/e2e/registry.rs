//! The release, proven: `scripts/release.sh` makes signed artifacts in the
//! registry's layout, and the real Terraform installs them with `terraform
//! init` from a provider registry (over HTTPS on loopback, no mirror),
//! checking the checksums and the signature as it would from a public one.

use std::path::Path;

use serde_json::json;

use crate::harness::registry::{Registry, SigningKey};
use crate::harness::release::{
    Keyring, NAME, Release, artifact, host_platform, release_script, run, sha256_file, sha256_hex,
};
use crate::harness::{Output, RESOURCE_TYPE, Tf, VERSION, provider_binary, repo_root};

/// The namespace the registry serves the provider under.
const NAMESPACE: &str = "project-planton";

/// The binary's name inside a zip.
fn binary_name() -> String {
    format!("{NAME}_v{VERSION}")
}

/// `dir` listed, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The release script writes exactly the registry's files for the host
/// platform; `SHA256SUMS` lists the zip and the manifest, and their hashes;
/// its signature verifies with the exported public key alone; the zip holds
/// the binary cargo built, executable, under its versioned name, and nothing
/// else.
#[test]
fn release_writes_the_registry_layout_signed() {
    let release = Release::shared();
    let zip = artifact(&format!("{}.zip", host_platform()));
    let mut expected = vec![
        zip.clone(),
        artifact("SHA256SUMS"),
        artifact("SHA256SUMS.sig"),
        artifact("manifest.json"),
    ];
    expected.sort();
    assert_eq!(listing(&release.dist()), expected, "{}", release.output);

    // The manifest is the repository's.
    assert_eq!(
        std::fs::read_to_string(release.file("manifest.json")).unwrap(),
        std::fs::read_to_string(repo_root().join("terraform-registry-manifest.json")).unwrap()
    );

    // SHA256SUMS: the zips and the manifest (HashiCorp's release layout),
    // each with its hash.
    let sums = release.sums();
    let mut names: Vec<&str> = sums.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, [zip.as_str(), &artifact("manifest.json")]);
    for (name, hash) in &sums {
        assert_eq!(
            *hash,
            sha256_file(&release.dist().join(name)),
            "SHA256SUMS is wrong for {name}"
        );
    }

    // The signature verifies in a keyring that holds only the public key.
    let verifier = Keyring::empty("verify");
    verifier.import(&release.keyring.public_key());
    let sums_file = release.file("SHA256SUMS");
    let verified = verifier
        .gpg(&[
            "--status-fd",
            "1",
            "--verify",
            release.file("SHA256SUMS.sig").to_str().unwrap(),
            sums_file.to_str().unwrap(),
        ])
        .success();
    assert!(
        verified.stdout.lines().any(|l| l.starts_with(&format!(
            "[GNUPG:] VALIDSIG {} ",
            release.keyring.fingerprint()
        ))),
        "no valid signature by the release key:\n{verified}"
    );

    // The zip: one entry, the binary, executable.
    let zip_path = release.dist().join(&zip);
    let mut info = std::process::Command::new("zipinfo");
    info.arg(&zip_path);
    let info = run(info).success();
    let entries: Vec<&str> = info
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') || l.starts_with('d') || l.starts_with('l'))
        .collect();
    assert_eq!(entries.len(), 1, "one entry expected:\n{info}");
    let fields: Vec<&str> = entries[0].split_whitespace().collect();
    assert_eq!(
        fields.last().copied(),
        Some(binary_name().as_str()),
        "{info}"
    );
    assert_eq!(
        fields[0], "-rwxr-xr-x",
        "the binary is not executable:\n{info}"
    );
    let mut unzip = std::process::Command::new("unzip")
        .args(["-p", zip_path.to_str().unwrap(), &binary_name()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let packed = sha256_hex(unzip.stdout.take().unwrap());
    assert!(unzip.wait().unwrap().success());
    assert_eq!(
        packed,
        sha256_file(provider_binary()),
        "the zip does not hold the binary cargo built"
    );
}

/// A refusal: non-zero exit, one line on stderr saying why, nothing
/// written.
#[track_caller]
fn assert_refused(out: &Output, dist: &Path, expected: &str) {
    assert_ne!(out.code, 0, "the script did not refuse:\n{out}");
    assert_eq!(out.stderr.trim_end(), expected, "{out}");
    assert!(
        !dist.exists(),
        "the script wrote {}:\n{out}",
        dist.display()
    );
}

/// A VERSION other than Cargo.toml's is refused before anything is built.
#[test]
fn release_refuses_a_version_other_than_the_crates() {
    let keyring = Keyring::with_signing_key("other-version");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dist = dir.path().join("dist");
    let out = release_script(&["9.9.9"], &keyring, Some(keyring.fingerprint()), &dist);
    assert_refused(
        &out,
        &dist,
        &format!("release.sh: VERSION 9.9.9 is not the crate's version {VERSION} (Cargo.toml)"),
    );
}

/// No signing key named, or one the keyring does not hold, is refused
/// before anything is built.
#[test]
fn release_refuses_without_its_signing_key() {
    let keyring = Keyring::empty("no-key");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dist = dir.path().join("dist");
    let out = release_script(&[VERSION], &keyring, None, &dist);
    assert_refused(
        &out,
        &dist,
        "release.sh: GPG_FINGERPRINT names no signing key",
    );

    let missing = "0123456789ABCDEF0123456789ABCDEF01234567";
    let out = release_script(&[VERSION], &keyring, Some(missing), &dist);
    assert_refused(
        &out,
        &dist,
        &format!(
            "release.sh: no secret key {missing} in {}",
            keyring.home().display()
        ),
    );
}

/// A Terraform world installing from `registry` only, with `hcl` after a
/// `required_providers` block for the registry's source address.
fn registry_world(name: &str, registry: &Registry, hcl: &str) -> Tf {
    let tf = Tf::new(name);
    tf.set_cli_config(&registry.cli_config());
    tf.config(&format!(
        "terraform {{\n  required_providers {{\n    planton = {{\n      source  = \"{}\"\n      version = \"{VERSION}\"\n    }}\n  }}\n}}\n\n{hcl}",
        registry.source()
    ));
    tf
}

/// Terraform's error text on one line: its diagnostics wrap long lines.
fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `terraform init` against the registry, whatever its exit code.
fn init(tf: &Tf, registry: &Registry) -> Output {
    tf.run_env(&["init", "-input=false", "-no-color"], &registry.env())
}

fn signing_key(keyring: &Keyring) -> SigningKey {
    SigningKey {
        key_id: keyring.key_id().to_string(),
        ascii_armor: keyring.public_key(),
    }
}

/// A job to plan: planning a new job contacts no cluster, so the provider
/// names one where nothing listens (as `plan.rs` does).
const JOB: &str = r#"provider "planton" {
  host = "https://127.0.0.1:9"
}

resource "planton_kubernetes_job" "released" {
  metadata = { name = "released" }
  spec = {
    namespace = { value = "release-check" }
    image     = { repo = "busybox", tag = "1.36" }
    command   = ["true"]
  }
}
"#;

/// `terraform init` discovers the registry, installs the release's zip
/// (fetching nothing else), says it is signed by the release key, and locks
/// the version with the package's `h1:` hash and a `zh:` hash for each file
/// `SHA256SUMS` lists, the zip's among them; the installed provider then
/// plans a job.
#[test]
fn registry_init_installs_the_signed_release() {
    let release = Release::shared();
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let registry = Registry::start(
        home.path(),
        &release.dist(),
        NAMESPACE,
        signing_key(&release.keyring),
    );
    let tf = registry_world("registry-init", &registry, JOB);
    let out = init(&tf, &registry).success();
    let source = registry.source();
    let installed = format!(
        "- Installed {source} v{VERSION} (self-signed, key ID {})",
        release.keyring.key_id()
    );
    assert!(
        out.stdout.lines().any(|l| l == installed),
        "init did not print {installed:?}:\n{out}"
    );

    // Straight from the registry: discovery, versions, the download answer,
    // the zip, the checksums and their signature, and nothing else.
    let zip = release.host_zip();
    let zip_name = zip.file_name().unwrap().to_str().unwrap();
    let (os, arch) = host_platform()
        .split_once('_')
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .unwrap();
    let mut requests = registry.requests();
    requests.sort();
    let mut expected = vec![
        "GET /.well-known/terraform.json -> 200".to_string(),
        format!("GET /v1/providers/{NAMESPACE}/planton/versions -> 200"),
        format!("GET /v1/providers/{NAMESPACE}/planton/{VERSION}/download/{os}/{arch} -> 200"),
        format!("GET /files/{zip_name} -> 200"),
        format!("GET /files/{} -> 200", artifact("SHA256SUMS")),
        format!("GET /files/{} -> 200", artifact("SHA256SUMS.sig")),
    ];
    expected.sort();
    assert_eq!(requests, expected, "{out}");

    // The lock file: the version, h1: of the unpacked package (one file),
    // and zh: of every file SHA256SUMS lists (Terraform trusts them all once
    // their signature verifies), among them the zip's.
    let lock = tf.read(".terraform.lock.hcl");
    let sums = release.sums();
    assert!(sums.iter().any(|(n, _)| n == zip_name), "{sums:?}");
    let h1 = {
        use base64::Engine;
        let summary = format!("{}  {}\n", sha256_file(provider_binary()), binary_name());
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, summary.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    };
    let mut hashes = vec![format!("h1:{h1}")];
    hashes.extend(sums.iter().map(|(_, hash)| format!("zh:{hash}")));
    hashes.sort();
    let hashes: String = hashes.iter().map(|h| format!("    \"{h}\",\n")).collect();
    let expected_lock = format!(
        "provider \"{source}\" {{\n  version     = \"{VERSION}\"\n  constraints = \"{VERSION}\"\n  hashes = [\n{hashes}  ]\n}}\n"
    );
    assert!(
        lock.ends_with(&format!("\n\n{expected_lock}")),
        "lock file differs from\n{expected_lock}\n--- got ---\n{lock}"
    );

    // The installed provider works: a plan creates the job.
    let plan = tf.plan();
    let changes = plan["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["type"], RESOURCE_TYPE);
    assert_eq!(changes[0]["provider_name"], json!(source));
    assert_eq!(changes[0]["change"]["actions"], json!(["create"]));
}

/// `terraform init` from a registry serving `release` with the files in
/// `replace` (full names) changed after signing, still naming the release
/// key: it must fail with Terraform's `Error while installing SOURCE
/// vVERSION: <reason>` and lock nothing.
#[track_caller]
fn assert_init_refuses(name: &str, release: &Release, replace: &[(String, Vec<u8>)], reason: &str) {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dist = release.altered_copy(home.path(), replace);
    let registry = Registry::start(home.path(), &dist, NAMESPACE, signing_key(&release.keyring));
    let tf = registry_world(name, &registry, JOB);
    let out = init(&tf, &registry);
    assert_ne!(out.code, 0, "init installed the changed release:\n{out}");
    let expected = format!(
        "Error: Failed to install provider Error while installing {} v{VERSION}: {reason}",
        registry.source(),
    );
    assert!(
        unwrapped(&out.stderr).contains(&expected),
        "expected {expected:?}:\n{out}"
    );
    assert!(!tf.work().join(".terraform.lock.hcl").exists(), "{out}");
}

/// A zip changed after the checksums were signed: init fails on the
/// archive's checksum.
#[test]
fn registry_init_refuses_a_zip_changed_after_signing() {
    let release = Release::shared();
    let zip = release.host_zip();
    let mut bytes = std::fs::read(&zip).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let reason = format!(
        "archive has incorrect checksum zh:{} (expected zh:{})",
        sha256_hex(&bytes[..]),
        sha256_file(&zip),
    );
    let zip_name = zip.file_name().unwrap().to_string_lossy().into_owned();
    assert_init_refuses("registry-tampered", &release, &[(zip_name, bytes)], &reason);
}

/// Checksums signed by a key other than the one the registry names: init
/// fails on the signature.
#[test]
fn registry_init_refuses_checksums_signed_by_another_key() {
    let release = Release::shared();
    let other = Keyring::with_signing_key("other-signer");
    let forged = other.home().join("forged.sig");
    other.sign(&release.file("SHA256SUMS"), &forged);
    assert_init_refuses(
        "registry-forged",
        &release,
        &[(artifact("SHA256SUMS.sig"), std::fs::read(&forged).unwrap())],
        "authentication signature from unknown issuer",
    );
}

/// A signature changed after signing (a byte of the RSA value flipped):
/// init fails on the signature check.
#[test]
fn registry_init_refuses_a_corrupted_signature() {
    let release = Release::shared();
    let mut sig = std::fs::read(release.file("SHA256SUMS.sig")).unwrap();
    // The signature packet ends with the RSA value (256 bytes for a
    // 2048-bit key).
    let in_value = sig.len() - 10;
    sig[in_value] ^= 0xff;
    assert_init_refuses(
        "registry-corrupted",
        &release,
        &[(artifact("SHA256SUMS.sig"), sig)],
        "error checking signature: openpgp: invalid signature: RSA verification failure",
    );
}
