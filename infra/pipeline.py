"""The ML pipeline: its state machine, pipeline function, alert topics and schedules.

The states come from the step graph (`infra.pipeline_graph`, from `exportintel.pipeline.graph`),
each task with the retries and alerts of `infra.pipeline_guards`; the scheduled starts are
`infra.schedules`. This construct holds what they share and what the state machine itself
needs: the function the Lambda steps invoke, the execution log group and its key, the
permissions CDK does not grant (processing jobs) and the acknowledgements of its role.

Started by its schedules (`settings.pipeline_schedules`) or by hand:

    aws stepfunctions start-execution --state-machine-arn <PipelineStateMachineArn> \\
        --input '{"modes": {"matching": "score"}}'

(models left out are skipped; the execution name, if given, names the SageMaker jobs: letters,
digits and hyphens.)
"""

from __future__ import annotations

from typing import cast

from aws_cdk import ArnFormat, CfnResource, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from exportintel.pipeline import actions
from exportintel.settings import EnvironmentSettings
from infra.bundling import REPO_ROOT, LambdaBundle, lambda_bundle
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.pipeline_graph import PipelineGraph
from infra.pipeline_guards import TaskGuard
from infra.removal import data_removal_policy
from infra.schedules import PipelineSchedules, add_pipeline_schedules
from infra.serving_function import ServingFunction, set_retention
from infra.serving_tables import ServingTables
from infra.training import Training, acknowledge_wildcard_resource

HANDLER = REPO_ROOT / "lambdas" / "pipeline" / "handler.py"
REQUIREMENTS = ("aws-lambda-powertools[tracer]", "boto3")


class Pipeline(Construct):
    """The state machine, its pipeline function, alert topics and schedules."""

    state_machine: sfn.StateMachine
    function: ServingFunction
    alerts_topic: sns.Topic
    risk_topic: sns.Topic
    log_group: logs.LogGroup
    schedules: PipelineSchedules
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

        # The states are this construct's children: their ids are the states' names.
        definition = PipelineGraph(
            self,
            settings=settings,
            guard=TaskGuard(self, alerts_topic=self.alerts_topic, environment=settings.name),
            function=self.function.function,
            etl=etl,
            derived_jobs=derived_jobs,
            training=training,
            curated_bucket=curated_bucket,
            artifacts_bucket=artifacts_bucket,
            key=key,
            tables=tables,
        ).definition()
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
        self.schedules = add_pipeline_schedules(
            self, settings=settings, state_machine=self.state_machine, key=key
        )
        self.dead_letter_queue = self.schedules.dead_letter_queue
        self.rules = self.schedules.rules

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

    # --- logs, permissions, acknowledgements ----------------------------------------------

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
