"""A small lake on the emulation, built the way `make demo` builds it, once per test session:
generated, ingested, pumped, curated, and the three models derived, trained, scored and loaded.

Its own environment ("e2e") on the session's server keeps its buckets, stream and tables apart
from the other tests'. The AWS_* variables that point boto3 at the server are set only while
a test talks to it (`lake.aws_environment()`), so `mock_aws` tests elsewhere stay isolated.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from exportintel.continuity.local import ScoreRun
from exportintel.etl.curate import RunSummary
from exportintel.generate import GenerateSummary, generate
from exportintel.ingest.runner import IngestClients, IngestReport, ingest
from exportintel.local import models
from exportintel.local.emulation import EmulatedAws
from exportintel.local.lake import LocalLake
from exportintel.local.pump import Pump, PumpResult
from exportintel.local.state import load_or_create_key
from exportintel.markets import local as markets_local
from exportintel.matching import local as matching_local
from exportintel.resources import Resources
from tests.local.harness import RunningEmulation

ENVIRONMENT = "e2e"
SCALE, SEED = "tiny", 11


@dataclass
class SmallLake:
    aws: EmulatedAws
    root: Path
    data: Path
    workdir: Path
    key: bytes
    generated: GenerateSummary
    ingested: IngestReport
    pumped: PumpResult
    summaries: dict[str, RunSummary] = field(default_factory=dict)
    derived: dict[str, dict[str, object]] = field(default_factory=dict)
    continuity_model: models.TrainedModel | None = None
    continuity_scores: ScoreRun | None = None
    matching_inputs: dict[str, object] = field(default_factory=dict)
    matching_model: models.TrainedModel | None = None
    matching_scores: models.SummarisedScoreRun | None = None
    continuity_verdict: dict[str, object] | None = None
    matching_verdict: dict[str, object] | None = None
    markets_model: models.TrainedModel | None = None
    markets_verdict: dict[str, object] | None = None
    markets_scores: models.SummarisedScoreRun | None = None
    markets_loaded: str = ""

    @property
    def resources(self) -> Resources:
        return self.aws.resources

    @contextlib.contextmanager
    def aws_environment(self) -> Iterator[None]:
        saved = {name: os.environ.get(name) for name in self.aws.environ()}
        os.environ.update(self.aws.environ())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def run_etl(self, run_id: str) -> dict[str, RunSummary]:
        from exportintel.etl.local_runner import run_local_etl

        with self.aws_environment():
            summaries = run_local_etl(
                resources=self.resources, workdir=self.workdir, key=self.key, run_id=run_id
            )
        return {s.dataset: s for s in summaries}


def run_continuity(lake: SmallLake) -> None:
    """derive -> train -> score, as `exportintel derive|train|score continuity` run them."""
    from exportintel.continuity.local import derive, publish, score, train
    from exportintel.pipeline.local import gate
    from exportintel.settings import LOCAL

    local = LocalLake(lake.resources, lake.workdir)
    with lake.aws_environment():
        derive(local, on_table=lambda summary: lake.derived.update({summary["dataset"]: summary}))
        lake.continuity_model = train(local, LOCAL, job_name="continuity-e2e")
        lake.continuity_verdict = gate(local, lake.continuity_model, "continuity", LOCAL)
        lake.continuity_scores = score(local, LOCAL)
        publish(local, lake.continuity_scores)


def run_matching(lake: SmallLake) -> None:
    """derive -> train -> score, as `exportintel derive|train|score matching` run them."""
    from exportintel.pipeline.local import gate
    from exportintel.settings import LOCAL

    local = LocalLake(lake.resources, lake.workdir)
    with lake.aws_environment():
        lake.matching_inputs = matching_local.derive(local)
        lake.matching_model = matching_local.train(local, LOCAL, job_name="matching-e2e")
        lake.matching_verdict = gate(local, lake.matching_model, "matching", LOCAL)
        lake.matching_scores = matching_local.score(local, LOCAL)
        matching_local.publish(local, lake.matching_scores)


def run_markets(lake: SmallLake) -> None:
    """train -> gate -> score -> load, as the pipeline's markets branch runs them."""
    from exportintel.local.serving import serving_tables
    from exportintel.pipeline.load import load_markets
    from exportintel.pipeline.local import gate
    from exportintel.settings import LOCAL

    local = LocalLake(lake.resources, lake.workdir)
    with lake.aws_environment():
        lake.markets_model = markets_local.train(local, LOCAL, job_name="markets-e2e")
        lake.markets_verdict = gate(local, lake.markets_model, "markets", LOCAL)
        lake.markets_scores = markets_local.score(local, LOCAL)
        scores = lake.markets_scores
        result = load_markets(
            local, serving_tables(lake.aws), scores.folders.output_data, scores.version
        )
        lake.markets_loaded = result.render()


def build_small_lake(emulation: RunningEmulation, root: Path) -> SmallLake:
    aws = emulation.environment(ENVIRONMENT)
    data = root / "generated"
    generated = generate(scale=SCALE, seed=SEED, out=data)
    lake = SmallLake(
        aws=aws, root=root, data=data, workdir=root / "work",
        key=load_or_create_key(emulation.state), generated=generated,
        ingested=IngestReport(), pumped=PumpResult(),
    )  # fmt: skip
    with lake.aws_environment():
        lake.ingested = ingest(
            data, lake.resources, IngestClients.from_environment(),
            dead_letter_dir=root / "dead-letter",
        )  # fmt: skip
        pump = Pump(kinesis=aws.client("kinesis"), firehose=aws.client("firehose"),
                    s3=aws.client("s3"), resources=lake.resources)  # fmt: skip
        lake.pumped = pump.run_once()
    lake.summaries = lake.run_etl("first")
    run_continuity(lake)
    run_matching(lake)
    run_markets(lake)
    return lake
