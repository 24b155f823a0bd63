//! Release artifacts as `scripts/release.sh` makes them, for tests: a
//! throwaway GnuPG keyring per test ([`Keyring`]) and a release of the
//! provider binary cargo built, signed with its key ([`Release`]).
//!
//! The script packages that binary (`RELEASE_BINARY`) rather than building
//! a release one, and writes into a temporary directory (`RELEASE_DIST`), so
//! tests never touch the repository's `dist/`. Every keyring's gpg-agent is
//! stopped when the keyring is dropped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};

use super::terraform::{Output, VERSION, provider_binary, repo_root};

/// The provider's name in every artifact's file name.
pub const NAME: &str = "terraform-provider-planton";

/// `terraform-provider-planton_VERSION_<suffix>`: the release file whose name
/// ends in `suffix` (`SHA256SUMS`, `manifest.json`, `linux_amd64.zip`, ...).
pub fn artifact(suffix: &str) -> String {
    format!("{NAME}_{VERSION}_{suffix}")
}

/// The registry platform (`OS_ARCH`) of this machine, the one a release
/// of the binary cargo built is for.
pub fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        arch => arch,
    };
    format!("{os}_{arch}")
}

/// Runs `cmd` (stdin closed) to the end and returns what it printed.
pub fn run(mut cmd: Command) -> Output {
    let command = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
    Output {
        command,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The lowercase hex SHA-256 of everything `reader` yields.
pub fn sha256_hex(mut reader: impl Read) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    hex(ctx.finish().as_ref())
}

/// The lowercase hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> String {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    sha256_hex(file)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A GnuPG home directory of its own, empty or holding one signing key.
pub struct Keyring {
    home: tempfile::TempDir,
    fingerprint: Option<String>,
}

impl Keyring {
    /// A keyring with no keys.
    pub fn empty(name: &str) -> Keyring {
        // 0700: gpg warns about any other mode. Under cargo's target dir,
        // like the Terraform worlds.
        let home = tempfile::Builder::new()
            .prefix(&format!("gpg-{name}-"))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        Keyring {
            home,
            fingerprint: None,
        }
    }

    /// A keyring holding a fresh RSA signing key (no passphrase, no
    /// subkeys: the primary key signs, so its ID is the one Terraform
    /// reports). RSA because HashiCorp's registries take RSA and DSA keys.
    pub fn with_signing_key(name: &str) -> Keyring {
        let mut keyring = Keyring::empty(name);
        let params = keyring.home().join("key-params");
        std::fs::write(
            &params,
            format!(
                "%no-protection\nKey-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n\
                 Name-Real: Planton release test ({name})\nName-Email: release-test@example.invalid\n\
                 Expire-Date: 0\n%commit\n"
            ),
        )
        .unwrap();
        keyring
            .gpg(&["--quiet", "--gen-key", params.to_str().unwrap()])
            .success();
        let listing = keyring
            .gpg(&["--with-colons", "--list-secret-keys"])
            .success();
        let fingerprints: Vec<&str> = listing
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("fpr:"))
            .filter_map(|l| l.split(':').nth(8))
            .collect();
        assert_eq!(fingerprints.len(), 1, "expected one key:\n{listing}");
        keyring.fingerprint = Some(fingerprints[0].to_string());
        keyring
    }

    /// `GNUPGHOME`.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The signing key's fingerprint (40 hex digits, uppercase).
    pub fn fingerprint(&self) -> &str {
        self.fingerprint.as_deref().expect("a keyring with no key")
    }

    /// The signing key's long key ID: the fingerprint's last 16 digits.
    pub fn key_id(&self) -> &str {
        let fpr = self.fingerprint();
        &fpr[fpr.len() - 16..]
    }

    /// `gpg --batch <args>` with this keyring, whatever its exit code.
    pub fn gpg(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("gpg");
        cmd.arg("--batch").args(args).env("GNUPGHOME", self.home());
        run(cmd)
    }

    /// The signing key's public key, ASCII-armored.
    pub fn public_key(&self) -> String {
        self.gpg(&["--armor", "--export", self.fingerprint()])
            .success()
            .stdout
    }

    /// Imports an ASCII-armored public key.
    pub fn import(&self, armored: &str) {
        let file = self.home().join("import.asc");
        std::fs::write(&file, armored).unwrap();
        self.gpg(&["--import", file.to_str().unwrap()]).success();
    }

    /// A detached binary signature of `file` with the signing key, written
    /// to `signature`.
    pub fn sign(&self, file: &Path, signature: &Path) {
        self.gpg(&[
            "--yes",
            "--local-user",
            self.fingerprint(),
            "--output",
            signature.to_str().unwrap(),
            "--detach-sign",
            file.to_str().unwrap(),
        ])
        .success();
    }
}

