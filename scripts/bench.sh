#!/usr/bin/env bash
# The performance benchmark: Terraform with the provider against
# the project's API-server emulator, next to kubectl doing the same work and
# Terraform doing none, for N jobs each, with the CPU time of each Terraform
# command split between Terraform and the provider; then a fleet of 10
# emulators with 10 jobs each against 100 jobs on one. Writes
# docs/benchmarks.md and docs/benchmarks.svg (commit both) and prints the
# tables.
#
#   scripts/bench.sh                 N = 10, 100 and 1000 (release build)
#   scripts/bench.sh 10 100          other N
#   BENCH_PROFILE=debug scripts/bench.sh 10   the debug build, to try the
#                                    script (writes target/debug/benchmarks.md)
#   BENCH_SKIP_BUILD=1 ...           use the binaries already in target/
#   BENCH_KEEP=1 ...                 keep the scratch directory (logs, configs)
#   BENCH_SKIP_FLEET=1 ...           leave out the fleet (many clusters)
#
# What is measured and how: scripts/bench.py (its doc string) and the end of
# docs/benchmarks.md. Nothing here is a test: the suite does not time anything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    echo "usage: $0 [N ...]   (default: 10 100 1000; BENCH_PROFILE=release|debug)" >&2
    exit 2
}
ns=("$@")
[[ ${#ns[@]} -gt 0 ]] || ns=(10 100 1000)
for n in "${ns[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || usage
done

# Only release figures belong in docs/; a debug run writes next to its binaries.
profile="${BENCH_PROFILE:-release}"
case "$profile" in
    release) build_flags=(--release); dir=target/release; doc=docs/benchmarks.md ;;
    debug) build_flags=(); dir=target/debug; doc=target/debug/benchmarks.md ;;
    *) echo "bench.sh: BENCH_PROFILE must be release or debug, not '$profile'" >&2; exit 2 ;;
esac

for tool in python3 openssl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is needed and not found" >&2; exit 1; }
done

scripts/install-tools.sh
terraform="${TERRAFORM:-$PWD/.tools/bin/terraform}"
kubectl="$PWD/.tools/bin/kubectl"

if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
    printf '\n==> cargo build %s (provider and emulator)\n' "$profile" >&2
    cargo build --locked --workspace --bins "${build_flags[@]}"
fi
for bin in terraform-provider-planton kube-emulator; do
    [[ -x $dir/$bin ]] || { echo "bench.sh: $dir/$bin is missing; build it or unset BENCH_SKIP_BUILD" >&2; exit 1; }
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || { echo "bench.sh: no version in Cargo.toml" >&2; exit 1; }
commit=$(git rev-parse --short HEAD)
if git status --porcelain --untracked-files=no | grep -q .; then
    commit="$commit (with uncommitted changes)"
fi

# Scratch space under target/: the same filesystem as the binaries, so the
# mirrors hard-link them instead of copying.
tmp=$(mktemp -d "$PWD/target/bench.XXXXXX")
if [[ -n "${BENCH_KEEP:-}" ]]; then
    trap 'echo "bench.sh: kept $tmp" >&2' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi

extra=()
[[ -z "${BENCH_SKIP_FLEET:-}" ]] || extra+=(--no-fleet)

printf '\n==> benchmark, N = %s\n' "${ns[*]}" >&2
# In the background so that an interrupt reaches it as SIGTERM (a background
# child ignores SIGINT), on which it stops its emulators before exiting.
python3 scripts/bench.py \
    --provider "$dir/terraform-provider-planton" \
    --emulator "$dir/kube-emulator" \
    --terraform "$terraform" \
    --kubectl "$kubectl" \
    --version "$version" \
    --profile "$profile" \
    --commit "$commit" \
    --doc "$doc" \
    --tmp "$tmp" \
    "${extra[@]}" \
    "${ns[@]}" &
bench=$!
trap 'kill -TERM "$bench" 2>/dev/null || true' INT TERM
status=0
wait "$bench" || status=$?
# A trapped signal ends `wait` early: wait for the benchmark to clean up.
while kill -0 "$bench" 2>/dev/null; do
    wait "$bench" || status=$?
done
exit "$status"
