"""Raw-to-curated throughput, and bytes read per named query, on local files.

    .venv/bin/python -m bench.etl [--sizes 1000000,10000000] [--repeat 3,1] [--seed 7] [--work DIR]

Throughput: our Spark curation job (`curate_dataset`, local Spark) on raw web_events JSON lines
of exactly N events and, alternating with it on the same files, DuckDB converting them to
snappy Parquet partitioned by month. DuckDB does no per-field validation, pseudonymisation,
dedupe or quarantine: it is the floor on this machine, not an equivalent job.

Bytes read: every named query runs over a curated lake (our Parquet) and over the raw JSON
lines that lake came from; both are measured, and the static figures (column chunks of the
columns a query references; raw file sizes) are computed.

Raw events come from the generator: one generation at the source scale (medium: about 2M
events) gives the first N lines; past its end, copies of the same lines follow with every
event id and session id rewritten (`rewrite_copy`), so that dedupe keeps them. Everything is
read and written on local disk: pushing the events through the emulated S3 would measure moto.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from bench import results_files
from bench.results_files import now_utc, size_text
from bench.sampling import Usage
from exportintel.contracts import get_contract
from exportintel.contracts.model import Contract, FieldType, Treatment
from exportintel.contracts.tables import curated_table
from exportintel.curation import curate_line
from exportintel.etl.curate import curate_dataset
from exportintel.generate import generate, is_current
from exportintel.generate.writer import JsonlShards
from exportintel.queries import named_queries
from exportintel.query import folder_resolver, referenced_tables, run_local, transpile

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RESULTS = results_files.RESULTS
DEFAULT_WORK = Path(__file__).resolve().parent.parent / "data" / "bench"
KEY = hashlib.sha256(b"exportintel benchmark key").digest()
EVENTS = "web_events"
SHARD_LINES = 1_000_000  # as the generator shards
WARMUP_EVENTS = 20_000
RULES_SAMPLE = 50_000
BUILD_VERSION = 1  # change when the way raw files are built changes: cached files are rebuilt

_DUCK_TYPES = {
    FieldType.STRING: "VARCHAR",
    FieldType.INT: "INTEGER",
    FieldType.BIGINT: "BIGINT",
    FieldType.DOUBLE: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.STRING_ARRAY: "VARCHAR[]",
}


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- Inputs -----------------------------------------------------------------------------------


def generated(work: Path, scale: str, seed: int) -> Path:
    """The generator's output at `scale`, written once per work folder (the manifest comes last)."""
    out = work / f"generated-{scale}-{seed}"
    if is_current(out, scale, seed):
        return out
    log(f"generating scale {scale}, seed {seed} into {out}")
    generate(scale, seed, out)
    return out


_EVENT_ID = re.compile(rb'("event_id":"[0-9a-f]{8}-[0-9a-f]{4}-)4')
_SESSION_ID = re.compile(rb'("session_id":"[A-Za-z0-9_.\-]{1,60})"')
_COPY_MARKS = b"56789abcdef0123"  # uuid version nibbles of copies 1..15 (generated ids: "4")


def rewrite_copy(block: bytes, copy: int) -> bytes:
    """Copy number `copy` of generated lines: fresh event and session ids, all else equal.

    A valid event id keeps its form with its version nibble (4 in every generated id) set to
    a mark per copy, so ids stay unique across copies; a session id gets a ".c<copy>" suffix
    (still a valid identifier), so sessions do not merge across copies. Ids broken on purpose
    stay broken and repeated lines stay repeated: the shares of malformed and duplicate
    records stay the generator's.
    """
    if copy == 0:
        return block
    if copy > len(_COPY_MARKS):
        raise ValueError(f"at most {len(_COPY_MARKS)} copies of the source events")
    mark = _COPY_MARKS[copy - 1 : copy]
    block = _EVENT_ID.sub(rb"\g<1>" + mark, block)
    return _SESSION_ID.sub(rb'\g<1>.c%d"' % copy, block)


