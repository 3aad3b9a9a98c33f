"""The demo: the data path end to end on the local emulation, narrated.

generate (small) -> emulation up -> ingest (Kinesis, Firehose, S3) -> pump -> ETL (local
Spark, the Glue job's code) -> the continuity index (status and features under local Spark,
training and scoring by the SageMaker scripts, the group report) -> exporter-buyer matching
(interactions and side features under local Spark, training with its held-out evaluation and
scoring by the SageMaker scripts, sample matches with reasons) -> the analysts' named queries
(DuckDB). Every step is the same code that runs in AWS; only the endpoints differ.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from exportintel.resources import Resources

if TYPE_CHECKING:
    from exportintel.local.emulation import EmulatedAws


@contextmanager
def step(title: str) -> Iterator[None]:
    print(f"\n== {title}", flush=True)
    started = time.perf_counter()
    yield
    print(f"   done in {time.perf_counter() - started:.1f} s", flush=True)


def _generate(data: Path, scale: str, seed: int) -> None:
    from exportintel.generate import generate

    manifest = data / "manifest.json"
    if manifest.is_file():
        made = json.loads(manifest.read_text(encoding="utf-8"))
        if made.get("scale") == scale and made.get("seed") == seed:
            print(f"   {data} already holds the {scale} data set of seed {seed}: reused")
            return
    print(generate(scale=scale, seed=seed, out=data).render())


def _emulation(state: Path) -> EmulatedAws:
    from exportintel.local.session import bring_up

    emulation = bring_up(state, point_boto3=True)
    server = emulation.server
    print(f"   moto server {'started' if emulation.started else 'already running'} at "
          f"{server.endpoint_url} (pid {server.pid})")  # fmt: skip
    return emulation.aws


def _ingest(data: Path, resources: Resources, state: Path) -> None:
    from exportintel.ingest.runner import IngestClients, ingest
    from exportintel.local.state import DEAD_LETTER_FOLDER

    datasets = sorted(p.name for p in data.iterdir() if (p / f"{p.name}-00000.jsonl").is_file())
    clients = IngestClients.from_environment()
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    reports = []
    for dataset in tqdm(datasets, desc="   ingest", unit="dataset", leave=False):
        report = ingest(data, resources, clients, datasets=[dataset],
                        dead_letter_dir=state / DEAD_LETTER_FOLDER / run)  # fmt: skip
        reports.extend(report.datasets)
        if not report.ok:
            raise SystemExit(f"ingest of {dataset} lost records:\n{report.render()}")
    for r in reports:
        print(f"   {r.dataset:<20} via {r.route:<9} sent {r.tally.sent:>8,}  "
              f"accepted {r.tally.accepted:>8,}  failed {r.tally.failed}")  # fmt: skip


def _pump(aws: EmulatedAws, state: Path) -> None:
    from exportintel.local.session import pump_for

    print("   " + pump_for(aws, state).run_once().render())


def _etl(resources: Resources, state: Path) -> None:
    from exportintel.cli.lake import render_summary
    from exportintel.contracts.registry import all_contracts
    from exportintel.etl.io import pseudonymisation_key
    from exportintel.etl.local_runner import run_local_etl

    sources = [c for c in all_contracts() if c.lands_in_raw]
    bar = tqdm(total=len(sources), desc="   etl", unit="dataset", leave=False)
    lines: list[str] = []

    def done(summary: object) -> None:
        lines.append(render_summary(summary))
        bar.update()

    summaries = run_local_etl(
        resources=resources,
        workdir=state / "work",
        key=pseudonymisation_key(resources.pseudonymisation_secret),
        on_dataset=done,
    )
    bar.close()
    print(f"   {'dataset':<20}{'read':>10}{'written':>10}{'quarantined':>13}{'duplicates':>12}")
    for line in lines:
        print("   " + line.splitlines()[0])
    mismatched = [s.dataset for s in summaries if not s.reconciled]
    total_read = sum(s.read for s in summaries)
    print(f"   read = written + quarantined + duplicates for every dataset: "
          f"{'yes' if not mismatched else 'NO: ' + ', '.join(mismatched)} "
          f"({total_read:,} records)")  # fmt: skip


def _continuity(resources: Resources, state: Path) -> Path:
    from exportintel.cli.models import render_metrics
    from exportintel.continuity.local import derive, report, score, train
    from exportintel.local.lake import LocalLake
    from exportintel.settings import LOCAL

    lake = LocalLake(resources, state / "work")
    derive(lake, on_table=lambda s: print(f"   {s['dataset']:<22}{s['rows']:>8,} rows"))
    trained = train(lake, LOCAL)
    print("\n".join("   " + line for line in render_metrics(trained.metrics).splitlines()))
    scored = score(lake, LOCAL)
    latest = max(scored.by_year)
    firms, at_risk = scored.by_year[latest]
    threshold = LOCAL.continuity_risk_threshold
    print(f"   scored {scored.rows:,} firm-years with {scored.version}; {latest}: {at_risk:,} "
          f"of {firms:,} firms in the risk group (index < {threshold})")  # fmt: skip
    return report(lake, LOCAL, state / "reports" / "continuity")


def _matching(resources: Resources, state: Path) -> None:
    from exportintel.cli.models import (
        render_matching_inputs,
        render_matching_metrics,
        render_scoring,
    )
    from exportintel.local.lake import LocalLake
    from exportintel.matching.local import derive, describe_recommendations, sample_matches
    from exportintel.matching.local import score as score_matching
    from exportintel.matching.local import train as train_matching
    from exportintel.settings import LOCAL

    def indented(text: str) -> None:
        print("\n".join("   " + line for line in text.splitlines()), flush=True)

    lake = LocalLake(resources, state / "work")
    indented(render_matching_inputs(derive(lake)))
    trained = train_matching(lake, LOCAL)
    indented(render_matching_metrics(trained.metrics))
    scored = score_matching(lake, LOCAL)
    indented(render_scoring(scored.version, scored.summary))
    describe_recommendations(indented, sample_matches(lake, exporters=2, shown=5))


def _queries(resources: Resources) -> None:
    from exportintel.queries import named_queries
    from exportintel.query import glue_resolver, render, run_local

    resolve = glue_resolver(resources.curated_database)
    for query in named_queries():
        table = run_local(query.sql, resolve)
        print(f"\n   -- {query.name}: {query.description}")
        print("\n".join("   " + line for line in render(table, limit=5).splitlines()))


def _serving(aws: EmulatedAws, state: Path) -> list[str]:
    """Load the serving tables, serve the API for a moment, call it; the curl calls to repeat."""
    from exportintel.local.api import serve
    from exportintel.local.serving import (
        BackgroundPump,
        curl_examples,
        load_from_lake,
        point_handlers,
        sample_ids,
        tour,
    )
    from exportintel.local.state import load_or_create_api_token

    point_handlers(aws)
    summary = load_from_lake(aws, state / "work")
    print(f"   serving tables loaded: {summary.render() if summary else 'no firms'}")
    token = load_or_create_api_token(state)
    pump = BackgroundPump(aws, state, interval=3600)  # passes run by hand here
    server = serve(token, log_requests=False)
    ids = sample_ids(aws)
    try:
        for line in tour(server.url, token, ids, pump):
            print(f"   {line}", flush=True)
    finally:
        server.shutdown()
        server.server_close()
    return curl_examples("http://127.0.0.1:8787", token, ids)


def run_demo(*, data: Path, scale: str = "small", seed: int = 7) -> int:
    from exportintel.local.state import state_dir

    started = time.perf_counter()
    state = state_dir()
    with step(f"1/9 generate the {scale} synthetic data set (seed {seed}) into {data}"):
        _generate(data, scale, seed)
    with step("2/9 start the local AWS emulation (S3, Kinesis, Firehose, Glue, Secrets Manager)"):
        aws = _emulation(state)
        resources = aws.resources
    with step("3/9 ingest: clickstream to Kinesis, feeds to Firehose, extracts to S3 raw"):
        _ingest(data, resources, state)
    with step("4/9 pump the Kinesis stream into the clickstream Firehose (moto does not)"):
        _pump(aws, state)
    with step("5/9 curate raw into the lake with the Glue job's code under local Spark"):
        _etl(resources, state)
    with step("6/9 export continuity index: status and features (Glue jobs), training and "
              "scoring (SageMaker scripts), group analysis"):  # fmt: skip
        continuity_report = _continuity(resources, state)
    with step("7/9 exporter-buyer matching: interactions and side features (Glue job), "
              "training with a held-out evaluation and scoring (SageMaker scripts)"):  # fmt: skip
        _matching(resources, state)
    with step("8/9 the analysts' named queries, Athena SQL run by DuckDB"):
        _queries(resources)
    with step("9/9 serving: the scores loaded into DynamoDB, the API's Lambda handlers on "
              "127.0.0.1 called over HTTP with the development token"):  # fmt: skip
        curls = _serving(aws, state)
    print(f"""
The demo took {time.perf_counter() - started:.0f} s. Where things are:
  raw, curated and quarantine buckets  s3://{resources.raw_bucket}/ ... (on the emulation)
  curated Parquet, mirrored locally    {state / "work" / "curated"}
  quarantined records with reasons     {state / "work" / "quarantine"}
  ETL run summaries                    s3://{resources.artifacts_bucket}/etl-runs/
  continuity models and metrics        s3://{resources.artifacts_bucket}/models/continuity/
  continuity report (in a browser)     {continuity_report}
  matching models, metrics, lists      s3://{resources.artifacts_bucket}/models/matching/
  stored recommendations               table recommendations (exportintel query)
The emulation keeps running so you can explore:
  .venv/bin/exportintel query --list
  .venv/bin/exportintel query "SELECT reason_code, count(*) n FROM quarantine GROUP BY 1"
  .venv/bin/exportintel local down     # stop it (its data is discarded)
Serve the API (same handlers, token required), then call it:
  .venv/bin/exportintel serve          # http://127.0.0.1:8787, OpenAPI at /openapi.json""")
    for line in curls:
        print(f"  {line}")
    return 0
