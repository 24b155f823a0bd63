//! `terraform validate` on the configurations under `tests/fixtures/validate/`.
//!
//! `invalid/*.tf` open with header comments naming the one error expected:
//!
//! ```text
//! # expect-summary: Invalid Job Name
//! # expect-path: spec.volume_mounts[0].mount_path
//! ```
//!
//! How the attribute path is read back: Terraform's `validate -json` output
//! carries no attribute path. A diagnostic has `summary`, `detail`,
//! `address` (the resource, `planton_kubernetes_job.NAME`), and a `range`
//! computed from the provider's path by Terraform's
//! `ElaborateFromConfigBody`, which can only follow nested *blocks*: for a
//! path inside the nested attributes `metadata` / `spec` it finds no block
//! and falls back to the start of the resource block's body, so the range
//! says nothing about the path beyond "this resource". (A path that is a
//! single top-level attribute, `spec`, does get that attribute's expression
//! as its range.) The human-readable output is built from the same data. So
//! the path a user can see is the one the provider writes into the detail,
//! and that is what these tests read: the first attribute path in the
//! detail, rendered as `tf::AttributePath` displays it
//! (`spec.env.variables["A"].value_from`). See [`path_in_detail`].

use std::fs;
use std::path::{Path, PathBuf};

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

/// The first attribute path in `detail`: a top-level attribute of the
/// resource (`metadata`, `spec`, `id`) at a word boundary, followed by any
/// number of `.name`, `[index]` and `["key"]` steps.
pub fn path_in_detail(detail: &str) -> Option<String> {
    const ROOTS: &[&str] = &["metadata", "spec", "id"];
    let bytes = detail.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for start in 0..bytes.len() {
        if start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b'.') {
            continue;
        }
        let Some(root) = ROOTS.iter().find(|r| detail[start..].starts_with(**r)) else {
            continue;
        };
        let mut end = start + root.len();
        if end < bytes.len() && is_ident(bytes[end]) {
            continue;
        }
        loop {
            let rest = &detail[end..];
            if let Some(after) = rest.strip_prefix('.') {
                let len = after.bytes().take_while(|b| is_ident(*b)).count();
                if len == 0 {
                    break;
                }
                end += 1 + len;
            } else if let Some(after) = rest.strip_prefix("[\"") {
                // A Rust-debug-quoted key: scan to the closing quote,
                // skipping escaped characters.
                let mut chars = after.char_indices();
                let mut close = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            close = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                match close {
                    Some(i) if after[i + 1..].starts_with(']') => end += 2 + i + 2,
                    _ => break,
                }
            } else if let Some(after) = rest.strip_prefix('[') {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                if len == 0 || !after[len..].starts_with(']') {
                    break;
                }
                end += 1 + len + 1;
            } else {
                break;
            }
        }
        return Some(detail[start..end].to_string());
    }
    None
}

fn describe(diags: &[&Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "  [{}] {:?} at {} (path in detail: {:?})\n      detail: {:?}\n      snippet: {:?}",
                d.severity,
                d.summary,
                d.range.as_deref().unwrap_or("-"),
                path_in_detail(&d.detail),
                d.detail,
                d.snippet.as_deref().unwrap_or("-"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is wrong with one invalid fixture's result, if anything.
fn check_invalid(source: &str, validation: &Validation) -> Result<(), String> {
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
    let got_path = path_in_detail(&error.detail);
    if got_path.as_deref() != Some(path.as_str()) {
        problems.push(format!(
            "path: expected {path}, got {} (first attribute path in the detail)",
            got_path.as_deref().unwrap_or("none")
        ));
    }
    if !error
        .address
        .as_deref()
        .is_some_and(|a| a.starts_with(&format!("{RESOURCE_TYPE}.")))
    {
        problems.push(format!(
            "address: expected {RESOURCE_TYPE}.<name>, got {:?}",
            error.address
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{}", problems.join("\n"), describe(&errors)))
    }
}

/// Runs `terraform validate` on each fixture in one initialised directory
/// (swapping `main.tf`), and returns each fixture's source and result.
fn validate_each(kind: &str, files: &[PathBuf]) -> Vec<(PathBuf, String, Validation)> {
    let tf = Tf::new(&format!("validate-{kind}"));
    tf.config("");
    tf.init();
    files
        .iter()
        .map(|file| {
            let source = fs::read_to_string(file).unwrap();
            tf.config(&source);
            let validation = tf.validate_json();
            (file.clone(), source, validation)
        })
        .collect()
}

/// Each invalid configuration fails validation with exactly the error its
/// header names: the summary, and the attribute path in the detail.
#[test]
fn validate_invalid_fixtures_report_expected_error() {
    let files = fixtures("invalid");
    assert!(
        files.len() >= MIN_INVALID_FIXTURES,
        "expected at least {MIN_INVALID_FIXTURES} invalid fixtures, found {}",
        files.len()
    );
    let failures: Vec<String> = validate_each("invalid", &files)
        .into_iter()
        .filter_map(|(file, source, validation)| {
            check_invalid(&source, &validation)
                .err()
                .map(|why| format!("{}:\n{why}", name(&file)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} invalid fixtures did not fail as expected:\n\n{}",
        failures.len(),
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
        .into_iter()
        .filter(|(_, _, v)| !v.valid || !v.errors().is_empty())
        .map(|(file, _, v)| format!("{}:\n{}", name(&file), describe(&v.errors())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} valid fixtures did not validate:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// The path scanner reads the forms `tf::AttributePath` displays.
#[test]
fn path_in_detail_reads_rendered_paths() {
    let cases = [
        (
            "Attribute spec.image.repo must be set.",
            Some("spec.image.repo"),
        ),
        (
            "spec.volume_mounts[0].mount_path must be absolute",
            Some("spec.volume_mounts[0].mount_path"),
        ),
        (
            r#"At spec.env.variables["A"].value_from: set either value or value_from."#,
            Some(r#"spec.env.variables["A"].value_from"#),
        ),
        (
            r#"`spec.env.secrets["a\"b"].value`"#,
            Some(r#"spec.env.secrets["a\"b"].value"#),
        ),
        (
            "The metadata.name \"x\" is too long.",
            Some("metadata.name"),
        ),
        ("Set spec.", Some("spec")),
        ("nothing here, not even inspect.it or spectrum", None),
    ];
    for (detail, want) in cases {
        assert_eq!(
            path_in_detail(detail).as_deref(),
            want,
            "detail: {detail:?}"
        );
    }
}
