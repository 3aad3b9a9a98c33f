"""The serving API measured: matching latency and clickstream intake against moto, in process and
through the local HTTP server, and each function's package size and import (cold-start) time.

    .venv/bin/python -m bench.api [--scale small|large] [--requests 2000] [--batches 20]
                                  [--seed 7] [--results DIR] [--note TEXT]

Everything runs offline, in one process under moto's in-process `mock_aws`:

1. Packages: each function's code folder as the CDK app deploys it (`infra.bundling`), its
   size unzipped and zipped, its files, and the import time of its handler in a fresh
   `python -S` with the bundle alone on the path and Lambda's environment (tracing on).
   Measured first, before the world fills this process's memory.
2. The world (`bench.api_world`): the firms table, one stored list per exporter and a few
   thousand pair actions, in the loader's own items, the load timed.
3. `GET /exporters/{id}/matches?k=10` at the default exploration for `--requests` exporters
   drawn with the seed: in process, the matching function's `lambda_handler` given the REST
   proxy event the local server builds (`exportintel.local.api.proxy_event`); and through that
   server (`serve`) on 127.0.0.1, one keep-alive connection, one request at a time. The two
   alternate in blocks of 50 requests on the same exporters, so both see the same noise of a
   shared machine. boto3's event system counts the DynamoDB calls of each request, the time
   spent inside them and the clients created.
4. `POST /events`: batches of 500 valid web events onto a moto Kinesis stream, in process and
   through the server, alternating batch by batch.

What the latencies mean: moto answers in Python inside this process, without a network. A real
DynamoDB call adds a few milliseconds of network and service time each (the calls per request
are counted for that), while moto's own work (parsing the request, an object per attribute
value, serialising a list of 20 candidates back) is slower than DynamoDB's service side. So the
time inside DynamoDB calls is reported too: what is left is the functions' own code.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import results_files
from bench.api_world import SCALES, Scale, exporter_id, load_world
from bench.etl import log, machine_info
from bench.jobs import command_line
from bench.results_files import load_text, now_utc, seconds_text, size_text
from exportintel.local.api import LambdaContext, drop_metrics, load_handler, match, proxy_event
from exportintel.serving.functions import (
    API_FUNCTIONS,
    ENVIRONMENT_ENV,
    KEY_SECRET_ENV,
    METRICS_NAMESPACE,
    STREAM_ENV,
    FunctionSpec,
)
from exportintel.serving.intake import MAX_EVENTS
from exportintel.settings import LOCAL

RESULTS = results_files.RESULTS
REGION = "ap-northeast-2"
ENVIRONMENT = "bench"
STREAM = "bench-clickstream"
TOKEN = "bench-token"
K = 10  # matches asked for per request
BLOCK = 50  # requests per block; in-process and HTTP blocks alternate
WARM_UP = 10  # requests (and one batch) per path before measuring, not counted
IMPORT_RUNS = 5
MEMORY_FLOOR_GIB = 4.0
HEAVY_PACKAGES = ("pandas", "numpy", "pyarrow")
PATHS = {"in_process": "in process (`lambda_handler`)", "http": "HTTP, local server on loopback"}
# The environment the functions get locally (`exportintel serve`): no traces, no metrics.
QUIET_POWERTOOLS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_PROFILE": None,
}
IMPORT_CODE = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
    "import handler; print(time.perf_counter() - t)"
)


# --- Figures --------------------------------------------------------------------------------------


def latency_figures(seconds: Sequence[float]) -> dict[str, Any]:
    """Percentiles (inclusive method), mean and rate of sequential requests, in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "count": len(ms),
        "p50_ms": cuts[49],
        "p90_ms": cuts[89],
        "p99_ms": cuts[98],
        "mean_ms": statistics.fmean(ms),
        "max_ms": ms[-1],
        "per_second": len(ms) / (sum(ms) / 1000),
    }


def _ratios(slow: Mapping[str, Any], fast: Mapping[str, Any]) -> dict[str, float]:
    return {key: slow[key] / fast[key] for key in ("p50_ms", "p90_ms", "p99_ms", "mean_ms")}


