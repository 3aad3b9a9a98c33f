"""The ML pipeline's state machine, built from the step graph (`exportintel.pipeline.graph`).

The graph's `Chain`s become chains of states, its `Parallel` blocks `Parallel` states, and each
`Step` a task (or a few) named after it (`state_name`). A step that depends on its model's
mode sits behind a Choice on `$.modes.<model>` (`Should<State>`), which skips it otherwise.

Every task retries transient service errors (backoff, full jitter) and catches everything else:
`Notify<State>Error` publishes the step, error and cause to the alerts topic, then
`<State>Error` fails the run. A new model version that fails the quality gate takes
`Notify<Model>GateFailed` to `<Model>GateFailed`; only the gate promotes, so the previous
version keeps serving.

Started by its schedules (`settings.pipeline_schedules`) or by hand:

    aws stepfunctions start-execution --state-machine-arn <PipelineStateMachineArn> \\
        --input '{"modes": {"matching": "score"}}'

(models left out are skipped; the execution name, if given, names the SageMaker jobs: letters,
digits and hyphens.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import ArnFormat, CfnResource, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from exportintel.pipeline import actions
from exportintel.pipeline.graph import Chain, Parallel, Step, pipeline
from exportintel.settings import EnvironmentSettings
from infra.bundling import REPO_ROOT, LambdaBundle, lambda_bundle
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl, pascal
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.pipeline_tasks import (
    MODEL_DIR,
    OUTPUT_DIR,
    SCORE_DIR,
    SCORES_DIR,
    Path_,
    local_module,
    processing_task,
    train_task,
)
from infra.removal import data_removal_policy
from infra.serving_function import ServingFunction, set_retention
from infra.serving_tables import ServingTables
from infra.training import Training, acknowledge_wildcard_resource, table_prefix

HANDLER = REPO_ROOT / "lambdas" / "pipeline" / "handler.py"
REQUIREMENTS = ("aws-lambda-powertools[tracer]", "boto3")
# Errors worth another try: the service was busy or failed on its side. Anything else (a
# failed job, a refused mode, a missing model) would fail again, so it goes to the alert.
TRANSIENT = {
    "lambda": (
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ),
    "glue": (
        "Glue.ConcurrentRunsExceededException",
        "Glue.ThrottlingException",
        "Glue.InternalServiceException",
        "Glue.OperationTimeoutException",
    ),
    "sagemaker": ("SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"),
    "sns": ("SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"),
}
# A scheduled start that EventBridge could not deliver is retried this long, then dead-lettered.
START_RETRIES = 3
START_MAX_AGE = Duration.hours(2)


def state_name(step: Step) -> str:
    """The task state that runs `step`: `curate-exporters` -> `CurateExporters`."""
    return pascal(step.kind) + pascal(step.target)


class Pipeline(Construct):
    """The state machine, its pipeline function, alert topics and schedules."""

    state_machine: sfn.StateMachine
    function: ServingFunction
    alerts_topic: sns.Topic
    risk_topic: sns.Topic
    log_group: logs.LogGroup
    dead_letter_queue: sqs.Queue
    rules: dict[str, events.Rule]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        etl: Etl,
        derived_jobs: DerivedJobs,
        training: Training,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        tables: ServingTables,
        bundle: LambdaBundle | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        self.etl, self.derived_jobs, self.training = etl, derived_jobs, training
        self.curated_bucket, self.artifacts_bucket, self.key = curated_bucket, artifacts_bucket, key
        self.tables = tables
        self.alerts_topic = sns.Topic(
            self, "PipelineAlerts", display_name="Pipeline alerts", master_key=key,
            enforce_ssl=True,
        )  # fmt: skip
        self.risk_topic = sns.Topic(
            self, "RiskChanges", display_name="Risk group changes", master_key=key,
            enforce_ssl=True,
        )  # fmt: skip
        self.function = self._function(bundle)

        definition = self._prepare().next(self._node(pipeline()))
        self.log_group = self._log_group()
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment=f"Export Intelligence ({settings.name}): curate, derive, train, gate, "
            "score, load, alert",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.hours(settings.pipeline_timeout_hours),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        self._grant_processing_jobs()
        self._depend_on_policy_only()
        self._acknowledge_state_machine()
        self._schedules()

    # --- the pipeline function ------------------------------------------------------------

    def _function(self, bundle: LambdaBundle | None) -> ServingFunction:
        bundle = bundle or lambda_bundle("pipeline", handler=HANDLER, requirements=REQUIREMENTS)
        function = ServingFunction(
            self,
            "Function",
            settings=self.settings,
            service="pipeline",
            description="Pipeline steps: prepare the run, quality gate, current version, "
            "risk-group alerts",
            bundle=bundle,
            environment={
                actions.ARTIFACTS_BUCKET_ENV: self.artifacts_bucket.bucket_name,
                actions.RISK_TOPIC_ENV: self.risk_topic.topic_arn,
            },
            # The gate streams a model archive; alerts go out in batches of ten.
            memory_mib=512,
            timeout=Duration.minutes(5),
        )
        self.artifacts_bucket.grant_read_write(function.role, "models/*")
        self.artifacts_bucket.grant_read(function.role, f"{actions.RUNS_PREFIX}/*")
        self.risk_topic.grant_publish(function.role)
        for arn, why in {
            self.artifacts_bucket.arn_for_objects("models/*"): "the gate reads a version's "
            "archive and writes its verdict, `current.json` and the promotion record under "
            "`models/`; `current` reads `current.json`",
            self.artifacts_bucket.arn_for_objects(f"{actions.RUNS_PREFIX}/*"): "the alert step "
            f"reads the run's risk changes under `{actions.RUNS_PREFIX}/<run id>/`",
        }.items():
            acknowledge_wildcard_resource(
                function.role, arn, f"The pipeline function: {why}; keys are chosen at run time."
            )
        for action, why in {
            "s3:GetObject*": "reads of model archives, verdicts and risk changes",
            "s3:GetBucket*": "bucket-level reads S3 clients make",
            "s3:List*": "listing under `models/` (a missing `current.json` reads as none)",
            "s3:DeleteObject*": "from grant_read_write on `models/`; the function only writes",
            "s3:Abort*": "aborting its own failed uploads",
        }.items():
            acknowledge(
                function.role,
                wildcard_action(action),
                f"From grant_* on the artifacts bucket's prefixes above: {why}.",
            )
        function.acknowledge_key_wildcards("Grants on the artifacts bucket and the topics")
        return function

    # --- the graph ------------------------------------------------------------------------

    def _node(self, node: Chain | Parallel | Step) -> sfn.IChainable:
        if isinstance(node, Step):
            return self._step(node)
        if isinstance(node, Parallel):
            parallel = sfn.Parallel(
                self,
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
            self,
            f"Should{state_name(step)}",
            comment=f"{step.name} runs when {step.model} is {' or '.join(sorted(step.runs_when))}",
        )
        # A Pass state, not a bare default: a Choice nested in another's branch loses its
        # default transition when the outer one collects its branches' end states.
        skip = sfn.Pass(self, f"Skip{state_name(step)}")
        return choice.when(condition, chain).otherwise(skip).afterwards()

    def _guard(self, task: sfn.TaskStateBase | sfn.CustomState, service: str) -> None:
        """Retry transient errors; send the rest to an alert and a failed run."""
        name = task.state_id
        task.add_retry(
            errors=list(TRANSIENT[service]),
            interval=Duration.seconds(30 if service in ("glue", "sagemaker") else 2),
            max_attempts=4,
            backoff_rate=2.0,
            max_delay=Duration.minutes(5),
            jitter_strategy=sfn.JitterType.FULL,
        )
        fail = sfn.Fail(self, f"{name}Error", error=f"{name}Failed", cause_path="$.error.Cause")
        notify = self._notify(
            f"Notify{name}Error",
            subject=f"Pipeline step {name} failed ({self.settings.name})",
            message={
                "step": name,
                "run_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                "error": sfn.JsonPath.string_at("$.error.Error"),
                "cause": sfn.JsonPath.string_at("$.error.Cause"),
            },
            fail=fail,
        )
        task.add_catch(notify.next(fail), errors=[sfn.Errors.ALL], result_path="$.error")

    def _notify(
        self, id_: str, *, subject: str, message: dict[str, object], fail: sfn.Fail
    ) -> tasks.SnsPublish:
        publish = tasks.SnsPublish(
            self,
            id_,
            topic=self.alerts_topic,
            subject=subject[:99],
            message=sfn.TaskInput.from_object(message),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(
            errors=list(TRANSIENT["sns"]),
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2.0,
            jitter_strategy=sfn.JitterType.FULL,
        )
        # An alert that cannot be sent must not hide the failure it reports: fail anyway.
        publish.add_catch(fail, errors=[sfn.Errors.ALL], result_path="$.notify_error")
        return publish

    def _invoke(
        self, id_: str, payload: dict[str, object], *, result_path: str | None
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            id_,
            lambda_function=self.function.function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            retry_on_service_exceptions=False,  # retried below, with jitter
            result_path=result_path or sfn.JsonPath.DISCARD,
        )
        self._guard(task, "lambda")
        return task

    def _prepare(self) -> sfn.Chain:
        task = tasks.LambdaInvoke(
            self,
            "Prepare",
            lambda_function=self.function.function,
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
        self._guard(task, "lambda")
        return sfn.Chain.start(task)

    def _glue(self, step: Step, job_name: str, arguments: dict[str, object]) -> sfn.Chain:
        task = tasks.GlueStartJobRun(
            self,
            state_name(step),
            glue_job_name=job_name,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_object(arguments) if arguments else None,
            result_path=sfn.JsonPath.DISCARD,
        )
        self._guard(task, "glue")
        return sfn.Chain.start(task)

    def _curate(self, step: Step) -> sfn.Chain:
        job = self.etl.jobs[step.target]
        return self._glue(step, job.job_name, {"--run-id": sfn.JsonPath.string_at("$.run_id")})

    def _derive(self, step: Step) -> sfn.Chain:
        return self._glue(step, self.derived_jobs.jobs[step.target].job_name, {})

    def _train(self, step: Step) -> sfn.Chain:
        task = train_task(
            self,
            state_name(step),
            model=step.target,
            settings=self.settings,
            training=self.training,
            curated_bucket=self.curated_bucket,
            artifacts_bucket=self.artifacts_bucket,
            key=self.key,
        )
        self._guard(task, "sagemaker")
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
            self,
            f"{pascal(model)}GateFailed",
            error="QualityGateFailed",
            cause=f"The new {model} version did not pass the quality gate; the previous "
            "version keeps serving.",
        )
        notify = self._notify(
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
        verdict = sfn.Choice(self, f"{pascal(model)}GateVerdict")
        rejected = sfn.Condition.boolean_equals("$.gate.passed", False)
        passed = sfn.Pass(self, f"{pascal(model)}GatePassed")
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
        if model == "continuity":
            features = self.curated_bucket.s3_url_for_object(table_prefix("continuity_features"))
            inputs["score"] = (SCORE_DIR, features)
            arguments += ["--score", SCORE_DIR]
        arguments += ["--output-dir", OUTPUT_DIR, *module.scoring_arguments(self.settings)]
        task = processing_task(
            self,
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
        self._guard(task, "sagemaker")
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
        ]  # fmt: skip
        task = processing_task(
            self,
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
        self._guard(task, "sagemaker")
        return sfn.Chain.start(task)

    def _alert(self, step: Step) -> sfn.Chain:
        task = self._invoke(
            state_name(step),
            {"action": "alert", "run_id": sfn.JsonPath.string_at("$.run_id"), "model": step.target},
            result_path="$.alerts",
        )
        return sfn.Chain.start(task)

    # --- logs, permissions, schedules -----------------------------------------------------

    def _log_group(self) -> logs.LogGroup:
        """Execution history (LogLevel.ALL), encrypted with a key of its own.

        CloudWatch Logs may use the key for this one log group, named after the stack so
        that the key's policy can name it before it exists (the lake key's policy is the
        platform stack's).
        """
        stack = Stack.of(self)
        name = f"/aws/vendedlogs/states/{stack.stack_name}-pipeline"
        key = kms.Key(
            self,
            "LogsKey",
            description=f"Export Intelligence ({self.settings.name}): pipeline execution logs",
            enable_key_rotation=True,
            removal_policy=data_removal_policy(self.settings),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PipelineLogsEncryption",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=name,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=name,
            encryption_key=key,
            removal_policy=data_removal_policy(self.settings),
        )
        set_retention(log_group, self.settings.log_retention_days)
        return log_group

    def _grant_processing_jobs(self) -> None:
        """What `createProcessingJob.sync` needs (CDK grants it for its own tasks only)."""
        stack = Stack.of(self)
        role = self.state_machine.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ProcessingJobs",
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:AddTags",
                    "sagemaker:ListTags",
                ],
                resources=[
                    stack.format_arn(
                        service="sagemaker", resource="processing-job", resource_name=f"{m}-*"
                    )
                    for m in self.training.roles
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ProcessingJobEvents",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    stack.format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerProcessingJobsRule",
                    )
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassJobRoles",
                actions=["iam:PassRole"],
                resources=[r.role_arn for r in self.training.roles.values()],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        # Job volumes are encrypted with the lake key, which SageMaker attaches by a grant.
        self.key.grant(role, "kms:CreateGrant", "kms:DescribeKey")

    def _depend_on_policy_only(self) -> None:
        """Keep the state machine's DependsOn on its role's policy, not on the role, which
        `Fn::GetAtt` already orders (cfn-lint W3005), as `ServingFunction` does."""
        policy = self.state_machine.role.node.try_find_child("DefaultPolicy")
        if policy is None or not isinstance(policy.node.default_child, CfnResource):
            return
        machine = cast(sfn.CfnStateMachine, self.state_machine.node.default_child)
        machine.add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy.node.default_child)]
        )

    def _acknowledge_state_machine(self) -> None:
        role = self.state_machine.role
        stack = Stack.of(self)
        acknowledge(
            role,
            wildcard_resource(self, f"{self.function.function.function_arn}:*"),
            "Invoking the pipeline function: CDK grants its versions and aliases too "
            "(`<function ARN>:*`); this one function only.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and "
            "CloudWatch Logs delivery (logs:CreateLogDelivery and friends) have no "
            "resource-level permissions.",
        )
        acknowledge(
            role,
            wildcard_resource(
                self,
                stack.format_arn(service="sagemaker", resource="training-job", resource_name="*"),
            ),
            "Training jobs are named `<model>-<run id>` at run time (the JSONPath name makes "
            "CDK grant every training job name); creating one needs iam:PassRole on the "
            "models' roles, which is limited to them.",
        )
        for model in self.training.roles:
            acknowledge(
                role,
                wildcard_resource(
                    self,
                    stack.format_arn(
                        service="sagemaker",
                        resource="processing-job",
                        resource_name=f"{model}-*",
                    ),
                ),
                f"Processing jobs of the {model} model are named `{model}-<score|load>-<run "
                "id>` at run time; only that model's names.",
            )

    def _schedules(self) -> None:
        self.dead_letter_queue = sqs.Queue(
            self,
            "StartsDeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(self.settings.dead_letter_retention_days),
            removal_policy=data_removal_policy(self.settings),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the pipeline's schedules (starts "
            "EventBridge could not deliver); operators read and replay them by hand.",
        )
        self.rules = {}
        for schedule in self.settings.pipeline_schedules:
            self.rules[schedule.name] = events.Rule(
                self,
                f"{pascal(schedule.name)}Schedule",
                description=f"{schedule.description or schedule.name} "
                f"({schedule.cron.expression()}, UTC)",
                schedule=events.Schedule.expression(schedule.cron.expression()),
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        input=events.RuleTargetInput.from_object({"modes": dict(schedule.modes)}),
                        dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=START_RETRIES,
                        max_event_age=START_MAX_AGE,
                    )
                ],
            )
