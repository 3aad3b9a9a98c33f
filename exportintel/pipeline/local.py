"""The pipeline on the emulation: the step graph of `exportintel.pipeline.graph` walked step by
step with the code each step runs in AWS.

- curate: the Glue curation job's code under local Spark, one dataset at a time;
- derive: the derived-table Glue jobs' code under local Spark;
- train / score: the SageMaker scripts as processes with the `SM_*` folders;
- gate: the quality gate on the new version's `metrics.json`; only a pass makes it current;
- load: the curated score tables and the DynamoDB serving tables (`exportintel.pipeline.load`);
- alert: the risk group's changes published to the emulated SNS topic.

Branches that run in parallel in Step Functions run one after the other here (two cores are
better spent on one Spark job or training at a time). The first failing step stops the run, as
in Step Functions, and an alert goes to the emulated alerts topic.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from exportintel.glue_jobs import DERIVED_JOBS
from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.pipeline import actions, versions
from exportintel.pipeline.graph import Mode, Step, parse_modes, steps
from exportintel.settings import PROJECT, EnvironmentSettings

if TYPE_CHECKING:
    from exportintel.local.emulation import EmulatedAws

Status = Literal["done", "skipped", "failed"]


def alerts_topic_name(settings: EnvironmentSettings) -> str:
    return f"{PROJECT}-{settings.name}-pipeline-alerts"


def risk_topic_name(settings: EnvironmentSettings) -> str:
    return f"{PROJECT}-{settings.name}-risk-changes"


class GateFailed(RuntimeError):
    """The new version did not pass the quality gate: the previous one keeps serving."""

    def __init__(self, verdict: Mapping[str, Any]) -> None:
        super().__init__("; ".join(verdict["failures"]))
        self.verdict = verdict


@dataclass
class StepResult:
    step: Step
    status: Status
    seconds: float = 0.0
    detail: str = ""


@dataclass
class PipelineRun:
    run_id: str
    modes: dict[str, Mode]
    results: list[StepResult] = field(default_factory=list)
    failure: str | None = None  # what stopped the run, as the alert said

    @property
    def ok(self) -> bool:
        return self.failure is None

    def result(self, name: str) -> StepResult | None:
        return next((r for r in self.results if r.step.name == name), None)


def derive_functions() -> dict[str, Callable[[Any, Mapping[str, str]], dict[str, Any]]]:
    """The body of each derived-table Glue job (`exportintel.glue_jobs.DERIVED_JOBS`)."""
    from exportintel.continuity.derive import derive_export_status, derive_features
    from exportintel.matching.derive import derive_matching_inputs

    return {
        "export_status": derive_export_status,
        "continuity_features": derive_features,
        "matching_inputs": derive_matching_inputs,
    }


class LocalPipeline:
    """One environment's pipeline on the emulation (`aws`), staging tables in `workdir`."""

    def __init__(
        self,
        aws: EmulatedAws,
        workdir: Path,
        key: bytes,
        *,
        settings: EnvironmentSettings | None = None,
        on_step: Callable[[StepResult], None] | None = None,
    ) -> None:
        self.aws = aws
        self.settings = settings or aws.settings
        self.lake = LocalLake(aws.resources, workdir)
        self.key = key
        self.on_step = on_step
        # The last run's training and scoring runs per model (what the demo reports).
        self.trained: dict[str, Any] = {}
        self.scored: dict[str, Any] = {}

    # --- running -------------------------------------------------------------------------

    def run(
        self, modes: Mapping[str, str] | None = None, *, run_id: str | None = None
    ) -> PipelineRun:
        """Every step of the graph whose model's mode asks for it, in the graph's order."""
        run = PipelineRun(
            run_id or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"), parse_modes(modes)
        )
        self.trained.clear()
        self.scored.clear()
        for step in steps():
            if not step.runs(run.modes):
                self._record(run, StepResult(step, "skipped"))
                continue
            started = time.perf_counter()
            try:
                detail = self.execute(step, run)
            except Exception as error:  # every failure stops the run with an alert
                seconds = time.perf_counter() - started
                self._record(run, StepResult(step, "failed", seconds, _reason(error)))
                run.failure = self._alert_failure(step, run, error)
                return run
            self._record(run, StepResult(step, "done", time.perf_counter() - started, detail))
        return run

    def _record(self, run: PipelineRun, result: StepResult) -> None:
        run.results.append(result)
        if self.on_step is not None:
            self.on_step(result)

    def execute(self, step: Step, run: PipelineRun) -> str:
        action = getattr(self, f"_{step.kind}")
        detail: str = action(step.target, run)
        return detail

    # --- the steps ---------------------------------------------------------------------------

    def _curate(self, dataset: str, run: PipelineRun) -> str:
        from exportintel.etl.local_runner import run_local_etl

        (summary,) = run_local_etl(
            resources=self.aws.resources,
            workdir=self.lake.workdir,
            key=self.key,
            datasets=[dataset],
            run_id=run.run_id,
        )
        if not summary.reconciled:
            raise RuntimeError(f"{dataset}: read != written + quarantined + duplicates")
        return (
            f"read {summary.read:,}, written {summary.written:,}, "
            f"quarantined {summary.quarantined:,}, duplicates {summary.duplicates:,}"
        )

    def _derive(self, name: str, run: PipelineRun) -> str:
        from exportintel.etl.session import spark_session

        job = next(j for j in DERIVED_JOBS if j.name == name)
        paths = {t: str(self.lake.pull(t)) for t in job.reads if t not in job.writes}
        for table in job.writes:
            paths[table] = str(self.lake.mirror(table).folder)
        if not any(has_data(Path(paths[t])) for t in job.reads if t not in job.writes):
            raise NotReady(f"{name}: no curated input yet")
        summary = derive_functions()[name](spark_session(f"{PROJECT}-local-{name}"), paths)
        for table in job.writes:
            self.lake.publish(table)
        return _summary_text(summary, job.writes)

    def _train(self, model: str, run: PipelineRun) -> str:
        trained = model_module(model).train(
            self.lake, self.settings, job_name=f"{model}-{run.run_id}"
        )
        self.trained[model] = trained
        return f"version {trained.version} registered (not serving until the gate passes)"

    def _gate(self, model: str, run: PipelineRun) -> str:
        verdict = gate(self.lake, self.trained[model], model, self.settings)
        if not verdict["passed"]:
            raise GateFailed(verdict)
        return f"passed; {verdict['version']} serves now"

    def _score(self, model: str, run: PipelineRun) -> str:
        scored = model_module(model).score(self.lake, self.settings)
        self.scored[model] = scored
        return f"scored with {scored.version}"

    def _load(self, model: str, run: PipelineRun) -> str:
        from exportintel.continuity.alerts import to_json
        from exportintel.local.serving import serving_tables
        from exportintel.pipeline import load

        scored = self.scored[model]
        tables = serving_tables(self.aws)
        scores = scored.folders.output_data
        if model == "continuity":
            result = load.load_continuity(self.lake, tables, scores, scored.version)
            changes = to_json(result.risk_changes, run_id=run.run_id)
            self._put(actions.risk_changes_key(run.run_id), changes)
        elif model == "matching":
            result = load.load_matching(self.lake, tables, scores, scored.version, self.settings)
        elif model == "markets":
            result = load.load_markets(self.lake, tables, scores, scored.version)
        else:
            raise ValueError(f"no load step for model {model!r}")
        return result.render()

    def _alert(self, model: str, run: PipelineRun) -> str:
        sns = self.aws.client("sns")
        topic = sns.create_topic(Name=risk_topic_name(self.settings))["TopicArn"]
        sent = actions.alert(
            self.aws.client("s3"),
            sns,
            bucket=self.aws.resources.artifacts_bucket,
            topic_arn=topic,
            run_id=run.run_id,
        )
        return f"{sent['changes']} risk-group changes, {sent['sent']} published to {topic}"

    # --- alerts and artifacts ------------------------------------------------------------------

    def _alert_failure(self, step: Step, run: PipelineRun, error: BaseException) -> str:
        """Publish the failure to the alerts topic (as the state machine's failure path does)."""
        message: dict[str, Any] = {
            "pipeline_run": run.run_id,
            "step": step.name,
            "error": type(error).__name__,
            "cause": _reason(error),
        }
        if isinstance(error, GateFailed):
            message["verdict"] = dict(error.verdict)
        sns = self.aws.client("sns")
        topic = sns.create_topic(Name=alerts_topic_name(self.settings))["TopicArn"]
        sns.publish(
            TopicArn=topic,
            Subject=f"{PROJECT} pipeline stopped at {step.name}"[:100],
            Message=json.dumps(message, indent=2, default=str),
        )
        return f"{step.name}: {message['cause']}"

    def _put(self, key: str, body: str) -> None:
        self.aws.client("s3").put_object(
            Bucket=self.aws.resources.artifacts_bucket, Key=key, Body=body.encode("utf-8")
        )


