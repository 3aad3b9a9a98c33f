"""The serving stack: the serving tables, the staff sign-in, the API, the live counters and the
staff dashboard's site.

A stack of its own beside the platform: the API and its functions change far more often than
the lake, and a failed API deployment then rolls back without touching the lake's resources.
It takes the platform's clickstream stream, data key and pseudonymisation secret, which it reads
from the platform stack's outputs (weak cross-stack references, `cdk.json`), so the platform
deploys first.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from exportintel.resources import output_key
from exportintel.serving.resources import ServingResources
from exportintel.serving.tables import TABLES
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.api import Api
from infra.counters import LiveCounters
from infra.dashboard_site import DashboardSite, site_content
from infra.serving_tables import ServingTables
from infra.staff_sign_in import StaffSignIn


class ServingStack(Stack):
    """One environment's serving tables, staff sign-in, REST API, live counters and dashboard."""

    tables: ServingTables
    sign_in: StaffSignIn
    api: Api
    counters: LiveCounters
    site: DashboardSite

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        clickstream: kinesis.IStream,
        key: kms.IKey,
        pseudonymisation_secret: secretsmanager.ISecret,
        **kwargs: Any,
    ) -> None:
        tags = {"project": PROJECT, "environment": settings.name}
        super().__init__(
            scope,
            id_,
            description=f"Export Intelligence Platform ({settings.name}): serving tables, API "
            "with Cognito sign-in, live counters, staff dashboard",
            tags=tags,
            **kwargs,
        )
        self.settings = settings
        for tag, value in tags.items():
            Tags.of(self).add(tag, value)

        self.tables = ServingTables(self, "Tables", settings=settings, key=key)
        self.sign_in = StaffSignIn(self, "SignIn", settings=settings)
        self.api = Api(
            self,
            "Api",
            settings=settings,
            user_pool=self.sign_in.user_pool,
            tables=self.tables,
            clickstream=clickstream,
            pseudonymisation_secret=pseudonymisation_secret,
        )
        self.counters = LiveCounters(
            self,
            "Counters",
            settings=settings,
            tables=self.tables,
            clickstream=clickstream,
            key=key,
            pseudonymisation_secret=pseudonymisation_secret,
        )
        self.site = DashboardSite(
            self,
            "Site",
            settings=settings,
            sign_in=self.sign_in,
            rest_api=self.api.rest_api,
            content=site_content(),
            web_acl_arn=settings.dashboard_web_acl_arn,
        )
        self._outputs()
        self._site_outputs()

    def _outputs(self) -> None:
        """One output per `ServingResources` field, so `from_stack_outputs` reads them back."""
        sign_in = self.sign_in
        names: dict[str, tuple[str, str]] = {
            f"{spec.role}_table": (
                self.tables.of(spec).table_name,
                f"DynamoDB table: {spec.description}",
            )
            for spec in TABLES
        }
        names |= {
            "api_url": (self.api.url, "Invoke URL of the serving API's stage"),
            "user_pool_id": (
                sign_in.user_pool.user_pool_id,
                "Cognito user pool of staff (`exportintel users add` invites them)",
            ),
            "staff_client_id": (
                sign_in.staff_client.user_pool_client_id,
                "App client of the staff dashboard (authorization code + PKCE, no secret)",
            ),
            "systems_client_id": (
                sign_in.systems_client.user_pool_client_id,
                "App client of other agency systems (client credentials; secret in Cognito)",
            ),
            "user_pool_domain": (sign_in.auth_domain, "Host name of the hosted sign-in pages"),
            "counters_dead_letter_queue_url": (
                self.counters.dead_letter_queue.queue_url,
                "Clickstream records the live counters gave up on (shard and sequence numbers)",
            ),
        }
        expected = {f.name for f in fields(ServingResources)}
        if set(names) != expected:
            raise ValueError(
                f"serving outputs {sorted(names)} differ from ServingResources {sorted(expected)}"
            )
        for name, (value, description) in names.items():
            CfnOutput(self, output_key(name), value=value, description=description)

    def _site_outputs(self) -> None:
        """The dashboard's address, its bucket and its distribution (for a manual invalidation)."""
        site = self.site
        for key, value, description in (
            ("DashboardUrl", site.url, "The staff dashboard (sign in with a staff account)"),
            ("DashboardBucket", site.bucket.bucket_name, "S3 bucket holding the dashboard's files"),
            (
                "DashboardDistributionId",
                site.distribution.distribution_id,
                "CloudFront distribution of the dashboard and /api/* (for invalidations)",
            ),
        ):
            CfnOutput(self, key, value=value, description=description)