def machine_counters() -> dict[str, float]:
    """Counters of the whole machine that tell why a request waited (Linux; what is missing
    elsewhere is left out): time some task waited for a core and all tasks were stalled on
    memory (pressure stall information), direct-reclaim and compaction stalls, major faults."""
    counters: dict[str, float] = {}
    for resource, kind in (("cpu", "some"), ("memory", "full")):
        try:
            lines = Path(f"/proc/pressure/{resource}").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith(kind):
                total = int(line.rsplit("total=", 1)[1])
                counters[f"{resource}_pressure_{kind}_seconds"] = total / 1e6
    try:
        vmstat = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    except OSError:
        return counters
    counters["direct_reclaim_stalls"] = sum(
        int(value) for name, value in vmstat.items() if name.startswith("allocstall")
    )
    counters["compaction_stalls"] = int(vmstat.get("compact_stall", 0))
    counters["major_page_faults"] = int(vmstat.get("pgmajfault", 0))
    return counters


@contextmanager
def machine_state(figures: dict[str, Any]) -> Iterator[None]:
    """Into `figures`: the load average before a block, and `machine_counters` over it."""
    figures["load_average_before"] = os.getloadavg()[0]
    before = machine_counters()
    yield
    after = machine_counters()
    figures["machine_counters"] = {k: after[k] - before[k] for k in after if k in before}


