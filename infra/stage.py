"""One CDK stage per environment, built from typed settings."""

from __future__ import annotations

import os

from aws_cdk import Environment, Stage
from constructs import Construct

from exportintel.settings import EnvironmentSettings
from infra.operations_stack import OperationsStack
from infra.pipeline_stack import PipelineStack
from infra.platform_stack import PlatformStack
from infra.serving_stack import ServingStack


class PlatformStage(Stage):
    """Everything one environment deploys; `cdk deploy 'Dev/*'` deploys dev."""

    platform: PlatformStack
    serving: ServingStack
    pipeline: PipelineStack
    operations: OperationsStack

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(
            scope,
            id_,
            env=Environment(
                # No account in settings: the account of the deploying credentials (set by the
                # CDK CLI), or an environment-agnostic template when synthesised without one.
                account=settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
                region=settings.region,
            ),
        )
        self.settings = settings
        self.platform = PlatformStack(self, "Platform", settings=settings)
        self.serving = ServingStack(
            self,
            "Serving",
            settings=settings,
            clickstream=self.platform.ingestion.clickstream,
            key=self.platform.data_lake.key,
            pseudonymisation_secret=self.platform.etl.pseudonymisation_secret,
        )
        self.pipeline = PipelineStack(
            self,
            "Pipeline",
            settings=settings,
            curated_bucket=self.platform.data_lake.curated_bucket,
            artifacts_bucket=self.platform.data_lake.artifacts_bucket,
            key=self.platform.data_lake.key,
            etl=self.platform.etl,
            derived_jobs=self.platform.derived_jobs,
            tables=self.serving.tables,
        )
        self.operations = OperationsStack(
            self,
            "Operations",
            settings=settings,
            platform=self.platform,
            serving=self.serving,
            state_machine=self.pipeline.pipeline.state_machine,
        )
