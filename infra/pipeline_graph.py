"""The step graph (`exportintel.pipeline.graph`) as Step Functions states.

The graph's `Chain`s become chains of states, its `Parallel` blocks `Parallel` states, and each
`Step` a task (or a few) named after it (`state_name`). A step that depends on its model's
mode sits behind a Choice on `$.modes.<model>` (`Should<State>`), which skips it otherwise.
A new model version that fails the quality gate takes `Notify<Model>GateFailed` to
`<Model>GateFailed`; only the gate promotes, so the previous version keeps serving.

Here are the step builders and the Glue and Lambda tasks they use; the SageMaker tasks are in
`infra.pipeline_tasks`, the retries and alerts every task gets in `infra.pipeline_guards`.
Every state is created in the scope given (the `Pipeline` construct), as state names are
construct ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from exportintel.pipeline.graph import Chain, Parallel, Step, pipeline
from exportintel.settings import EnvironmentSettings
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl, pascal
from infra.pipeline_guards import TaskGuard
from infra.pipeline_tasks import (
    MODEL_DIR,
    OUTPUT_DIR,
    SCORES_DIR,
    Path_,
    input_dir,
    input_flag,
    local_module,
    processing_task,
    scoring_inputs,
    train_task,
)
from infra.serving_tables import ServingTables
from infra.training import Training, table_prefix


def state_name(step: Step) -> str:
    """The task state that runs `step`: `curate-exporters` -> `CurateExporters`."""
    return pascal(step.kind) + pascal(step.target)


class PipelineGraph:
    """Builds the states of the pipeline in `scope`, starting with the run's preparation."""

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        guard: TaskGuard,
        function: lambda_.IFunction,
        etl: Etl,
        derived_jobs: DerivedJobs,
        training: Training,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        tables: ServingTables,
    ) -> None:
        self.scope, self.settings, self.guard, self.function = scope, settings, guard, function
        self.etl, self.derived_jobs, self.training = etl, derived_jobs, training
        self.curated_bucket, self.artifacts_bucket, self.key = curated_bucket, artifacts_bucket, key
        self.tables = tables

    def definition(self) -> sfn.Chain:
        """The whole run: prepare it, then the graph of `exportintel.pipeline.graph.pipeline`."""
        return self._prepare().next(self._node(pipeline()))

    # --- the graph ------------------------------------------------------------------------

    def _node(self, node: Chain | Parallel | Step) -> sfn.IChainable:
        if isinstance(node, Step):
            return self._step(node)
        if isinstance(node, Parallel):
            parallel = sfn.Parallel(
                self.scope,
                node.name,
                comment=f"{node.name}: branches side by side",
                result_path=sfn.JsonPath.DISCARD,
            )
            for branch in node.branches:
                parallel.branch(self._node(branch))
            return parallel
        chain: sfn.Chain | None = None
        for item in node.items:
            state = self._node(item)
            chain = sfn.Chain.start(state) if chain is None else chain.next(state)
        if chain is None:
            raise ValueError("an empty chain in the pipeline graph")
        return chain

    def _step(self, step: Step) -> sfn.IChainable:
        builders = {
            "curate": self._curate,
            "derive": self._derive,
            "train": self._train,
            "gate": self._gate,
            "score": self._score,
            "load": self._load,
            "alert": self._alert,
        }
        chain = builders[step.kind](step)
        if step.model is None or set(step.runs_when) >= {"train", "score", "skip"}:
            return chain
        wanted = [
            sfn.Condition.string_equals(f"$.modes.{step.model}", mode)
            for mode in sorted(step.runs_when)
        ]
        condition = wanted[0] if len(wanted) == 1 else sfn.Condition.or_(*wanted)
        choice = sfn.Choice(
            self.scope,
            f"Should{state_name(step)}",
            comment=f"{step.name} runs when {step.model} is {' or '.join(sorted(step.runs_when))}",
        )
        # A Pass state, not a bare default: a Choice nested in another's branch loses its
        # default transition when the outer one collects its branches' end states.
        skip = sfn.Pass(self.scope, f"Skip{state_name(step)}")
        return choice.when(condition, chain).otherwise(skip).afterwards()

    # --- Lambda and Glue tasks ------------------------------------------------------------

    def _invoke(
        self, id_: str, payload: dict[str, object], *, result_path: str | None
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self.scope,
            id_,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            retry_on_service_exceptions=False,  # retried below, with jitter
            result_path=result_path or sfn.JsonPath.DISCARD,
        )
        self.guard(task, "lambda")
        return task

    def _prepare(self) -> sfn.Chain:
        task = tasks.LambdaInvoke(
            self.scope,
            "Prepare",
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {
                    "action": "prepare",
                    "run_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "input": sfn.JsonPath.entire_payload,
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            # The run's state from here on: {"modes": {...}, "run_id": ...}.
            result_path="$",
        )
        self.guard(task, "lambda")
        return sfn.Chain.start(task)

    def _glue(self, step: Step, job_name: str, arguments: dict[str, object]) -> sfn.Chain:
        task = tasks.GlueStartJobRun(
            self.scope,
            state_name(step),
            glue_job_name=job_name,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_object(arguments) if arguments else None,
            result_path=sfn.JsonPath.DISCARD,
        )
        self.guard(task, "glue")
        return sfn.Chain.start(task)

    # --- the steps ------------------------------------------------------------------------

    def _curate(self, step: Step) -> sfn.Chain:
        job = self.etl.jobs[step.target]
        return self._glue(step, job.job_name, {"--run-id": sfn.JsonPath.string_at("$.run_id")})

    def _derive(self, step: Step) -> sfn.Chain:
        return self._glue(step, self.derived_jobs.jobs[step.target].job_name, {})

    def _train(self, step: Step) -> sfn.Chain:
        task = train_task(
            self.scope,
            state_name(step),
            model=step.target,
            settings=self.settings,
            training=self.training,
            curated_bucket=self.curated_bucket,
            artifacts_bucket=self.artifacts_bucket,
            key=self.key,
        )
        self.guard(task, "sagemaker")
        return sfn.Chain.start(task)

    def _gate(self, step: Step) -> sfn.Chain:
        model = step.target
        task = self._invoke(
            state_name(step),
            {
                "action": "gate",
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "model": model,
                "version": sfn.JsonPath.string_at("$.training.version"),
                "model_uri": sfn.JsonPath.string_at("$.training.model_uri"),
            },
            result_path="$.gate",
        )
        failed = sfn.Fail(
            self.scope,
            f"{pascal(model)}GateFailed",
            error="QualityGateFailed",
            cause=f"The new {model} version did not pass the quality gate; the previous "
            "version keeps serving.",
        )
        notify = self.guard.notify(
            f"Notify{pascal(model)}GateFailed",
            subject=f"{model} quality gate failed ({self.settings.name})",
            message={
                "step": state_name(step),
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "model": model,
                "version": sfn.JsonPath.string_at("$.gate.version"),
                "failures": sfn.JsonPath.list_at("$.gate.failures"),
                "serving": "the previous version keeps serving",
            },
            fail=failed,
        )
        verdict = sfn.Choice(self.scope, f"{pascal(model)}GateVerdict")
        rejected = sfn.Condition.boolean_equals("$.gate.passed", False)
        passed = sfn.Pass(self.scope, f"{pascal(model)}GatePassed")
        return sfn.Chain.start(task).next(
            verdict.when(rejected, notify.next(failed)).otherwise(passed).afterwards()
        )

    def _current(self, model: str) -> tasks.LambdaInvoke:
        return self._invoke(
            f"Current{pascal(model)}",
            {"action": "current", "run_id": sfn.JsonPath.string_at("$.run_id"), "model": model},
            result_path="$.current",
        )

    def _score(self, step: Step) -> sfn.Chain:
        model = step.target
        module = local_module(model)
        inputs: dict[str, tuple[str, str | Path_]] = {
            "model": (MODEL_DIR, Path_("$.current.model_uri"))
        }
        arguments = ["--model-dir", MODEL_DIR]
        for name, table in scoring_inputs(model).items():
            prefix = self.curated_bucket.s3_url_for_object(table_prefix(table))
            inputs[name] = (input_dir(name), prefix)
            arguments += [input_flag(name), input_dir(name)]
        arguments += ["--output-dir", OUTPUT_DIR, *module.scoring_arguments(self.settings)]
        task = processing_task(
            self.scope,
            state_name(step),
            job="score",
            model=model,
            script="score.py",
            arguments=arguments,
            inputs=inputs,
            output=Path_("$.current.scores_uri"),
            settings=self.settings,
            training=self.training,
            key=self.key,
        )
        self.guard(task, "sagemaker")
        return sfn.Chain.start(self._current(model)).next(task)

    def _load(self, step: Step) -> sfn.Chain:
        model = step.target
        arguments: Sequence[str | Path_] = [
            "--scores", SCORES_DIR,
            "--model-version", Path_("$.current.version"),
            "--run-id", Path_("$.run_id"),
            "--environment", self.settings.name,
            "--curated-bucket", self.curated_bucket.bucket_name,
            "--artifacts-bucket", self.artifacts_bucket.bucket_name,
            "--firms-table", self.tables.table("firms").table_name,
            "--matches-table", self.tables.table("matches").table_name,
            "--continuity-table", self.tables.table("continuity").table_name,
            "--markets-table", self.tables.table("markets").table_name,
        ]  # fmt: skip
        task = processing_task(
            self.scope,
            state_name(step),
            job="load",
            model=model,
            script="load.py",
            arguments=arguments,
            inputs={"scores": (SCORES_DIR, Path_("$.current.scores_uri"))},
            output=None,
            settings=self.settings,
            training=self.training,
            key=self.key,
        )
        self.guard(task, "sagemaker")
        return sfn.Chain.start(task)

    def _alert(self, step: Step) -> sfn.Chain:
        task = self._invoke(
            state_name(step),
            {"action": "alert", "run_id": sfn.JsonPath.string_at("$.run_id"), "model": step.target},
            result_path="$.alerts",
        )
        return sfn.Chain.start(task)