class Calls:
    """The AWS calls made through clients of one boto3 session, their time and the clients
    created, from its event system (requests run one at a time: one call is open at most)."""

    def __init__(self, session: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.seconds = 0.0
        self.clients = 0
        self._started: float | None = None
        session.events.register("creating-client-class", self._client, "bench-api-clients")
        session.events.register("before-call", self._before, "bench-api-before")
        session.events.register("after-call", self._after, "bench-api-after")

    def _client(self, **_: Any) -> None:
        self.clients += 1

    def _before(self, **kwargs: Any) -> None:
        model = kwargs["model"]
        self.counts[f"{model.service_model.service_name}.{model.name}"] += 1
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def take(self) -> tuple[Counter[str], float, int]:
        """What was counted since the last `take`."""
        taken = (self.counts, self.seconds, self.clients)
        self.counts, self.seconds, self.clients = Counter(), 0.0, 0
        return taken


# --- Calling the functions ------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to the local server, with its bearer token."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host = parts.netloc
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
        self.token = token

    def headers(self, body: bytes) -> dict[str, str]:
        """What this client sends (http.client adds Host and Accept-Encoding)."""
        sent = {"Authorization": f"Bearer {self.token}"}
        if body:
            sent |= {"Content-Type": "application/json", "Content-Length": str(len(body))}
        return sent

    def call(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request(method, target, body=body or None, headers=self.headers(body))
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started


def rest_event(
    client: Client, method: str, path: str, query: str, body: bytes
) -> tuple[FunctionSpec, dict[str, Any]]:
    """The function and the proxy event the local server makes of the client's request."""
    compiled, parameters, _ = match(method, path)
    if compiled is None:
        raise ValueError(f"no route {method} {path}")
    headers = {"Host": client.host, "Accept-Encoding": "identity", **client.headers(body)}
    event = proxy_event(
        method=method,
        path=path,
        compiled=compiled,
        path_parameters=parameters,
        query=query,
        headers=headers,
        body=body,
        source_ip="127.0.0.1",
    )
    return compiled.function, event


def in_process(function: FunctionSpec, event: dict[str, Any]) -> tuple[int, bytes, float]:
    """The handler called as Lambda calls it; metrics dropped after, as the server does."""
    handler = load_handler(function)
    context = LambdaContext(function, event["requestContext"]["requestId"])
    started = time.perf_counter()
    reply = handler.lambda_handler(event, context)
    seconds = time.perf_counter() - started
    drop_metrics(handler)
    return int(reply["statusCode"]), str(reply.get("body") or "").encode(), seconds


def call(
    client: Client, mode: str, method: str, path: str, query: str = "", body: bytes = b""
) -> tuple[int, bytes, float]:
    """One request on one path: (status, body, seconds)."""
    if mode == "in_process":
        function, event = rest_event(client, method, path, query, body)
        return in_process(function, event)
    return client.call(method, f"{path}?{query}" if query else path, body)


def _alternating(blocks: int) -> Iterator[tuple[int, tuple[str, str]]]:
    """Block numbers with the order of the two paths, swapped every other block."""
    for number in range(blocks):
        yield number, ("in_process", "http") if number % 2 == 0 else ("http", "in_process")


# --- Matching ---------------------------------------------------------------------------------


def matching_latency(client: Client, calls: Calls, exporters: Sequence[str]) -> dict[str, Any]:
    """`GET /exporters/{id}/matches?k=10` on both paths for every exporter, alternating blocks."""
    seconds: dict[str, list[float]] = {mode: [] for mode in PATHS}
    cpu_seconds: dict[str, list[float]] = {mode: [] for mode in PATHS}
    inside: dict[str, list[float]] = {mode: [] for mode in PATHS}
    counts: dict[str, Counter[str]] = {mode: Counter() for mode in PATHS}
    clients: dict[str, int] = dict.fromkeys(PATHS, 0)
    statuses: dict[str, Counter[int]] = {mode: Counter() for mode in PATHS}
    shown: list[int] = []
    filtered: list[int] = []

    def request(mode: str, exporter: str, *, measured: bool) -> None:
        calls.take()
        cpu = time.process_time()
        status, body, took = call(client, mode, "GET", f"/exporters/{exporter}/matches", f"k={K}")
        cpu = time.process_time() - cpu
        counted, in_calls, created = calls.take()
        if not measured:
            return
        seconds[mode].append(took)
        cpu_seconds[mode].append(cpu)
        inside[mode].append(in_calls)
        counts[mode].update(counted)
        clients[mode] += created
        statuses[mode][status] += 1
        if status == 200:
            reply = json.loads(body)
            shown.append(len(reply["matches"]))
            filtered.append(int(reply["filtered_out"]))

    for mode in PATHS:
        for exporter in exporters[:WARM_UP]:
            request(mode, exporter, measured=False)
    blocks = (len(exporters) + BLOCK - 1) // BLOCK
    for number, order in _alternating(blocks):
        for mode in order:
            for exporter in exporters[number * BLOCK : (number + 1) * BLOCK]:
                request(mode, exporter, measured=True)

    paths: dict[str, Any] = {}
    for mode in PATHS:
        n = len(seconds[mode])
        paths[mode] = {
            **latency_figures(seconds[mode]),
            "cpu": latency_figures(cpu_seconds[mode]),
            "statuses": {str(s): c for s, c in sorted(statuses[mode].items())},
            "dynamodb_calls_per_request": {op: c / n for op, c in sorted(counts[mode].items())},
            "clients_created_per_request": clients[mode] / n,
            "seconds_in_calls": latency_figures(inside[mode]),
        }
    return {
        "k": K,
        "explore": LOCAL.matching_explore,
        "block": BLOCK,
        "warm_up_requests": WARM_UP,
        "paths": paths,
        "http_over_in_process": _ratios(paths["http"], paths["in_process"]),
        "matches_shown_mean": statistics.fmean(shown) if shown else None,
        "filtered_out_mean": statistics.fmean(filtered) if filtered else None,
    }


# --- Events -------------------------------------------------------------------------------------

EVENT_TYPES = {
    "page_view": 34,
    "profile_view": 30,
    "click": 12,
    "search": 10,
    "save": 5,
    "inquiry": 3,
    "login": 3,
    "dismiss": 2,
}
KEYWORDS = ("battery cells", "cosmetics OEM", "auto parts", "frozen seafood", "LED lighting",
            "medical devices", "kimchi", "steel pipes", "solar inverter")  # fmt: skip
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def web_events(rng: random.Random, count: int, scale: Scale) -> list[dict[str, Any]]:
    """Valid `web_events` records as the site sends them: views, clicks, searches, saves."""
    now = time.time()
    events = []
    for _ in range(count):
        kind = rng.choices(list(EVENT_TYPES), weights=list(EVENT_TYPES.values()))[0]
        actor = rng.choices(("buyer", "exporter", "anonymous", "staff"), weights=(5, 3, 2, 1))[0]
        own = (
            f"BUY{rng.randrange(1, scale.buyers + 1):07d}"
            if actor == "buyer"
            else exporter_id(rng.randrange(1, scale.exporters + 1))
        )
        target = (
            exporter_id(rng.randrange(1, scale.exporters + 1))
            if actor == "buyer"
            else f"BUY{rng.randrange(1, scale.buyers + 1):07d}"
        )
        consent = rng.random() < 0.7
        moment = time.gmtime(now - rng.uniform(0, 600))
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_time": time.strftime("%Y-%m-%dT%H:%M:%S", moment)
            + f".{rng.randrange(1000):03d}Z",
            "event_type": kind,
            "cookie_id": f"ck-{rng.getrandbits(64):016x}",
            "cookie_consent": consent,
            "session_id": f"s-{rng.getrandbits(64):016x}",
            "actor_type": actor,
            "page": f"/{'exporters' if target.startswith('EXP') else 'buyers'}/{target}",
            "referrer_page": "/search",
            "dwell_seconds": round(rng.expovariate(1 / 40), 1),
            "hs_chapter": rng.choice(("85", "84", "87", "39", "33", "19")),
            "user_agent": USER_AGENT,
        }
        if actor != "anonymous":
            event["user_id"] = f"user-{rng.randrange(1, 50_000):05d}"
            if actor != "staff":
                event["actor_firm_id"] = own
        if kind in ("profile_view", "click", "save", "inquiry", "dismiss"):
            event["target_id"] = target
        if kind == "search":
            event["search_keyword"] = rng.choice(KEYWORDS)
            event["page"] = "/search"
        events.append(event)
    return events


def events_throughput(
    client: Client, calls: Calls, batches: int, scale: Scale, seed: int
) -> dict[str, Any]:
    """`POST /events` with batches of 500 on both paths, alternating batch by batch."""
    rng = random.Random(seed + 1)
    seconds: dict[str, list[float]] = {mode: [] for mode in PATHS}
    cpu_seconds: dict[str, list[float]] = {mode: [] for mode in PATHS}
    rates: dict[str, list[float]] = {mode: [] for mode in PATHS}
    counts: dict[str, Counter[str]] = {mode: Counter() for mode in PATHS}
    statuses: dict[str, Counter[int]] = {mode: Counter() for mode in PATHS}
    accepted: dict[str, int] = dict.fromkeys(PATHS, 0)
    body_bytes: list[int] = []

    def batch(mode: str, *, measured: bool) -> None:
        body = json.dumps({"events": web_events(rng, MAX_EVENTS, scale)}).encode()
        calls.take()
        cpu = time.process_time()
        status, reply, took = call(client, mode, "POST", "/events", body=body)
        cpu = time.process_time() - cpu
        counted, _, _ = calls.take()
        if not measured:
            return
        body_bytes.append(len(body))
        seconds[mode].append(took)
        cpu_seconds[mode].append(cpu)
        rates[mode].append(MAX_EVENTS / took)
        counts[mode].update(counted)
        statuses[mode][status] += 1
        accepted[mode] += int(json.loads(reply).get("accepted", 0))

    for mode in PATHS:
        batch(mode, measured=False)
    for _, order in _alternating(batches):
        for mode in order:
            batch(mode, measured=True)

    paths: dict[str, Any] = {}
    for mode in PATHS:
        n = len(seconds[mode])
        paths[mode] = {
            "batch_latency": latency_figures(seconds[mode]),
            "batch_cpu": latency_figures(cpu_seconds[mode]),
            "events_per_second_median": statistics.median(rates[mode]),
            "events": n * MAX_EVENTS,
            "accepted": accepted[mode],
            "statuses": {str(s): c for s, c in sorted(statuses[mode].items())},
            "calls_per_batch": {op: c / n for op, c in sorted(counts[mode].items())},
        }
    return {
        "batch_size": MAX_EVENTS,
        "batches": batches,
        "body_bytes_median": statistics.median(body_bytes),
        "paths": paths,
        "http_over_in_process": {
            "batch_p50": paths["http"]["batch_latency"]["p50_ms"]
            / paths["in_process"]["batch_latency"]["p50_ms"]
        },
    }


# --- Packages -----------------------------------------------------------------------------------


def bundle_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def folder_figures(folder: Path) -> dict[str, Any]:
    """Size, files and zipped size of a code folder (zipped as the CDK asset is: deflate)."""
    files = bundle_files(folder)
    heavy = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.lower().split("-")[0].split(".")[0] in HEAVY_PACKAGES
    )
    with tempfile.TemporaryDirectory(prefix="bench-api-zip-") as work:
        archive = Path(work) / "bundle.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(folder).as_posix())
        zipped_bytes = archive.stat().st_size
    return {
        "folder": folder.name,
        "unzipped_bytes": sum(p.stat().st_size for p in files),
        "zipped_bytes": zipped_bytes,
        "files": len(files),
        "pyc_files": sum(1 for p in files if p.suffix == ".pyc"),
        "heavy_packages": heavy,
    }


