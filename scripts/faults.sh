#!/usr/bin/env bash
# The long fuzz run and the full fault matrix, with their figures written
# into docs/reliability.md (between its generated markers; the prose around
# them is written by hand).
#
#   scripts/faults.sh                  both (fuzzing: 20000 cases a target)
#   PLANTON_FUZZ_CASES=100000 scripts/faults.sh
#   scripts/faults.sh --fuzz-only      only the fuzz targets
#   scripts/faults.sh --faults-only    only the fault matrix
#
# The short runs of both are ordinary tests that scripts/test.sh runs. This
# exits non-zero if a fuzz target failed or a fault case did not do what it
# is known to do, after writing the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzz=1
faults=1
case "${1:-}" in
    --fuzz-only) faults=0 ;;
    --faults-only) fuzz=0 ;;
    "") ;;
    *) echo "usage: $0 [--fuzz-only | --faults-only]" >&2; exit 2 ;;
esac

scripts/install-tools.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
export PLANTON_FUZZ_CASES="${PLANTON_FUZZ_CASES:-20000}"

if [[ $fuzz == 1 ]]; then
    printf '\n==> fuzz targets, %s cases each\n' "$PLANTON_FUZZ_CASES" >&2
    PLANTON_FUZZ_REPORT="$out/fuzz.jsonl" cargo test --locked --test fuzz || status=1
fi
if [[ $faults == 1 ]]; then
    printf '\n==> the full fault matrix\n' >&2
    PLANTON_FAULTS_REPORT="$out/faults.jsonl" cargo test --locked --test e2e \
        faults::full_fault_matrix_writes_its_figures -- --ignored --exact --nocapture || status=1
fi

commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no | grep -q . && echo " (with uncommitted changes)" || true)
terraform_version=$(env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 "${TERRAFORM:-.tools/bin/terraform}" version 2>/dev/null | head -n 1)

python3 - "$out" "$commit$dirty" "$terraform_version" "$PLANTON_FUZZ_CASES" <<'EOF'
import datetime
import json
import pathlib
import sys

out, commit, terraform, cases = sys.argv[1:5]
doc_path = pathlib.Path("docs/reliability.md")
doc = doc_path.read_text()
today = datetime.date.today().isoformat()


def lines(name):
    p = pathlib.Path(out) / name
    if not p.exists():
        return None
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def replace(doc, marker, body):
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


fuzz = lines("fuzz.jsonl")
if fuzz is not None:
    rows = [
        f"Last run: {today}, commit {commit}, `PLANTON_FUZZ_CASES={cases}` "
        "(a tenth of that for the gRPC targets, a hundredth for the emulator target), debug build.",
        "",
        "| target | cases | executions | time (s) | reached | result |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in sorted(fuzz, key=lambda r: r["target"]):
        reached = ", ".join(f"{k}: {v}" for k, v in sorted(r["reached"].items())) or "-"
        rows.append(
            f"| {cell(r['target'])} | {r['cases']} | {r['executions']} | {r['seconds']:.0f} | "
            f"{cell(reached)} | {'no failure' if r['passed'] else '**failed**'} |"
        )
    total = sum(r["executions"] for r in fuzz)
    rows += ["", f"{len(fuzz)} targets, {total} executions in all."]
    doc = replace(doc, "fuzz-figures", "\n".join(rows))

faults = lines("faults.jsonl")
if faults is not None:
    rows = [
        f"Last run: {today}, commit {commit}, {terraform}, the emulator with fast timings.",
        "",
        "| fault | phase | the command's plan | outcome | converging run | lost | duplicated | untracked | Job created | time (s) |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in faults:
        untracked = str(r["untracked"])
        if r["untracked_objects"]:
            untracked += " (" + ", ".join(r["untracked_objects"]) + ")"
        lost = str(r["lost"])
        if r["lost_objects"]:
            lost += " (" + ", ".join(r["lost_objects"]) + ")"
        converged = r["converged"]
        if r.get("known_exception"):
            converged += " (known, see below)"
        rows.append(
            f"| {cell(r['fault'])} | {cell(r['phase'])} | {cell(r['planned'])} | {cell(r['outcome'])} | "
            f"{cell(converged)} | {cell(lost)} | {r['duplicated']} | {cell(untracked)} | "
            f"{r['job_creations']} | {r['seconds']:.0f} |"
        )
    clean = sum(
        1
        for r in faults
        if r["lost"] == 0 and r["duplicated"] == 0 and r["untracked"] == 0 and r["converged_ok"]
    )
    rows += [
        "",
        f"{len(faults)} cases; {clean} reach the goal (converged, 0 lost, 0 duplicated, 0 untracked).",
    ]
    doc = replace(doc, "fault-figures", "\n".join(rows))

doc_path.write_text(doc)
print(f"wrote {doc_path}", file=sys.stderr)
EOF
exit $status