def _source_lines(source: Path) -> Iterator[list[bytes]]:
    """Blocks of the source's web event lines, then of copy 1, copy 2, ... up to copy 15."""
    files = sorted((source / EVENTS).glob(f"{EVENTS}-*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no {EVENTS} files under {source}")
    for copy in range(len(_COPY_MARKS) + 1):
        for path in files:
            with path.open("rb") as handle:
                while block := handle.readlines(1 << 24):
                    yield rewrite_copy(b"".join(block), copy).splitlines(keepends=True)
    raise ValueError(f"the source holds too few events for {len(_COPY_MARKS) + 1} copies")


def build_events(source: Path, n: int, out: Path) -> list[Path]:
    """Exactly `n` raw web event lines under `out` in shards of a million, kept for reruns."""
    marker = out / "_built.json"
    spec = {"events": n, "source": str(source.resolve()), "version": BUILD_VERSION}
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return sorted(out.glob("*.jsonl"))
    log(f"building {n:,} raw events in {out}")
    shutil.rmtree(out, ignore_errors=True)
    shards = JsonlShards(out, EVENTS, max_rows=SHARD_LINES)
    for lines in _source_lines(source):
        shards.write(lines[: n - shards.rows])
        if shards.rows == n:
            break
    files = shards.close()
    marker.write_text(json.dumps(spec))
    return files


# --- Measuring ----------------------------------------------------------------------------------


def bytes_read() -> int:
    """Bytes this process has read through system calls (`rchar`; page cache hits included)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def folder_bytes(folder: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


# --- DuckDB side --------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def raw_scan(contract: Contract, files: Sequence[Path]) -> str:
    """DuckDB's read_json over raw lines, typed by the contract's curated columns.

    `ignore_errors` turns values that do not cast into NULLs (and skips lines that are not
    JSON); nothing checks ranges, formats or allowed values.
    """
    columns = ", ".join(
        f"{_quote(f.name)}: {_quote(_DUCK_TYPES[f.type])}"
        for f in contract.fields
        if f.effective_treatment != Treatment.DROP
    )
    file_list = ", ".join(_quote(str(p)) for p in files)
    return (
        f"read_json([{file_list}], format = 'newline_delimited', columns = {{{columns}}}, "
        "ignore_errors = true)"
    )


def partition_expression(contract: Contract) -> str | None:
    """The curated partition value in DuckDB SQL (Asia/Seoul days, as `partition_value`)."""
    if contract.partition_key is None or contract.partition_source is None:
        return None
    source = contract.field(contract.partition_source)
    column = f'"{source.name}"'
    if source.type == FieldType.INT:
        value = column
    else:
        if source.type == FieldType.TIMESTAMP:
            column = f"timezone('Asia/Seoul', {column})"
        value = {
            "year": f"CAST(year({column}) AS INTEGER)",
            "month": f"strftime({column}, '%Y-%m')",
            "day": f"strftime({column}, '%Y-%m-%d')",
        }[contract.partition_granularity]
    return f'{value} AS "{contract.partition_key}"'


def duckdb_conversion_sql(contract: Contract, files: Sequence[Path], out: Path) -> str:
    """JSON lines to snappy Parquet by partition, keeping rows whose required fields parse."""
    required = " AND ".join(f'"{f.name}" IS NOT NULL' for f in contract.fields if f.required)
    partition = partition_expression(contract)
    select = f"SELECT *{', ' + partition if partition else ''} FROM {raw_scan(contract, files)}"
    options = "FORMAT parquet, COMPRESSION snappy"
    if partition:
        options += f', PARTITION_BY ("{contract.partition_key}")'
    return f"COPY ({select} WHERE {required}) TO {_quote(str(out))} ({options})"


def duckdb_run(files: Sequence[Path], out: Path, threads: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    sql = duckdb_conversion_sql(get_contract(EVENTS), files, out)
    with Usage(tree=False) as usage:
        started = time.perf_counter()
        row = con.execute(sql).fetchone()
        seconds = time.perf_counter() - started
    con.close()
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.cpu,
        "peak_rss_bytes": usage.peak,
        "peak_anonymous_rss_bytes": usage.peak_anonymous,
        "load_average_before": usage.load,
        "written": int(row[0]) if row else 0,
        "partitions": sum(1 for p in out.iterdir() if p.is_dir()),
        "output_bytes": folder_bytes(out),
    }
    shutil.rmtree(out)
    return result


# --- Spark side ---------------------------------------------------------------------------------


def spark_run(spark: SparkSession, raw: Path, out: Path, run_id: str) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    with Usage(tree=True) as usage:
        started = time.perf_counter()
        summary = curate_dataset(
            spark,
            contract=get_contract(EVENTS),
            raw_path=str(raw),
            curated_path=str(out / "curated"),
            quarantine_path=str(out / "quarantine"),
            key=KEY,
            run_id=run_id,
        )
        seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.cpu,
        "peak_rss_bytes": usage.peak,
        "peak_anonymous_rss_bytes": usage.peak_anonymous,
        "load_average_before": usage.load,
        "written": summary.written,
        "quarantined": summary.quarantined,
        "duplicates": summary.duplicates,
        "partitions": len(summary.partitions_written),
        "output_bytes": folder_bytes(out / "curated"),
    }
    shutil.rmtree(out)
    return result


def rules_only(files: Sequence[Path], limit: int = RULES_SAMPLE) -> dict[str, Any]:
    """The contract rules alone (`curate_line`), in this process on one core: the share of the
    Spark job's time that is validation and treatment rather than the job around it."""
    contract = get_contract(EVENTS)
    lines: list[str] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            lines += [line.rstrip("\n") for line in itertools.islice(handle, limit - len(lines))]
    started = time.perf_counter()
    for line in lines:
        curate_line(contract, line, KEY)
    seconds = time.perf_counter() - started
    return {"events": len(lines), "seconds": seconds, "events_per_second": len(lines) / seconds}


def _engine(runs: list[dict[str, Any]], events: int) -> dict[str, Any]:
    median = statistics.median(r["seconds"] for r in runs)
    cpu = [r["cpu_seconds"] for r in runs if r["cpu_seconds"] is not None]
    peaks = [r["peak_rss_bytes"] for r in runs if r["peak_rss_bytes"] is not None]
    anonymous = [r["peak_anonymous_rss_bytes"] for r in runs if r["peak_rss_bytes"] is not None]
    return {
        "runs": runs,
        "median_seconds": median,
        "events_per_second": events / median,
        "median_cpu_seconds": statistics.median(cpu) if cpu else None,
        "events_per_cpu_second": events / statistics.median(cpu) if cpu else None,
        "peak_rss_bytes": max(peaks) if peaks else None,
        "peak_anonymous_rss_bytes": max(anonymous) if anonymous else None,
    }


def throughput(
    spark: SparkSession,
    *,
    sizes: Sequence[int],
    repeats: Sequence[int],
    source: Path,
    work: Path,
    warmup: bool = True,
    on_size: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Spark and DuckDB, run after run on the same raw files, at each size."""
    threads = spark.sparkContext.defaultParallelism
    result: dict[str, Any] = {
        "run_utc": now_utc(),
        "dataset": EVENTS,
        "duckdb_threads": threads,
        "sizes": [],
    }
    if warmup:
        # The first job of a session pays for JIT and Python worker start-up: not measured.
        files = build_events(source, WARMUP_EVENTS, work / "raw" / f"{EVENTS}-warmup")
        spark_run(spark, files[0].parent, work / "out" / "spark-warmup", "bench-warmup")
    for n, repeat in zip(sizes, repeats, strict=True):
        files = build_events(source, n, work / "raw" / f"{EVENTS}-{n}")
        if "rules_only" not in result:
            result["rules_only"] = rules_only(files)
        spark_runs, duck_runs = [], []
        for i in range(repeat):
            spark_runs.append(spark_run(spark, files[0].parent, work / "out" / "spark", f"b{i}"))
            log(f"spark  {n:>12,} events, run {i + 1}/{repeat}: {spark_runs[-1]['seconds']:.1f} s")
            duck_runs.append(duckdb_run(files, work / "out" / "duckdb", threads))
            log(f"duckdb {n:>12,} events, run {i + 1}/{repeat}: {duck_runs[-1]['seconds']:.1f} s")
        size: dict[str, Any] = {
            "events": n,
            "repeat": repeat,
            "raw_files": len(files),
            "raw_bytes": sum(p.stat().st_size for p in files),
            "spark": _engine(spark_runs, n),
            "duckdb": _engine(duck_runs, n),
        }
        size["spark_over_duckdb"] = (
            size["spark"]["median_seconds"] / size["duckdb"]["median_seconds"]
        )
        result["sizes"].append(size)
        result["growth"] = growth(result["sizes"])
        if on_size is not None:
            on_size(result)
    return result


def growth(sizes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Time ratios of each size to the smallest: linear cost gives the size ratio."""
    if not sizes:
        return []
    first = sizes[0]
    return [
        {
            "from_events": first["events"],
            "to_events": s["events"],
            "size_ratio": s["events"] / first["events"],
            "spark_time_ratio": s["spark"]["median_seconds"] / first["spark"]["median_seconds"],
            "duckdb_time_ratio": s["duckdb"]["median_seconds"] / first["duckdb"]["median_seconds"],
            "spark_cpu_ratio": _ratio(
                s["spark"]["median_cpu_seconds"], first["spark"]["median_cpu_seconds"]
            ),
            "duckdb_cpu_ratio": _ratio(
                s["duckdb"]["median_cpu_seconds"], first["duckdb"]["median_cpu_seconds"]
            ),
        }
        for s in sizes[1:]
    ]


# --- Bytes read per named query -----------------------------------------------------------------


def used_columns(sql: str) -> dict[str, set[str]]:
    """Per catalog table, the columns a query references (CTEs and aliases resolved)."""
    tables = referenced_tables(sql)
    schema: dict[str, object] = {}
    for name in tables:
        spec = curated_table(get_contract(name))
        schema[name] = {c.name: c.type for c in (*spec.columns, *spec.partition_keys)}
    tree = qualify(sqlglot.parse_one(sql, read="athena"), schema=schema, dialect="athena")
    used: dict[str, set[str]] = {name: set() for name in tables}
    for scope in traverse_scope(tree):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table) and source.name in used:
                used[source.name].add(column.name)
    return used


def column_chunk_bytes(folder: Path, columns: set[str]) -> int:
    """Compressed bytes of the named columns' chunks in every Parquet file under `folder`:
    what a column store reads, partition pruning aside (partition keys are in paths)."""
    total = 0
    for path in folder.rglob("*.parquet"):
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema.split(".")[0] in columns:
                    total += chunk.total_compressed_size
    return total


def query_lake(
    spark: SparkSession, work: Path, scale: str, seed: int, datasets: set[str]
) -> tuple[Path, Path]:
    """Generated raw files and the curated lake made from them by `curate_dataset`, once."""
    source = generated(work, scale, seed)
    lake = work / f"lake-{scale}-{seed}"
    marker = lake / "_curated.json"
    done: dict[str, Any] = json.loads(marker.read_text()) if marker.exists() else {}
    for name in sorted(datasets - set(done)):
        log(f"curating {name} ({scale}) into {lake}")
        for zone in ("curated", "quarantine"):
            shutil.rmtree(lake / zone / name, ignore_errors=True)
        summary = curate_dataset(
            spark,
            contract=get_contract(name),
            raw_path=str(source / name),
            curated_path=str(lake / "curated" / name),
            quarantine_path=str(lake / "quarantine" / name),
            key=KEY,
            run_id=f"bench-{name}",
        )
        done[name] = {"read": summary.read, "written": summary.written}
        marker.write_text(json.dumps(done, indent=2))
    return source, lake


def _measured(run: Callable[[], Any]) -> tuple[int, float, int]:
    """(bytes read, seconds, rows) of one run, after a warm-up run (imports, page cache)."""
    run()
    before = bytes_read()
    started = time.perf_counter()
    rows = run().num_rows
    return bytes_read() - before, time.perf_counter() - started, rows


def run_raw(sql: str, files: dict[str, list[Path]]) -> pyarrow.Table:
    """Athena SQL on DuckDB over views of the raw JSON lines, typed by the contracts."""
    con = duckdb.connect()
    for table, paths in files.items():
        contract = get_contract(table)
        partition = partition_expression(contract)
        extra = f", {partition}" if partition else ""
        con.execute(f'CREATE VIEW "{table}" AS SELECT *{extra} FROM {raw_scan(contract, paths)}')
    return con.execute(transpile(sql)).to_arrow_table()


def query_bytes(
    spark: SparkSession, *, work: Path, scale: str, seed: int, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Each named query over curated Parquet and over the raw JSON: bytes read, both ways."""
    started = now_utc()
    queries = [q for q in named_queries() if names is None or q.name in names]
    needed = set().union(*(referenced_tables(q.sql) for q in queries))
    source, lake = query_lake(spark, work, scale, seed, needed)
    resolve = folder_resolver(str(lake / "curated"))
    rows = []
    for query in queries:
        used = used_columns(query.sql)
        tables = sorted(used)
        raw_files = {t: sorted((source / t).glob("*.jsonl")) for t in tables}

        curated_read, curated_s, curated_rows = _measured(partial(run_local, query.sql, resolve))
        raw_read, raw_s, raw_rows = _measured(partial(run_raw, query.sql, raw_files))
        chunks = sum(column_chunk_bytes(lake / "curated" / t, used[t]) for t in tables)
        raw_size = sum(p.stat().st_size for t in tables for p in raw_files[t])
        rows.append(
            {
                "query": query.name,
                "tables": {t: sorted(used[t]) for t in tables},
                "curated_column_chunk_bytes": chunks,
                "curated_all_bytes": sum(
                    folder_bytes(lake / "curated" / t, "*.parquet") for t in tables
                ),
                "curated_read_bytes": curated_read,
                "curated_seconds": curated_s,
                "curated_rows": curated_rows,
                "raw_file_bytes": raw_size,
                "raw_read_bytes": raw_read,
                "raw_seconds": raw_s,
                "raw_rows": raw_rows,
                "ratio": chunks / raw_size,
                "measured_ratio": curated_read / raw_read,
            }
        )
        log(f"query {query.name}: {chunks:,} B of column chunks vs {raw_size:,} B of JSON")
    return {"run_utc": started, "scale": scale, "seed": seed, "queries": rows}


# --- Reporting ----------------------------------------------------------------------------------


def _carried(part: dict[str, Any]) -> list[str]:
    """A note under a part's heading when it comes from an earlier run than the file's."""
    if "machine" not in part:
        return []
    m = part["machine"]
    return [
        "",
        f"(Carried over from the run of {part.get('run_utc', m['date_utc'])}: Spark "
        f"{m.get('spark_master', '?')}, driver {m.get('spark_driver_memory', '?')}.)",
    ]


def machine_info(spark: SparkSession | None = None) -> dict[str, Any]:
    import pyspark

    info: dict[str, Any] = {
        "date_utc": now_utc(),
        "cores": os.cpu_count(),
        "cpu": _proc_value("/proc/cpuinfo", "model name"),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spark": pyspark.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "commit": _git_commit(),
    }
    if spark is not None:
        conf = spark.sparkContext.getConf()
        info["spark_master"] = spark.sparkContext.master
        info["spark_driver_memory"] = conf.get("spark.driver.memory", "1g")
    return info


def _git_commit() -> str | None:
    """The code measured: `git describe --always --dirty` of the checkout, if it is one."""
    try:
        done = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory_gib() -> float | None:
    total = _proc_value("/proc/meminfo", "MemTotal")
    return round(int(total.split()[0]) / 2**20, 1) if total else None


def _num(value: float | None, unit: str = "", decimals: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{decimals}f}{unit}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _events(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# ETL benchmark, {m['date_utc'][:10]}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}; "
        f"Python {m['python']}, Spark {m['spark']} ({m.get('spark_master', '?')}, driver "
        f"{m.get('spark_driver_memory', '?')}), DuckDB {m['duckdb']}, pyarrow {m['pyarrow']}"
        f"{'; code at ' + m['commit'] if m.get('commit') else ''}. "
        "Shared machine: medians of the runs stated. Peak RSS sampled every 0.25 s: for Spark "
        "the process tree (driver, JVM, Python workers), for DuckDB its own process.",
    ]
    t = results.get("throughput")
    if t and t["sizes"]:
        lines += [
            "",
            "## Raw web_events JSON lines to curated Parquet",
            *_carried(t),
            "",
            "Spark: our job, `curate_dataset` (contract validation, pseudonymisation, dedupe, "
            "quarantine, merge with what is stored). DuckDB: `read_json` typed by the contract, "
            "rows whose required fields parse, snappy Parquet by month, "
            f"{t['duckdb_threads']} threads; no validation, pseudonymisation, dedupe or "
            "quarantine: the floor on this machine, not an equivalent. Wall and CPU time are "
            "medians; CPU is user + system time of the engine's processes (CPU time over wall "
            "time well under the core count means the cores were shared or idle). Resident "
            "memory includes file pages mapped in; anonymous memory does not.",
            "",
            "| events | raw JSON | engine | runs | wall | events/s | CPU | events/CPU-s "
            "| peak RSS (anonymous) | load avg before |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in t["sizes"]:
            for name, label in (("spark", "Spark"), ("duckdb", "DuckDB")):
                e = s[name]
                loads = [r["load_average_before"] for r in e["runs"]]
                load = ", ".join("n/a" if v is None else f"{v:.1f}" for v in loads)
                lines.append(
                    f"| {_events(s['events'])} | {size_text(s['raw_bytes'])} | {label} "
                    f"| {s['repeat']} | {e['median_seconds']:,.1f} s "
                    f"| {e['events_per_second']:,.0f} | {_num(e['median_cpu_seconds'], ' s', 1)} "
                    f"| {_num(e['events_per_cpu_second'])} | {size_text(e['peak_rss_bytes'])} "
                    f"({size_text(e['peak_anonymous_rss_bytes'])}) "
                    f"| {load} |"
                )
        lines.append("")
        for s in t["sizes"]:
            cpu = _ratio(s["spark"]["median_cpu_seconds"], s["duckdb"]["median_cpu_seconds"])
            lines.append(
                f"Spark / DuckDB at {_events(s['events'])}: wall x{s['spark_over_duckdb']:.1f}, "
                f"CPU x{_num(cpu, decimals=1)}."
            )
        lines.append("")
        for g in t.get("growth", []):
            lines.append(
                f"Growth {_events(g['from_events'])} to {_events(g['to_events'])} events "
                f"({g['size_ratio']:.0f}x the events): Spark wall x{g['spark_time_ratio']:.2f} "
                f"(CPU x{_num(g['spark_cpu_ratio'], decimals=2)}), DuckDB wall "
                f"x{g['duckdb_time_ratio']:.2f} (CPU x{_num(g['duckdb_cpu_ratio'], decimals=2)})."
            )
        first = t["sizes"][0]["spark"]["runs"][0]
        lines.append(
            f"Spark kept {first['written']:,} of {_events(t['sizes'][0]['events'])} events "
            f"({first['quarantined']:,} quarantined, {first['duplicates']:,} duplicates) in "
            f"{first['partitions']} monthly partitions."
        )
        rules = t.get("rules_only")
        if rules:
            lines.append(
                f"The contract rules alone (`curate_line`, one process, first "
                f"{rules['events']:,} lines): {rules['events_per_second']:,.0f} events/s per "
                "core; the rest of the Spark time is the job around them."
            )
    q = results.get("queries")
    if q and q["queries"]:
        lines += [
            "",
            f"## Bytes read per named query: curated Parquet vs raw JSON "
            f"(scale {q['scale']}, seed {q['seed']})",
            *_carried(q),
            "",
            "Curated: compressed column chunks of the columns the query references (static, "
            "no partition pruning) and what the process read while `run_local` ran (rchar). "
            "Raw: the JSON files of the referenced tables (JSON has no column pruning) and what "
            "DuckDB read running the same SQL over `read_json` views.",
            "",
            "| query | curated column chunks | curated read | raw JSON files | raw read "
            "| chunks / raw files |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in q["queries"]:
            lines.append(
                f"| {r['query']} | {size_text(r['curated_column_chunk_bytes'])} "
                f"| {size_text(r['curated_read_bytes'])} | {size_text(r['raw_file_bytes'])} "
                f"| {size_text(r['raw_read_bytes'])} | {r['ratio']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    """`etl-<UTC date>.json` and `etl-latest.md`, each replaced in one step."""
    return results_files.write_results("etl", results, render_markdown, folder)


# --- Command --------------------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(v.replace("_", "")) for v in text.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.etl", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_ints, default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--repeat",
        type=_ints,
        default=[3, 1],
        help="runs per size, comma-separated per size (the last value repeats); default 3,1",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="generated and raw data")
    parser.add_argument("--source-scale", default="medium", help="generator scale of the events")
    parser.add_argument("--query-scale", default="medium", help="generator scale of the query lake")
    parser.add_argument("--results", type=Path, default=RESULTS)
    skip = "skip this part; keep its figures from the latest results file, if any"
    parser.add_argument("--skip-throughput", action="store_true", help=skip)
    parser.add_argument("--skip-queries", action="store_true", help=skip)
    args = parser.parse_args(argv)
    repeats = [args.repeat[min(i, len(args.repeat) - 1)] for i in range(len(args.sizes))]

    # Room for 10M events in one local job; set the variable to override.
    os.environ.setdefault("EXPORTINTEL_SPARK_MEMORY", "6g")
    from exportintel.etl.session import spark_session

    spark = spark_session("exportintel-bench")
    results: dict[str, Any] = {
        "machine": machine_info(spark),
        "parameters": {
            "sizes": args.sizes,
            "repeats": repeats,
            "seed": args.seed,
            "source_scale": args.source_scale,
            "query_scale": args.query_scale,
        },
    }

    previous = sorted(args.results.glob("etl-*.json"))
    if previous:
        earlier = json.loads(previous[-1].read_text())
        for key, skipped in (("queries", args.skip_queries), ("throughput", args.skip_throughput)):
            if skipped and key in earlier:
                results[key] = earlier[key] | {"machine": earlier["machine"]}

    def save(key: str, value: dict[str, Any]) -> None:
        results[key] = value
        write_results(results, args.results)

    try:
        if not args.skip_queries:
            save(
                "queries",
                query_bytes(spark, work=args.work, scale=args.query_scale, seed=args.seed),
            )
        if not args.skip_throughput:
            source = generated(args.work, args.source_scale, args.seed)
            throughput(
                spark,
                sizes=args.sizes,
                repeats=repeats,
                source=source,
                work=args.work,
                on_size=lambda sizes_done: save("throughput", sizes_done),
            )
    finally:
        spark.stop()
    results["machine"]["finished_utc"] = now_utc()
    json_path, md_path = write_results(results, args.results)
    print(render_markdown(results))
    print(f"written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
