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
# Library, binary and integration tests of every crate; there are no doc
# tests, and the emulator's benchmark runs with `cargo bench`, not here.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
step cargo test --workspace --locked --lib --bins --tests 2>&1 | tee "$log"
# The CLI config of whoever runs this is irrelevant to formatting.
step env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 \
    "${TERRAFORM:-.tools/bin/terraform}" fmt -check -recursive -diff examples/

# One closing line over every test binary, so the totals are read in one place.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, g; exit (f > 0 || p == 0) }' "$log"