impl Drop for Keyring {
    /// Stops the gpg-agent that signing or listing keys started for this
    /// home directory, which would otherwise outlive the test.
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", self.home())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `scripts/release.sh <args>` packaging the binary cargo built into `dist`
/// (`RELEASE_BINARY`, `RELEASE_DIST`), signing with `keyring` (its home is
/// `GNUPGHOME`) and the key `fingerprint` (`GPG_FINGERPRINT` unset when
/// `None`); whatever its exit code.
pub fn release_script(
    args: &[&str],
    keyring: &Keyring,
    fingerprint: Option<&str>,
    dist: &Path,
) -> Output {
    let mut cmd = Command::new(repo_root().join("scripts/release.sh"));
    cmd.args(args)
        .current_dir(repo_root())
        .env("GNUPGHOME", keyring.home())
        .env("RELEASE_BINARY", provider_binary())
        .env("RELEASE_DIST", dist)
        .env_remove("GPG_FINGERPRINT");
    if let Some(fpr) = fingerprint {
        cmd.env("GPG_FINGERPRINT", fpr);
    }
    run(cmd)
}

/// A release of the binary cargo built, at the crate's version, signed with
/// a throwaway key; removed (and its keyring's agent stopped) on drop.
pub struct Release {
    root: tempfile::TempDir,
    /// The keyring holding the signing key.
    pub keyring: Keyring,
    /// What `scripts/release.sh` printed.
    pub output: Output,
}

impl Release {
    /// Runs `scripts/release.sh VERSION`, which must succeed.
    pub fn make(name: &str) -> Release {
        let keyring = Keyring::with_signing_key(name);
        let root = tempfile::Builder::new()
            .prefix(&format!("release-{name}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let output = release_script(
            &[VERSION],
            &keyring,
            Some(keyring.fingerprint()),
            &root.path().join("dist"),
        )
        .success();
        Release {
            root,
            keyring,
            output,
        }
    }

    /// One release for the tests that only read it, made by the first of
    /// them and kept while any of them runs (packaging the debug binary
    /// takes seconds).
    pub fn shared() -> Arc<Release> {
        static SHARED: Mutex<Weak<Release>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(release) = shared.upgrade() {
            return release;
        }
        let release = Arc::new(Release::make("shared"));
        *shared = Arc::downgrade(&release);
        release
    }

    /// The directory the script wrote.
    pub fn dist(&self) -> PathBuf {
        self.root.path().join("dist")
    }

    /// A file of the release, by the end of its name (see [`artifact`]).
    pub fn file(&self, suffix: &str) -> PathBuf {
        self.dist().join(artifact(suffix))
    }

    /// The zip for this machine's platform.
    pub fn host_zip(&self) -> PathBuf {
        self.file(&format!("{}.zip", host_platform()))
    }

    /// `SHA256SUMS` as (file name, hash) pairs, in its order.
    pub fn sums(&self) -> Vec<(String, String)> {
        let path = self.file("SHA256SUMS");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            .lines()
            .map(|line| {
                let (hash, name) = line
                    .split_once("  ")
                    .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
                (name.to_string(), hash.to_string())
            })
            .collect()
    }

    /// A copy of the release in `dir` (hard links where possible) with the
    /// files named in `replace` (full names) holding other bytes: a
    /// release changed after it was signed.
    pub fn altered_copy(&self, dir: &Path, replace: &[(String, Vec<u8>)]) -> PathBuf {
        let dist = dir.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        for entry in std::fs::read_dir(self.dist()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let dest = dist.join(&name);
            if let Some((_, bytes)) = replace.iter().find(|(n, _)| *n == name) {
                std::fs::write(&dest, bytes).unwrap();
            } else if std::fs::hard_link(entry.path(), &dest).is_err() {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
        for (name, _) in replace {
            assert!(dist.join(name).is_file(), "{name} is not in the release");
        }
        dist
    }
}
