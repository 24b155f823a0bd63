#!/usr/bin/env bash
# The test command (README): every check CI runs, failing fast.
# Installs Terraform and kubectl into .tools/ first; nothing is skipped for
# want of a tool: if one cannot be installed, this fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {
    printf '\n==> %s\n' "$*" >&2
    "$@"
}

step scripts/install-tools.sh
step cargo fmt --all --check
step cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" step cargo doc --no-deps --document-private-items --workspace --locked
step cargo test --workspace --locked
# The CLI config of whoever runs this is irrelevant to formatting.
step env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 \
    "${TERRAFORM:-.tools/bin/terraform}" fmt -check -recursive -diff examples/
