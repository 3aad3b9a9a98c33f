"""The operations stack: the alarm topic and the monitoring of one environment.

A stack of its own, deployed after the platform and serving stacks (and the pipeline's, when
its state machine is given): it only reads their resources' names (weak cross-stack
references, `cdk.json`), so dashboards and thresholds change without touching them, and
nothing there depends on it.

The topic is encrypted with a key of its own rather than the lake's: CloudWatch must be allowed
to use the topic's key to publish alarm notifications, and that grant belongs on a key that
protects nothing but notifications. Subscriptions (operators' e-mail addresses, a chat
integration) are added to the topic outside the stack, or by a later setting.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from exportintel.settings import PROJECT, EnvironmentSettings
from infra.monitoring import Monitoring
from infra.platform_stack import PlatformStack
from infra.serving_stack import ServingStack

# The shortest waiting period KMS allows: the key protects notifications in flight only.
KEY_DELETION_WINDOW = Duration.days(7)


class OperationsStack(Stack):
    """One environment's alarm topic (KMS-encrypted, TLS only), dashboard and alarms."""

    key: kms.Key
    topic: sns.Topic
    monitoring: Monitoring

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        platform: PlatformStack,
        serving: ServingStack,
        state_machine: sfn.IStateMachine | None = None,
        **kwargs: Any,
    ) -> None:
        tags = {"project": PROJECT, "environment": settings.name}
        super().__init__(
            scope,
            id_,
            description=f"Export Intelligence Platform ({settings.name}): dashboard, alarms "
            "and their notification topic",
            tags=tags,
            **kwargs,
        )
        self.settings = settings
        for tag, value in tags.items():
            Tags.of(self).add(tag, value)

        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Export Intelligence ({settings.name}): encrypts alarm notifications",
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            # Nothing at rest depends on it once the topic is gone.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Export Intelligence ({settings.name}) alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self._allow_cloudwatch_alarms()

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            topic=self.topic,
            ingestion=platform.ingestion,
            collectors=platform.collectors,
            etl=platform.etl,
            derived_jobs=platform.derived_jobs,
            api=serving.api,
            counters=serving.counters,
            tables=serving.tables,
            state_machine=state_machine,
        )
        self._outputs()

    def _allow_cloudwatch_alarms(self) -> None:
        """Let CloudWatch alarms of this account and region publish to the encrypted topic.

        CloudWatch publishes as its service principal: it needs the topic's key (data keys and
        decrypt) and sns:Publish in the topic policy, which `enforce_ssl` creates and so
        replaces the default one. Both are limited to alarms of this account and region.
        """
        conditions = {
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnLike": {
                "aws:SourceArn": self.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            },
        }
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )

    def _outputs(self) -> None:
        dashboard_name = self.monitoring.dashboard.dashboard_name
        outputs = {
            "AlarmTopicArn": (
                self.topic.topic_arn,
                "SNS topic every alarm notifies: subscribe operators to it",
            ),
            "DashboardName": (dashboard_name, "CloudWatch dashboard of the environment"),
            "DashboardUrl": (
                Fn.join(
                    "",
                    [
                        f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region=",
                        self.region,
                        "#dashboards:name=",
                        dashboard_name,
                    ],
                ),
                "The dashboard in the CloudWatch console",
            ),
        }
        for id_, (value, description) in outputs.items():
            CfnOutput(self, id_, value=value, description=description)
