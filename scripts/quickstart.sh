#!/usr/bin/env bash
# Quickstart: build the provider and the API-server emulator, start the
# emulator, then run terraform init, apply (which waits for the Job to
# finish), print the outputs and the Job's status, and destroy, on
# examples/quickstart/main.tf. The emulator is stopped at the end, whatever
# happens.
#
# Everything lives under .tools/quickstart/ (git-ignored):
#   mirror/         the provider, laid out as a filesystem mirror
#   terraform.tfrc  a CLI config that installs project-planton/* from that mirror only
#   kubeconfig      the emulator's kubeconfig (the provider finds it through KUBECONFIG)
#   emulator.log    what the emulator printed
#   work/           a copy of the example, where Terraform runs
# To keep the emulator running and use Terraform yourself, run
#   .tools/quickstart/kube-emulator --kubeconfig-out /tmp/kubeconfig &
#   export KUBECONFIG=/tmp/kubeconfig TF_CLI_CONFIG_FILE="$PWD/.tools/quickstart/terraform.tfrc"
#   cd .tools/quickstart/work && ../../bin/terraform apply
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

step() {
    printf '\n==> %s\n' "$*" >&2
    "$@"
}

step scripts/install-tools.sh
terraform="${TERRAFORM:-$root/.tools/bin/terraform}"

step cargo build --locked -p terraform-provider-planton --bin terraform-provider-planton
step cargo build --locked -p kube-emulator --bin kube-emulator
pkgid="$(cargo pkgid -p terraform-provider-planton)"
version="${pkgid##*[@#]}"
target="${CARGO_TARGET_DIR:-target}/debug"

qs="$root/.tools/quickstart"
platform_dir="$qs/mirror/registry.terraform.io/project-planton/planton/$version/linux_amd64"
rm -rf "$qs"
mkdir -p "$platform_dir" "$qs/work"
cp "$target/terraform-provider-planton" "$platform_dir/terraform-provider-planton_v$version"
cp "$target/kube-emulator" "$qs/kube-emulator"
cat >"$qs/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$qs/mirror"
    include = ["registry.terraform.io/project-planton/*"]
  }
}
TFRC
cp examples/quickstart/*.tf "$qs/work/"

# The emulator stands in for a cluster: it listens on a free local port and
# writes a kubeconfig for it.
kubeconfig="$qs/kubeconfig"
printf '\n==> starting the Kubernetes API-server emulator\n' >&2
"$qs/kube-emulator" --listen 127.0.0.1:0 --kubeconfig-out "$kubeconfig" >"$qs/emulator.log" 2>&1 &
emulator_pid=$!
stop_emulator() {
    if kill -0 "$emulator_pid" 2>/dev/null; then
        kill -INT "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
}
trap stop_emulator EXIT
for _ in $(seq 1 100); do
    [[ -s "$kubeconfig" ]] && break
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
        cat "$qs/emulator.log" >&2
        echo "quickstart: the emulator exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -s "$kubeconfig" ]] || { echo "quickstart: the emulator wrote no kubeconfig" >&2; exit 1; }
sed -n 's/^kube-emulator: //p' "$qs/emulator.log" >&2

export KUBECONFIG="$kubeconfig"
export TF_CLI_CONFIG_FILE="$qs/terraform.tfrc"
export CHECKPOINT_DISABLE=1
cd "$qs/work"
step "$terraform" init -input=false
step "$terraform" apply -input=false -auto-approve
step "$terraform" output outputs
step "$terraform" output status
step "$terraform" destroy -input=false -auto-approve
printf '\nquickstart: done; the emulator stops now\n' >&2
