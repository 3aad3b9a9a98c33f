"""The demo: the whole product on the local emulation, narrated.

generate (small) -> emulation up -> ingest (Kinesis, Firehose, S3) -> pump -> the pipeline
(`exportintel.pipeline.local`, the step graph the Step Functions state machine runs in AWS):
curate every dataset (the Glue job's code under local Spark), derive the models' tables
(Glue jobs), train the three models (SageMaker scripts), the quality gate, score, load the
curated score tables and the DynamoDB serving tables, publish the risk group's changes -> what
staff and analysts get: sample matches with reasons, the risk group, the continuity report, the
named queries (DuckDB) -> the API's handlers on 127.0.0.1 called over HTTP. Every step is the
same code that runs in AWS; only the endpoints differ. With `serve`, the API then stays up.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from exportintel.resources import Resources

if TYPE_CHECKING:
    from exportintel.local.emulation import EmulatedAws
    from exportintel.pipeline.local import LocalPipeline


@contextmanager
def step(title: str) -> Iterator[None]:
    print(f"\n== {title}", flush=True)
    started = time.perf_counter()
    yield
    print(f"   done in {time.perf_counter() - started:.1f} s", flush=True)


def _generate(data: Path, scale: str, seed: int) -> None:
    from exportintel.generate import generate, is_current

    if is_current(data, scale, seed):
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


def _pipeline(aws: EmulatedAws, state: Path) -> LocalPipeline:
    from exportintel.cli.pipeline import render_step
    from exportintel.local.state import load_or_create_key
    from exportintel.pipeline.local import LocalPipeline

    pipeline = LocalPipeline(
        aws,
        state / "work",
        load_or_create_key(state),
        on_step=lambda result: print("   " + render_step(result), flush=True),
    )
    run = pipeline.run({"continuity": "train", "matching": "train", "markets": "train"})
    if not run.ok:
        raise SystemExit(f"the pipeline stopped: {run.failure}")
    return pipeline


def _results(pipeline: LocalPipeline, state: Path) -> Path:
    from exportintel.cli.models import render_matching_metrics, render_metrics
    from exportintel.continuity.local import report
    from exportintel.markets.local import sample_suggestions
    from exportintel.markets.summary import describe_suggestions
    from exportintel.markets.summary import render_metrics as render_markets_metrics
    from exportintel.matching.local import describe_recommendations, sample_matches
    from exportintel.settings import LOCAL

    def indented(text: str) -> None:
        print("\n".join("   " + line for line in text.splitlines()), flush=True)

    print("   export continuity index, held-out years:")
    indented(render_metrics(pipeline.trained["continuity"].metrics))
    print("\n   exporter-buyer matching, held-out interactions:")
    indented(render_matching_metrics(pipeline.trained["matching"].metrics))
    print()
    describe_recommendations(indented, sample_matches(pipeline.lake, exporters=2, shown=5))
    print("\n   market suggestions, held-out entries into new countries:")
    indented(render_markets_metrics(pipeline.trained["markets"].metrics))
    print()
    describe_suggestions(indented, sample_suggestions(pipeline.lake))
    print()
    indented(_risk_group(pipeline, LOCAL.continuity_risk_threshold))
    return report(pipeline.lake, LOCAL, state / "reports" / "continuity")


def _risk_group(pipeline: LocalPipeline, threshold: float, shown: int = 8) -> str:
    import pandas as pd

    index = pd.read_parquet(pipeline.lake.pull("continuity_index"), partitioning=None)
    latest = int(index["year"].max())
    year = index[index["year"] == latest]
    group = year[year["risk_group"]].sort_values(["continuity_index", "firm_id"])
    lines = [f"the risk group of {latest}: {len(group):,} of {len(year):,} firms with an index "
             f"below {threshold} (most at risk first)"]  # fmt: skip
    for row in group.head(shown).itertuples():
        factor = row.risk_factors_en[0] if len(row.risk_factors_en) else ""
        lines.append(f"  {row.firm_id}  {row.continuity_index:.2f}  {row.region:<10} "
                     f"HS {row.hs_chapter}  {factor}")  # fmt: skip
    return "\n".join(lines)


def _queries(resources: Resources) -> None:
    from exportintel.queries import named_queries
    from exportintel.query import glue_resolver, render, run_local

    resolve = glue_resolver(resources.curated_database)
    for query in named_queries():
        table = run_local(query.sql, resolve)
        print(f"\n   -- {query.name}: {query.description}")
        print("\n".join("   " + line for line in render(table, limit=5).splitlines()))


def _serving(aws: EmulatedAws, state: Path) -> list[str]:
    """Serve the API (its tables loaded by the pipeline) for a moment and call it; the curl
    calls to repeat."""
    from exportintel.local.api import serve
    from exportintel.local.serving import (
        BackgroundPump,
        curl_examples,
        point_handlers,
        sample_ids,
        tour,
    )
    from exportintel.local.state import load_or_create_api_token

    point_handlers(aws)
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


def run_demo(*, data: Path, scale: str = "small", seed: int = 7, serve: bool = False) -> int:
    from exportintel.local.state import state_dir

    started = time.perf_counter()
    state = state_dir()
    with step(f"1/7 generate the {scale} synthetic data set (seed {seed}) into {data}"):
        _generate(data, scale, seed)
    with step("2/7 start the local AWS emulation (S3, Kinesis, Firehose, Glue, DynamoDB, SNS, "
              "Secrets Manager)"):  # fmt: skip
        aws = _emulation(state)
        resources = aws.resources
    with step("3/7 ingest: clickstream to Kinesis, feeds to Firehose, extracts to S3 raw"):
        _ingest(data, resources, state)
    with step("4/7 pump the Kinesis stream into the clickstream Firehose (moto does not)"):
        _pump(aws, state)
    with step("5/7 the pipeline, step for step as the Step Functions state machine runs it: "
              "curate (Glue jobs under local Spark), derive, train the three models (SageMaker "
              "scripts), quality gate, score, load DynamoDB and the score tables, "
              "risk alerts"):  # fmt: skip
        pipeline = _pipeline(aws, state)
    with step("6/7 what staff and analysts get: held-out metrics, matches with reasons, markets "
              "to try, the risk group, the named queries (Athena SQL run by DuckDB)"):  # fmt: skip
        continuity_report = _results(pipeline, state)
        _queries(resources)
    with step("7/7 serving: the API's Lambda handlers on 127.0.0.1 called over HTTP with the "
              "development token"):  # fmt: skip
        curls = _serving(aws, state)
    print(f"""
