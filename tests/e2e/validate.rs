//! `terraform validate` on the configurations under `tests/fixtures/validate/`.
//!
//! `invalid/*.tf` open with header comments naming the one error expected:
//!
//! ```text
//! # expect-summary: Invalid Mount Path
//! # expect-path: spec.volume_mounts[0].mount_path
//! # expect-detail: (optional) a phrase the error's detail must contain
//! ```
//!
//! How the attribute path is read back: Terraform's `validate -json` output
//! has no attribute path field. A diagnostic has `summary`, `detail`,
//! `address` (`planton_kubernetes_job.NAME`), and a `range` that Terraform
//! computes from the path the provider attached: the exact source of the
//! value at that path, nested attributes, list elements and map elements
//! included (for a map element, its value). The test parses the fixture
//! (`config_paths.rs`) and takes the path of the value whose source is that
//! range, rendered as `tf::AttributePath` displays it
//! (`spec.env.variables["A"].value_from`). When the expected path is not set
//! in the configuration (a missing attribute), Terraform points at the value
//! of the deepest part of the path that is set (`spec` for an unset
//! `spec.completions`), and that is what the test then expects.

use std::fs;
use std::path::{Path, PathBuf};

use std::collections::BTreeSet;

use crate::config_paths::ConfigPaths;
use crate::harness::{Diagnostic, RESOURCE_TYPE, Tf, Validation, repo_root};

/// The acceptance bar: at least this many invalid configurations.
const MIN_INVALID_FIXTURES: usize = 30;

/// The `.tf` files directly in `tests/fixtures/validate/<kind>/`, sorted.
fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = repo_root().join("tests/fixtures/validate").join(kind);
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    files
}

/// The value of the `# <key>: value` header line, if present.
fn header(source: &str, key: &str) -> Option<String> {
    source.lines().find_map(|line| {
        let rest = line.trim().strip_prefix('#')?.trim_start();
        let value = rest.strip_prefix(key)?.strip_prefix(':')?;
        Some(value.trim().to_string())
    })
}

fn name(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn describe(diags: &[&Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "  [{}] {:?} at {}\n      detail: {:?}\n      snippet: {:?}",
                d.severity,
                d.summary,
                d.range.as_deref().unwrap_or("-"),
                d.detail,
                d.snippet.as_deref().unwrap_or("-"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The attribute path a diagnostic points at, from its source range, and
/// the path Terraform would point at for `expected` in this configuration.
fn diagnostic_path(
    source: &str,
    error: &Diagnostic,
    expected: &str,
    map_paths: &BTreeSet<String>,
) -> Result<(String, String), String> {
    let address = error.address.as_deref().unwrap_or_default();
    let name = address
        .strip_prefix(&format!("{RESOURCE_TYPE}."))
        .ok_or_else(|| format!("address: expected {RESOURCE_TYPE}.<name>, got {address:?}"))?;
    // `x[0]` or `x["k"]` for count / for_each instances.
    let name = name.split('[').next().unwrap_or(name);
    let config = ConfigPaths::of_resource(source, RESOURCE_TYPE, name, map_paths)?;
    let (file, span) = error.span.clone().ok_or("the error has no source range")?;
    if file != "main.tf" {
        return Err(format!("range is in {file:?}, not the fixture"));
    }
    let got = config
        .at(span.clone())
        .map(ToString::to_string)
        .ok_or_else(|| {
            format!(
                "range {span:?} ({}) is not the source of any attribute value of {address}",
                error.range.as_deref().unwrap_or("-")
            )
        })?;
    let want = config
        .deepest_set_prefix(expected)
        .map(ToString::to_string)
        .unwrap_or_else(|| expected.to_string());
    Ok((got, want))
}

/// What is wrong with one invalid fixture's result, if anything.
fn check_invalid(
    source: &str,
    validation: &Validation,
    map_paths: &BTreeSet<String>,
) -> Result<(), String> {
    let summary = header(source, "expect-summary").ok_or("no `# expect-summary:` header")?;
    let path = header(source, "expect-path").ok_or("no `# expect-path:` header")?;
    let errors = validation.errors();
    let [error] = errors.as_slice() else {
        return Err(format!(
            "expected exactly one error ({summary:?} at {path}), got {}:\n{}",
            errors.len(),
            describe(&errors)
        ));
    };
    let mut problems = Vec::new();
    if validation.valid {
        problems.push("`valid` is true although there is an error".to_string());
    }
    if error.summary != summary {
        problems.push(format!(
            "summary: expected {summary:?}, got {:?}",
            error.summary
        ));
    }
    // Optional: a phrase the detail must contain (a suggestion, a limit).
    if let Some(phrase) = header(source, "expect-detail")
        && !error.detail.contains(phrase.as_str())
    {
        problems.push(format!("detail: {phrase:?} missing"));
    }
    match diagnostic_path(source, error, &path, map_paths) {
        Ok((got, want)) if got == want => {}
        Ok((got, want)) if want == path => {
            problems.push(format!("path: expected {path}, got {got}"));
        }
        Ok((got, want)) => problems.push(format!(
            "path: expected {path}, which is not set, so Terraform should point at {want}; \
             got {got}"
        )),
        Err(why) => problems.push(format!("path: expected {path}; {why}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{}", problems.join("\n"), describe(&errors)))
    }
}

/// Each fixture's source and `terraform validate` result, and the
/// schema paths of map attributes: one initialised directory for all
/// fixtures, swapping `main.tf`.
struct Results {
    runs: Vec<(PathBuf, String, Validation)>,
    map_paths: BTreeSet<String>,
}

fn validate_each(kind: &str, files: &[PathBuf]) -> Results {
    let tf = Tf::new(&format!("validate-{kind}"));
    tf.config("");
    tf.init();
    let map_paths = crate::schema::resource_attributes(&tf.providers_schema_json())
        .into_iter()
        .filter(|a| a.kind.starts_with("map(") || a.kind == "nested(map)")
        .map(|a| a.path)
        .collect();
    let runs = files
        .iter()
        .map(|file| {
            let source = fs::read_to_string(file).unwrap();
            tf.config(&source);
            let validation = tf.validate_json();
            (file.clone(), source, validation)
        })
        .collect();
    Results { runs, map_paths }
}

/// Each invalid configuration fails validation with exactly the error its
/// header names: the summary, and the attribute path in the detail.
#[test]
fn validate_invalid_fixtures_report_expected_error() {
    let files = fixtures("invalid");
    let results = validate_each("invalid", &files);
    let mut failures: Vec<String> = results
        .runs
        .iter()
        .filter_map(|(file, source, validation)| {
            check_invalid(source, validation, &results.map_paths)
                .err()
                .map(|why| format!("{}:\n{why}", name(file)))
        })
        .collect();
    if files.len() < MIN_INVALID_FIXTURES {
        failures.push(format!(
            "expected at least {MIN_INVALID_FIXTURES} invalid fixtures, found {}",
            files.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "invalid fixtures ({} checked):\n\n{}",
        files.len(),
        failures.join("\n\n")
    );
}

/// Each valid configuration (the Planton examples among them) validates
/// with no errors.
#[test]
fn validate_valid_fixtures_have_no_errors() {
    let files = fixtures("valid");
    assert!(!files.is_empty(), "no valid fixtures found");
    let failures: Vec<String> = validate_each("valid", &files)
        .runs
        .iter()
        .filter(|(_, _, v)| !v.valid || !v.errors().is_empty())
        .map(|(file, _, v)| format!("{}:\n{}", name(file), describe(&v.errors())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} valid fixtures did not validate:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
