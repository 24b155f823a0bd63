//! Every configuration under `examples/` is valid and formatted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{Tf, repo_root};

/// Each directory under `examples/` that holds `.tf` files, sorted.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut has_tf = false;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
    }
    let mut dirs = Vec::new();
    walk(&repo_root().join("examples"), &mut dirs);
    dirs.sort();
    dirs
}

/// Copies every file below the subdirectories of `dir` into the working
/// directory of `tf`, keeping paths relative to `root`.
pub fn copy_subdirectories(root: &Path, dir: &Path, tf: &Tf) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for file in fs::read_dir(&path).unwrap() {
                let file = file.unwrap().path();
                if file.is_file() {
                    tf.write(file.strip_prefix(root).unwrap(), fs::read(&file).unwrap());
                }
            }
            copy_subdirectories(root, &path, tf);
        }
    }
}

/// Each example directory, as its own root module, passes
/// `terraform validate` with no errors and no warnings.
#[test]
fn examples_validate() {
    let mut failures = Vec::new();
    for dir in example_dirs() {
        let rel = dir.strip_prefix(repo_root()).unwrap().display().to_string();
        let tf = Tf::new(&format!("example-{}", rel.replace('/', "-")));
        let mut hcl = String::new();
        // Every file: configurations read files next to them (a manifest
        // with `file("${path.module}/job.yaml")`).
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let bytes = fs::read(&path).unwrap();
            if path.extension().is_some_and(|x| x == "tf") {
                hcl.push_str(&String::from_utf8_lossy(&bytes));
            }
            tf.write(path.file_name().unwrap(), bytes);
        }
        // Local modules (`source = "./modules/..."`) come along.
        copy_subdirectories(&dir, &dir, &tf);
        // Snippets meant for docs may leave out required_providers.
        if !hcl.contains("required_providers") {
            tf.write("providers.tf", crate::harness::REQUIRED_PROVIDERS);
        }
        tf.init();
        let v = tf.validate_json();
        if !v.valid || !v.diagnostics.is_empty() {
            failures.push(format!("{rel}:\n{}", v.raw));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not validate cleanly:\n\n{}",
        failures.join("\n\n")
    );
}

/// `terraform fmt -check -recursive examples/` finds nothing to change.
#[test]
fn examples_are_formatted() {
    let tf = Tf::new("examples-fmt");
    let examples = repo_root().join("examples");
    let examples = examples.to_str().unwrap();
    tf.run(&[
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        "-no-color",
        examples,
    ])
    .success();
}