The demo took {time.perf_counter() - started:.0f} s. Where things are:
  raw, curated and quarantine buckets  s3://{resources.raw_bucket}/ ... (on the emulation)
  curated Parquet, mirrored locally    {state / "work" / "curated"}
  quarantined records with reasons     {state / "work" / "quarantine"}
  ETL run summaries                    s3://{resources.artifacts_bucket}/etl-runs/
  models, metrics, gate verdicts       s3://{resources.artifacts_bucket}/models/<model>/<version>/
  the serving versions                 .venv/bin/exportintel versions list matching
  continuity report (in a browser)     {continuity_report}
  stored recommendations               table recommendations (exportintel query)
  market suggestions                   table market_suggestions (exportintel query)
The emulation keeps running so you can explore:
  .venv/bin/exportintel query --list
  .venv/bin/exportintel query "SELECT reason_code, count(*) n FROM quarantine GROUP BY 1"
  .venv/bin/exportintel pipeline run --matching score --continuity skip --markets skip
      # re-score matching only (a model left out is trained)
  .venv/bin/exportintel local down     # stop it (its data is discarded)
Serve the API (same handlers, token required), then call it:
  .venv/bin/exportintel serve          # or SERVE=1 make demo""")
    for line in curls:
        print(f"  {line}")
    if serve:
        from exportintel.local.serving import keep_serving

        print()
        keep_serving(aws, state, port=8787)
    return 0
