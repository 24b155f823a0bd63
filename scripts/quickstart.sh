#!/usr/bin/env bash
# Quickstart: build the provider, install it into a local filesystem mirror,
# and run terraform init, validate and plan on examples/quickstart/main.tf.
# (apply arrives with the resource lifecycle; until then the plan is the end.)
#
# Everything lives under .tools/quickstart/ (git-ignored):
#   mirror/         the provider, laid out as a filesystem mirror
#   terraform.tfrc  a CLI config that installs project-planton/* from that mirror only
#   work/           a copy of the example, where Terraform runs
# To run Terraform there yourself afterwards:
#   export TF_CLI_CONFIG_FILE="$PWD/.tools/quickstart/terraform.tfrc"
#   cd .tools/quickstart/work && ../../bin/terraform plan
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

step() {
    printf '\n==> %s\n' "$*" >&2
    "$@"
}

step scripts/install-tools.sh
terraform="${TERRAFORM:-$root/.tools/bin/terraform}"

step cargo build --locked --bin terraform-provider-planton
pkgid="$(cargo pkgid -p terraform-provider-planton)"
version="${pkgid##*[@#]}"

qs="$root/.tools/quickstart"
platform_dir="$qs/mirror/registry.terraform.io/project-planton/planton/$version/linux_amd64"
rm -rf "$qs"
mkdir -p "$platform_dir" "$qs/work"
cp "${CARGO_TARGET_DIR:-target}/debug/terraform-provider-planton" "$platform_dir/terraform-provider-planton_v$version"
cat >"$qs/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$qs/mirror"
    include = ["registry.terraform.io/project-planton/*"]
  }
}
TFRC
cp examples/quickstart/*.tf "$qs/work/"

export TF_CLI_CONFIG_FILE="$qs/terraform.tfrc"
export CHECKPOINT_DISABLE=1
cd "$qs/work"
step "$terraform" init -input=false
step "$terraform" validate
step "$terraform" plan -input=false