def import_seconds(folder: Path, unit: str) -> float:
    """`import handler` in a fresh `python -S` (no site-packages) from the bundle, with the
    environment Lambda gives the function (tracing on); nothing written into the bundle."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": str(folder),
        "AWS_LAMBDA_FUNCTION_NAME": f"exportintel-bench-{unit}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "POWERTOOLS_SERVICE_NAME": unit,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-S", "-c", IMPORT_CODE, str(folder)],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing the {unit} handler failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def package_figures(import_runs: int) -> dict[str, Any]:
    """Every function's bundle (built or reused by infra.bundling): sizes, files, import times
    (`import_runs` per function, round-robin over the functions)."""
    from infra.bundling import BundlingError, api_bundle, counters_bundle

    started = time.perf_counter()
    try:
        folders = {f.unit: api_bundle(f.unit).folder for f in API_FUNCTIONS}
        folders["counters"] = counters_bundle().folder
    except BundlingError as error:
        return {"error": f"the bundles could not be built: {error}"[:3000]}
    built = time.perf_counter() - started
    functions = {unit: folder_figures(folder) for unit, folder in folders.items()}
    times: dict[str, list[float]] = {unit: [] for unit in folders}
    load = os.getloadavg()[0]
    for _ in range(import_runs):
        for unit, folder in folders.items():
            times[unit].append(import_seconds(folder, unit))
    for unit, runs in times.items():
        functions[unit]["import_seconds"] = {
            "median": statistics.median(runs),
            "min": min(runs),
            "max": max(runs),
            "runs": runs,
        }
    return {
        "bundle_seconds": built,
        "import_runs": import_runs,
        "load_average_before_imports": load,
        "functions": functions,
    }


# --- Rendering ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _calls_text(per_request: Mapping[str, float]) -> str:
    total = sum(per_request.values())
    parts = ", ".join(f"{op.split('.')[-1]} {n:g}" for op, n in per_request.items())
    return f"{total:g} ({parts})"


def _head(results: dict[str, Any]) -> list[str]:
    m, p = results["machine"], results["parameters"]
    lines = [
        f"# API benchmark, {m['date_utc'][:10]}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}; "
        f"Python {m['python']}, boto3 {m['boto3']}, moto {m['moto']}, Powertools "
        f"{m['powertools']}{'; code at ' + m['commit'] if m.get('commit') else ''}. Shared "
        "machine: the load average before each part is stated. Run from "
        f"{m['date_utc']} to {m.get('finished_utc', '(not finished)')}"
        + (f" ({results['seconds']:,.0f} s)." if "seconds" in results else "."),
        "",
        f"Command: `{p['command']}`",
    ]
    for note in results.get("notes", []):
        lines += ["", f"**Note:** {note}"]
    lines += [
        "",
        "**Against moto:** the functions call moto's in-memory DynamoDB and Kinesis inside this "
        "process, so the latencies exclude the network: against AWS each DynamoDB call adds a "
        "few milliseconds of network and service time (the calls per request are counted below "
        "for that). moto's own work per call (parsing, an object per attribute value, "
        "serialising a stored list of 20 candidates back) is slower than DynamoDB's service "
        "side; the time spent inside the calls is stated, the rest is the functions' own code "
        "(Powertools' resolver and validation, boto3, the matching logic).",
    ]
    return lines


def _package_lines(packages: dict[str, Any]) -> list[str]:
    if "error" in packages:
        return ["", "## Function packages", "", f"Not measured: {packages['error']}"]
    lines = [
        "",
        "## Function packages (infra.bundling, as deployed)",
        "",
        f"Import time of `handler` in a fresh `python -S` (no site-packages), the bundle alone "
        "on the path, with the environment Lambda gives the function (LAMBDA_TASK_ROOT, region, "
        "Powertools service and namespace; tracing on, so the X-Ray SDK patches botocore at "
        "import); nothing written into the bundle, so the shipped bytecode (pip's, of the "
        "dependencies) is used and the core package compiles on import, as on Lambda. "
        f"{packages['import_runs']} runs per function, round-robin over the functions (load "
        f"average before: {load_text(packages['load_average_before_imports'])}). Lambda's "
        "runtime start and the fetch of the package come on top; its unzipped limit is 250 MB.",
        "",
        "| function | unzipped | zipped (deflate) | files | .pyc shipped | handler import median "
        "(min-max) | pandas / numpy / pyarrow |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for unit, f in packages["functions"].items():
        t = f["import_seconds"]
        heavy = ", ".join(f["heavy_packages"]) or "none"
        lines.append(
            f"| {unit} | {_mb(f['unzipped_bytes'])} | {_mb(f['zipped_bytes'])} | {f['files']:,} "
            f"| {f['pyc_files']:,} | {_ms(t['median'] * 1000)} ({t['min'] * 1000:,.0f}-"
            f"{t['max'] * 1000:,.0f} ms) | {heavy} |"
        )
    return lines


def _world_lines(world: dict[str, Any], p: dict[str, Any]) -> list[str]:
    t, load = world["tables"], world["load"]
    lists = (
        f"{world['lists_loaded']:,} stored lists (one per exporter)"
        if world["all_lists_loaded"]
        else f"{world['lists_loaded']:,} of {p['exporters']:,} stored lists (the queried "
        "exporters' first; loading stopped with "
        f"{size_text(world['stopped_at_available_bytes'])} of memory left available)"
    )
    lines = [
        "",
        f"## World: serving tables in moto's DynamoDB (scale {p['scale']}, seed {p['seed']})",
        "",
        f"{p['exporters']:,} exporters and {p['buyers']:,} buyers ({world['bad_credit_buyers']:,} "
        f"with bad credit) in the firms table; {lists} of {p['candidates']} explained "
        f"candidates, {p['reasons']} reasons each in English and Korean; "
        f"{t['pair_actions']['items']:,} pair actions. Items made by the loader "
        "(`firm_items`, `match_items`) from generated frames and written by `write_items` "
        "(boto3's batch writer, 25 items a call). Build: the frames and the loader's items; "
        "write: the batch writes into moto.",
        "",
        "| table | items | build | write | items/s written |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, f in t.items():
        rate = f"{f['items_per_second']:,.0f}" if f["items_per_second"] else "n/a"
        lines.append(
            f"| {name} | {f['items']:,} | {seconds_text(f['build_seconds'])} "
            f"| {seconds_text(f['write_seconds'])} | {rate} |"
        )
    lines += [
        "",
        f"Whole load {seconds_text(load['seconds'])} (CPU {seconds_text(load['cpu_seconds'])}), "
        f"peak RSS {size_text(load['peak_rss_bytes'])}; load average before "
        f"{load_text(load['load_average_before'])}.",
    ]
    return lines


def _machine_text(counters: Mapping[str, float]) -> str:
    """What the machine went through while a part ran (empty where it cannot be read)."""
    parts = []
    if "cpu_pressure_some_seconds" in counters:
        parts.append(
            f"tasks waited {counters['cpu_pressure_some_seconds']:,.1f} s for a core (CPU "
            "pressure, some)"
        )
    if "memory_pressure_full_seconds" in counters:
        parts.append(
            f"all tasks stalled {counters['memory_pressure_full_seconds']:,.1f} s on memory"
        )
    if "direct_reclaim_stalls" in counters:
        parts.append(
            f"{counters['direct_reclaim_stalls']:,.0f} direct-reclaim and "
            f"{counters['compaction_stalls']:,.0f} compaction stalls, "
            f"{counters['major_page_faults']:,.0f} major page faults"
        )
    return f" On the machine meanwhile: {'; '.join(parts)}." if parts else ""


def _timing_table(rows: Mapping[str, Mapping[str, Any]], what: str, rate: str) -> list[str]:
    """Wall-time percentiles, mean, rate and the process's CPU time of each path."""
    lines = [
        f"| path | {what} | p50 | p90 | p99 | mean | {rate} | CPU p50 | CPU mean | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for mode, label in PATHS.items():
        f, cpu = rows[mode]["wall"], rows[mode]["cpu"]
        statuses = ", ".join(f"{s}: {c:,}" for s, c in rows[mode]["statuses"].items())
        lines.append(
            f"| {label} | {f['count']:,} | {_ms(f['p50_ms'])} | {_ms(f['p90_ms'])} "
            f"| {_ms(f['p99_ms'])} | {_ms(f['mean_ms'])} | {rows[mode]['rate']} "
            f"| {_ms(cpu['p50_ms'])} | {_ms(cpu['mean_ms'])} | {statuses} |"
        )
    return lines


CPU_TEXT = (
    "CPU: this process's CPU time over the request (every thread: the handler, and over HTTP "
    "the server and the client too); wall time above it is time spent waiting for a core or "
    "for memory on the shared machine."
)


def _matching_lines(m: dict[str, Any], p: dict[str, Any]) -> list[str]:
    paths, ratio = m["paths"], m["http_over_in_process"]
    nagle = "off (TCP_NODELAY)" if m.get("server_disables_nagle") else "on"
    lines = [
        "",
        f"## GET /exporters/{{id}}/matches?k={m['k']}",
        "",
        f"{paths['in_process']['count']:,} requests per path for exporters drawn with seed "
        f"{p['seed']}, default exploration ({m['explore']}), one request at a time; the paths "
        f"alternate in blocks of {m['block']} requests on the same exporters, after "
        f"{m['warm_up_requests']} warm-up requests each (load average before "
        f"{load_text(m['load_average_before'])}). Over HTTP: one keep-alive connection to the "
        "local server (`exportintel.local.api.serve`) in this process, Nagle's algorithm "
        f"{nagle} on its sockets; its access log went to /dev/null. {CPU_TEXT}"
        + _machine_text(m.get("machine_counters", {})),
        "",
        *_timing_table(
            {
                mode: {
                    "wall": f,
                    "cpu": f["cpu"],
                    "rate": f"{f['per_second']:,.1f}",
                    "statuses": f["statuses"],
                }
                for mode, f in paths.items()
            },
            "requests",
            "requests/s",
        ),
    ]
    inside = paths["in_process"]["seconds_in_calls"]
    share = inside["mean_ms"] / paths["in_process"]["mean_ms"]
    calls = paths["in_process"]["dynamodb_calls_per_request"]
    lines += [
        "",
        f"HTTP / in process: p50 x{ratio['p50_ms']:.2f}, p90 x{ratio['p90_ms']:.2f}, p99 "
        f"x{ratio['p99_ms']:.2f}, mean x{ratio['mean_ms']:.2f}; the local server adds "
        f"{_ms(paths['http']['p50_ms'] - paths['in_process']['p50_ms'])} at the median.",
        "",
        f"DynamoDB calls per request: {_calls_text(calls)}, through "
        f"{paths['in_process']['clients_created_per_request']:g} clients created per request "
        "(the function makes a boto3 resource per table on each request). Time inside those "
        f"calls (moto's work and botocore's parsing of the replies): p50 "
        f"{_ms(inside['p50_ms'])}, mean {_ms(inside['mean_ms'])}, {share:.0%} of the in-process "
        f"mean; the rest, {_ms(paths['in_process']['mean_ms'] - inside['mean_ms'])} on "
        "average, is the function's own code. Against DynamoDB, add the network and service "
        f"time of {sum(calls.values()):g} calls (a few ms each). Each reply showed "
        f"{m['matches_shown_mean']:.1f} matches on average; {m['filtered_out_mean']:.2f} "
        "candidates per list were filtered out (bad credit now, saved or dismissed).",
    ]
    return lines


def _events_lines(e: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## POST /events (batches of {e['batch_size']})",
        "",
        f"{e['batches']} batches per path of valid web events (a median body of "
        f"{size_text(e['body_bytes_median'])}), alternating batch by batch after one warm-up "
        f"batch each (load average before {load_text(e['load_average_before'])}); each event "
        "validated against the `web_events` contract and put on a moto Kinesis stream. "
        "Events/s: the median over batches of 500 / the batch's wall time. "
        + CPU_TEXT
        + _machine_text(e.get("machine_counters", {})),
        "",
        *_timing_table(
            {
                mode: {
                    "wall": f["batch_latency"],
                    "cpu": f["batch_cpu"],
                    "rate": f"{f['events_per_second_median']:,.0f}",
                    "statuses": f["statuses"],
                }
                for mode, f in e["paths"].items()
            },
            "batches",
            "events/s",
        ),
    ]
    accepted = ", ".join(
        f"{PATHS[mode].split(' (')[0]} {f['accepted']:,} of {f['events']:,}"
        for mode, f in e["paths"].items()
    )
    lines += [
        "",
        f"HTTP / in process, batch p50: x{e['http_over_in_process']['batch_p50']:.2f}. Events "
        f"accepted: {accepted}. Calls per batch: "
        f"{_calls_text(e['paths']['in_process']['calls_per_batch'])}.",
    ]
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    p = results["parameters"]
    lines = _head(results)
    if "packages" in results:
        lines += _package_lines(results["packages"])
    if "world" in results:
        lines += _world_lines(results["world"], p)
    if "matching" in results:
        lines += _matching_lines(results["matching"], p)
    if "events" in results:
        lines += _events_lines(results["events"])
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    """`api-<UTC date>.json` and `api-latest.md`, each replaced in one step."""
    return results_files.write_results("api", results, render_markdown, folder)


# --- Command ------------------------------------------------------------------------------------


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for a block; restored after it."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def queried_exporters(scale: Scale, requests: int, seed: int) -> list[int]:
    """The exporters asked for, distinct when there are enough of them."""
    rng = random.Random(seed)
    population = range(1, scale.exporters + 1)
    if requests <= scale.exporters:
        return rng.sample(population, requests)
    return rng.choices(population, k=requests)


def api_machine() -> dict[str, Any]:
    info = machine_info()
    for name in ("spark", "duckdb", "pyarrow"):
        info.pop(name, None)
    info |= {
        "boto3": version("boto3"),
        "moto": version("moto"),
        "powertools": version("aws-lambda-powertools"),
    }
    return info


def run(
    *,
    scale_name: str,
    scale: Scale,
    requests: int,
    batches: int,
    seed: int,
    results_folder: Path,
    command: str,
    notes: Sequence[str] = (),
    import_runs: int = IMPORT_RUNS,
    memory_floor_bytes: int = int(MEMORY_FLOOR_GIB * 2**30),
) -> dict[str, Any]:
    """The whole benchmark; the results are written after each part."""
    import boto3
    from moto import mock_aws

    from exportintel.local.api import serve
    from exportintel.serving.provision import create_table
    from exportintel.serving.tables import TABLES

    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": api_machine(),
        "parameters": {
            "scale": scale_name,
            "exporters": scale.exporters,
            "buyers": scale.buyers,
            "candidates": scale.candidates,
            "reasons": scale.reasons,
            "pair_actions": scale.pair_actions,
            "requests": requests,
            "batches": batches,
            "seed": seed,
            "import_runs": import_runs,
            "memory_floor_bytes": memory_floor_bytes,
            "command": command,
        },
        "notes": list(notes),
    }

    def save(key: str, value: Any) -> None:
        results[key] = value
        write_results(results, results_folder)

    log("packages: building (or reusing) the bundles, zipping, timing imports")
    save("packages", package_figures(import_runs))

    names = {
        spec.role: f"exportintel-{ENVIRONMENT}-{spec.role.replace('_', '-')}" for spec in TABLES
    }
    handler_environ = {
        **{spec.env_var: names[spec.role] for spec in TABLES},
        STREAM_ENV: STREAM,
        KEY_SECRET_ENV: "exportintel-bench-pseudonymisation-key",
        ENVIRONMENT_ENV: ENVIRONMENT,
        **QUIET_POWERTOOLS,
    }
    queried = queried_exporters(scale, requests, seed)
    with environment({**FAKE_CREDENTIALS, **handler_environ}), mock_aws():
        boto3.setup_default_session(region_name=REGION)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        dynamodb = session.client("dynamodb")
        for spec in TABLES:
            create_table(dynamodb, spec, names[spec.role])
        session.client("kinesis").create_stream(StreamName=STREAM, ShardCount=1)
        resource = session.resource("dynamodb")
        tables = {spec.role: resource.Table(names[spec.role]) for spec in TABLES}
        log(f"world: loading scale {scale_name} into moto")
        save(
            "world",
            load_world(
                tables,
                scale,
                queried=queried,
                seed=seed,
                memory_floor_bytes=memory_floor_bytes,
                log=log,
            ),
        )
        calls = Calls(session)
        server = serve(TOKEN)
        try:
            client = Client(server.url, TOKEN)
            matching: dict[str, Any] = {}
            events: dict[str, Any] = {}
            with open(os.devnull, "w") as sink, redirect_stderr(sink):
                with machine_state(matching):
                    ids = [exporter_id(n) for n in queried]
                    matching |= matching_latency(client, calls, ids)
                with machine_state(events):
                    events |= events_throughput(client, calls, batches, scale, seed)
            # Whether the server's sockets send without waiting (TCP_NODELAY): with Nagle on,
            # a reply's body waits for the client's delayed acknowledgement of its headers.
            matching["server_disables_nagle"] = bool(
                getattr(server.RequestHandlerClass, "disable_nagle_algorithm", False)
            )
            save("matching", matching)
            log("matching measured")
            save("events", events)
            log("events measured")
        finally:
            server.shutdown()
            server.server_close()
    results["machine"]["finished_utc"] = now_utc()
    results["seconds"] = time.perf_counter() - started
    write_results(results, results_folder)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--requests", type=int, default=2_000, help="matching requests per path")
    parser.add_argument("--batches", type=int, default=20, help="event batches per path")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=IMPORT_RUNS)
    parser.add_argument(
        "--memory-floor-gib",
        type=float,
        default=MEMORY_FLOOR_GIB,
        help="stop loading further lists when less memory than this is available",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--note", action="append", default=[], help="a plain statement for the results file"
    )
    args = parser.parse_args(argv)
    results = run(
        scale_name=args.scale,
        scale=SCALES[args.scale],
        requests=args.requests,
        batches=args.batches,
        seed=args.seed,
        results_folder=args.results,
        command=command_line("bench.api", argv),
        notes=args.note,
        import_runs=args.import_runs,
        memory_floor_bytes=int(args.memory_floor_gib * 2**30),
    )
    print(render_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