def gate(
    lake: LocalLake, trained: Any, model: str, settings: EnvironmentSettings
) -> dict[str, Any]:
    """The state machine's gate (`actions.gate`) on a freshly trained version: its verdict is
    recorded beside it, and it becomes current only on a pass."""
    import boto3

    return actions.gate(
        boto3.client("s3"),
        bucket=lake.resources.artifacts_bucket,
        settings=settings,
        model=model,
        version=trained.version,
        model_uri=trained.model_uri,
    )


# Each model's steps on the emulation (`train`, `score`) and the arguments its SageMaker jobs
# take from the settings (`training_arguments`, `scoring_arguments`; the CDK app reads these).
MODEL_MODULES = {
    "continuity": "exportintel.continuity.local",
    "matching": "exportintel.matching.local",
    "markets": "exportintel.markets.local",
}


def model_module(model: str) -> Any:
    """The model's local module (imported on first use: each pulls in its model's code)."""
    if model not in MODEL_MODULES:
        raise ValueError(f"no model {model!r}; models: {', '.join(MODEL_MODULES)}")
    return importlib.import_module(MODEL_MODULES[model])


def _summary_text(summary: Mapping[str, Any], tables: tuple[str, ...]) -> str:
    parts = []
    for table in tables:
        part = summary.get(table, summary)
        rows = part.get("rows") if isinstance(part, Mapping) else None
        if rows is not None:
            parts.append(f"{table} {int(rows):,} rows")
    return ", ".join(parts) or ", ".join(tables)


def _reason(error: BaseException) -> str:
    if isinstance(error, (GateFailed, NotReady, versions.NoVersion, actions.AlertsNotSent)):
        return str(error)
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, RuntimeError):
        text += "\n" + "".join(traceback.format_exception(error)[-3:])
    return text[:2000]
