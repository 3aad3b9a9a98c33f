"""The serving API: an API Gateway REST API in front of one Lambda function per unit.

Everything comes from `exportintel.serving.functions`: the resource tree from the routes'
paths, each method's OAuth scopes, each function's environment and what its role may reach
(its tables, the clickstream stream, the pseudonymisation key). A function gets exactly the
grants its spec names. The functions are `ServingFunction`s (`infra.serving_function`); who
may call is `StaffSignIn` (`infra.staff_sign_in`), whose user pool this API's authorizer
takes. Every method takes a Cognito access token with one of its route's scopes: no method is
open, OPTIONS included (CORS is off: the dashboard will be served from the same CloudFront
distribution as the API, so browsers send no preflight).

Limits: stage throttling (rate and burst from settings) caps all callers together; a usage plan
with a daily quota is attached to the stage for systems that later get their own API key.
Errors from API Gateway itself (authorisation, throttling, validation, integration failures)
come back as JSON `{"error": <type>, "message": <text>}`, like the functions' own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from exportintel.serving.functions import (
    API_FUNCTIONS,
    KEY_SECRET_ENV,
    STREAM_ENV,
    FunctionSpec,
    Route,
)
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.bundling import LambdaBundle, api_bundle
from infra.nag import acknowledge
from infra.removal import data_removal_policy
from infra.serving_function import ServingFunction, set_retention
from infra.serving_tables import ServingTables

# The URL's first path segment.
STAGE_NAME = "v1"
_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\}")
# One JSON object per request. Errors of the authorizer, of validation and of the integration
# are there so a failed call can be explained from the access log alone; the caller is the
# token's client and subject (a Cognito id, no e-mail address).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "clientId": "$context.authorizer.claims.client_id",
    "subject": "$context.authorizer.claims.sub",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integration.error",
    "xrayTraceId": "$context.xrayTraceId",
}
# API Gateway's own errors in the functions' error shape. `messageString` is the message
# already quoted and escaped for JSON.
ERROR_TEMPLATE = '{"error": "$context.error.responseType", "message": $context.error.messageString}'


def path_parameters(path: str) -> list[str]:
    """The `{name}` parameters of an API Gateway path, in order."""
    return _PATH_PARAMETER.findall(path)


class Api(Construct):
    """The REST API and one function per `FunctionSpec`; the caller's user pool authorizes.

    Beside the methods: the authorizer, the request validator, JSON gateway responses, the
    stage's usage plan and its access log group.
    """

    rest_api: apigw.RestApi
    authorizer: apigw.CognitoUserPoolsAuthorizer
    request_validator: apigw.RequestValidator
    access_log_group: logs.LogGroup
    usage_plan: apigw.UsagePlan
    functions: dict[str, ServingFunction]  # by unit
    methods: dict[tuple[str, str], apigw.Method]  # by (method, path)

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        user_pool: cognito.IUserPool,
        tables: ServingTables,
        clickstream: kinesis.IStream,
        pseudonymisation_secret: secretsmanager.ISecret,
        specs: Sequence[FunctionSpec] = API_FUNCTIONS,
        bundles: Mapping[str, LambdaBundle] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        self.functions = {}
        for spec in specs:
            bundle = bundles[spec.unit] if bundles is not None else api_bundle(spec.unit)
            self.functions[spec.unit] = self._function(
                spec, bundle, tables, clickstream, pseudonymisation_secret
            )
        self._rest_api(user_pool)
        self.methods = {}
        for spec in specs:
            integration = apigw.LambdaIntegration(
                self.functions[spec.unit].function,
                proxy=True,
                # No console test invocations: one permission per method (the stage's).
                allow_test_invoke=False,
            )
            for route in spec.routes:
                self.methods[(route.method, route.path)] = self._method(route, integration)

    @property
    def url(self) -> str:
        return self.rest_api.url

    def _function(
        self,
        spec: FunctionSpec,
        bundle: LambdaBundle,
        tables: ServingTables,
        clickstream: kinesis.IStream,
        secret: secretsmanager.ISecret,
    ) -> ServingFunction:
        environment = {table.env_var: tables.of(table).table_name for table in spec.reads}
        environment |= {table.env_var: tables.of(table).table_name for table in spec.writes}
        if spec.puts_events:
            environment[STREAM_ENV] = clickstream.stream_name
        if spec.reads_pseudonymisation_key:
            environment[KEY_SECRET_ENV] = secret.secret_arn
        function = ServingFunction(
            self,
            spec.construct_id,
            settings=self.settings,
            service=spec.unit,
            description=spec.description,
            bundle=bundle,
            environment=environment,
            memory_mib=spec.memory_mib,
            timeout=Duration.seconds(self.settings.api_timeout_seconds),
            reserved_concurrency=self.settings.api_reserved_concurrency,
        )
        for table in spec.reads:
            tables.of(table).grant_read_data(function.role)
        for table in spec.writes:
            tables.of(table).grant_read_write_data(function.role)
        if spec.puts_events:
            clickstream.grant_write(function.role)
        if spec.reads_pseudonymisation_key:
            function.grant_read_secret(secret)

        grants = []
        if spec.writes:
            grants.append(f"grant_read_write_data on {', '.join(t.role for t in spec.writes)}")
        if spec.puts_events:
            grants.append("grant_write on the clickstream stream")
        if grants:
            function.acknowledge_key_wildcards(
                f"From {' and '.join(grants)}, encrypted with the platform's data key"
            )
        function.acknowledge_index_wildcards(
            [tables.of(t) for t in (*spec.reads, *spec.writes) if t.indexes],
            f"The {spec.unit} function reads or writes the table",
        )
        return function

    def _rest_api(self, user_pool: cognito.IUserPool) -> None:
        settings = self.settings
        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", removal_policy=data_removal_policy(settings)
        )
        set_retention(self.access_log_group, settings.log_retention_days)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics are keyed by API name and stage: without the environment
            # in the name, dev's and prod's figures would mix in a shared account. API names
            # need not be unique, so this is no physical name that could clash.
            rest_api_name=f"{PROJECT}-{settings.name}-api",
            description=f"Export Intelligence Platform ({settings.name}): matches, continuity, "
            "risk groups, live counters and clickstream intake",
            # Regional: the CloudFront distribution of the dashboard will sit in front of it;
            # an edge-optimised endpoint would put a second distribution in the path.
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # No account-wide CloudWatch role from this stack (see the APIG6 acknowledgement).
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                tracing_enabled=True,
                throttling_rate_limit=settings.api_throttle_rate,
                throttling_burst_limit=settings.api_throttle_burst,
            ),
        )
        # The API's URL is the ApiUrl output of the stack; not a second, generated output.
        self.rest_api.node.try_remove_child("Endpoint")
        stage = self.rest_api.deployment_stage
        acknowledge(
            stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL on the stage: every method requires a Cognito access token with a "
            "scope and the stage is throttled. The dashboard's CloudFront distribution serves "
            "this API under /api/*; a web ACL belongs there, and CloudFront's must be created "
            "in us-east-1, outside this stack (see AwsSolutions-CFR2 on the distribution).",
        )
        acknowledge(
            stage,
            "AwsSolutions-APIG6",
            "Execution logs need API Gateway's account-wide CloudWatch role, one per account "
            "and region, shared by every environment and API there, so no environment's stack "
            "owns it. The JSON access log records every request with its status, latency and "
            "the authorizer, validation and integration error messages.",
        )

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool]
        )
        # Parameters (required path parameters) are checked here; bodies and query values by
        # the functions, against the same pydantic models that generate their OpenAPI schema.
        self.request_validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        for id_, response_type in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.rest_api.add_gateway_response(
                id_, type=response_type, templates={"application/json": ERROR_TEMPLATE}
            )
        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description=f"Export Intelligence API ({settings.name}): stage-wide limits",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.api_throttle_rate, burst_limit=settings.api_throttle_burst
            ),
            quota=apigw.QuotaSettings(limit=settings.api_daily_quota, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=stage)],
        )

    def _method(self, route: Route, integration: apigw.LambdaIntegration) -> apigw.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        return resource.add_method(
            route.method,
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
            authorization_scopes=[scope.full_name for scope in route.scopes],
            request_validator=self.request_validator,
            request_parameters={
                f"method.request.path.{name}": True for name in path_parameters(route.path)
            },
        )
