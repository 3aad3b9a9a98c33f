"""The pipeline stack: the SageMaker jobs' roles and bundles, and the state machine over them.

A stack of its own beside the platform and serving stacks: it changes with the models, and it
refers to both (the lake's buckets, key and Glue jobs; the serving tables the load step
fills) through weak cross-stack references, so it deploys after them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from exportintel.cloud.sagemaker_train import bundle_output_key, role_output_key
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl
from infra.pipeline import Pipeline
from infra.serving_tables import ServingTables
from infra.training import Training


class PipelineStack(Stack):
    """One environment's ML pipeline: training roles, source bundles, state machine, alerts."""

    training: Training
    pipeline: Pipeline

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        etl: Etl,
        derived_jobs: DerivedJobs,
        tables: ServingTables,
        **kwargs: Any,
    ) -> None:
        tags = {"project": PROJECT, "environment": settings.name}
        super().__init__(
            scope,
            id_,
            description=f"Export Intelligence Platform ({settings.name}): ML pipeline (Step "
            "Functions over Glue and SageMaker), quality gate, alerts",
            tags=tags,
            **kwargs,
        )
        self.settings = settings
        for tag, value in tags.items():
            Tags.of(self).add(tag, value)

        self.training = Training(
            self,
            "Training",
            settings=settings,
            curated_bucket=curated_bucket,
            artifacts_bucket=artifacts_bucket,
            key=key,
            tables=tables,
        )
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            settings=settings,
            etl=etl,
            derived_jobs=derived_jobs,
            training=self.training,
            curated_bucket=curated_bucket,
            artifacts_bucket=artifacts_bucket,
            key=key,
            tables=tables,
        )
        self._outputs()

    def _outputs(self) -> None:
        pipeline, training = self.pipeline, self.training
        outputs = {
            "PipelineStateMachineArn": (
                pipeline.state_machine.state_machine_arn,
                'The pipeline; start it with {"modes": {"matching": "train"|"score"}}',
            ),
            "PipelineAlertsTopicArn": (
                pipeline.alerts_topic.topic_arn,
                "Failed steps and failed quality gates; subscribe operators here",
            ),
            "RiskChangesTopicArn": (
                pipeline.risk_topic.topic_arn,
                "Firms entering or leaving the risk group; officers subscribe with filters",
            ),
            "PipelineStartsDeadLetterQueueUrl": (
                pipeline.dead_letter_queue.queue_url,
                "Scheduled starts EventBridge could not deliver",
            ),
            "XgboostImageUri": (training.image_uri, "The SageMaker XGBoost framework image"),
        }
        for model, role in training.roles.items():
            # The keys `exportintel.cloud.sagemaker_train` reads back.
            outputs[role_output_key(model)] = (
                role.role_arn,
                f"Execution role of the {model} SageMaker jobs",
            )
            outputs[bundle_output_key(model)] = (
                training.bundles[model].s3_object_url,
                f"sourcedir.tar.gz of the {model} jobs",
            )
        for id_, (value, description) in outputs.items():
            CfnOutput(self, id_, value=value, description=description)
