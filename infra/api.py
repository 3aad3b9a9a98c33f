"""The serving API: Cognito sign-in, an API Gateway REST API and one Lambda function per unit.

Everything comes from `exportintel.serving.functions`: the resource tree from the routes'
paths, each method's OAuth scopes, each function's environment and what its role may reach
(its tables, the clickstream stream, the pseudonymisation key). A function gets exactly the
grants its spec names.

Who calls: staff through the dashboard (authorization code flow with PKCE on a public client,
MFA required) and other agency systems (client credentials, with the scopes in
`EnvironmentSettings.systems_client_scopes`). Staff are invited by an administrator
(`exportintel users add`); nobody signs up. Every method takes a Cognito access token with one
of its route's scopes: no method is open, OPTIONS included (CORS is off: the dashboard will be
served from the same CloudFront distribution as the API, so browsers send no preflight).

Limits: stage throttling (rate and burst from settings) caps all callers together; a usage plan
with a daily quota is attached to the stage for systems that later get their own API key.
Errors from API Gateway itself (authorisation, throttling, validation, integration failures)
come back as JSON `{"error": <type>, "message": <text>}`, like the functions' own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import AssetHashType, Aws, CfnResource, Duration, Fn, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from exportintel.serving.functions import (
    API_FUNCTIONS,
    ENVIRONMENT_ENV,
    KEY_SECRET_ENV,
    METRICS_NAMESPACE,
    RESOURCE_SERVER,
    SCOPES,
    STREAM_ENV,
    FunctionSpec,
    Route,
)
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.bundling import LambdaBundle, api_bundle
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.removal import data_removal_policy
from infra.serving_tables import ServingTables

# Python 3.11 and x86_64 like the collectors: the bundles hold cp311 manylinux x86_64 wheels.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
HANDLER = "handler.lambda_handler"
# The URL's first path segment.
STAGE_NAME = "v1"
# Invited staff sign in within this many days, or an administrator invites them again.
TEMPORARY_PASSWORD_DAYS = 7
PASSWORD_MIN_LENGTH = 12
# A working day: staff sign in again (with MFA) each morning.
STAFF_SESSION = Duration.hours(12)
TOKEN_VALIDITY = Duration.hours(1)
_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\}")
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
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


def _retention(log_group: logs.LogGroup, days: int) -> None:
    # The L2 only takes the RetentionDays enum; the setting is a plain number of days.
    cast(logs.CfnLogGroup, log_group.node.default_child).retention_in_days = days


class ServingFunction(Construct):
    """A serving Lambda with its own role and log group; the caller adds the grants.

    The role is explicit: the default one carries the AWSLambdaBasicExecutionRole managed
    policy (logs on every group), while this one writes to its own log group only.
    """

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        service: str,
        description: str,
        bundle: LambdaBundle,
        environment: Mapping[str, str],
        memory_mib: int,
        timeout: Duration,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(self, "Logs", removal_policy=data_removal_policy(settings))
        _retention(self.log_group, settings.log_retention_days)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Serving function {service} ({settings.name})",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(bundle.folder),
                # The bundle folder is named by this hash already: no need to fingerprint it.
                asset_hash=bundle.content_hash,
                asset_hash_type=AssetHashType.CUSTOM,
            ),
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            memory_size=memory_mib,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **environment,
                ENVIRONMENT_ENV: settings.name,
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
        )
        self._depend_on_policy_only()
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to Python 3.11 on purpose: Glue 5.1 and the project's environment run "
            "3.11, the bundle's compiled wheels are cp311, and the core package is tested on "
            "that one version. Move every runtime together when Glue moves.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no "
            "resource-level permissions.",
        )

    def _depend_on_policy_only(self) -> None:
        """Keep the function's DependsOn on its role's policy, drop the one on the role.

        `lambda.Function` makes the function depend on the whole role construct; the role
        itself is already a dependency through `Fn::GetAtt` (cfn-lint W3005), while the policy
        must exist before the function first runs. Grants added later land in the same policy.
        """
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is None or not isinstance(policy.node.default_child, CfnResource):
            return
        cfn_function = cast(lambda_.CfnFunction, self.function.node.default_child)
        cfn_function.add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy.node.default_child)]
        )

    def grant_read_secret(self, secret: secretsmanager.ISecret) -> None:
        """`secret.grant_read` for a secret of another stack, in this role's policy only.

        On the secret itself, `grant_read` also adds the role to the secret's key policy
        (through a kms:ViaService principal, which only a resource policy can take): the
        platform stack would refer to this stack's role while this stack refers to the
        platform's outputs, a cycle. The key's policy lets the account's IAM policies grant
        its use, so the same permissions go into this role's policy: read the secret, and
        decrypt with its key through Secrets Manager only.
        """
        imported = secretsmanager.Secret.from_secret_complete_arn(
            self, f"{secret.node.id}Reference", secret.secret_arn
        )
        imported.grant_read(self.role)
        if secret.encryption_key is not None:
            iam.Grant.add_to_principal(
                grantee=self.role,
                actions=["kms:Decrypt"],
                resource_arns=[secret.encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{Stack.of(self).region}.amazonaws.com"
                    }
                },
            )

    def acknowledge_key_wildcards(self, why: str) -> None:
        """The KMS wildcard actions of encrypting grants (`why`: which grants, on what)."""
        for action, what in {
            "kms:ReEncrypt*": "re-encryption with the platform's data key",
            "kms:GenerateDataKey*": "data keys of the platform's data key",
        }.items():
            acknowledge(self.role, wildcard_action(action), f"{why}: {what}, that key only.")

    def acknowledge_index_wildcards(self, tables: Sequence[dynamodb.Table], why: str) -> None:
        """The `<table>/index/*` resources DynamoDB grants add for tables with indexes."""
        for table in tables:
            acknowledge(
                self.role,
                wildcard_resource(self, f"{table.table_arn}/index/*"),
                f"{why}: the queries go through the table's global secondary indexes, whose "
                "ARNs are the table's ARN under /index/; this table's indexes only.",
            )


class Api(Construct):
    """User pool and app clients, the REST API, and one function per `FunctionSpec`."""

    user_pool: cognito.UserPool
    resource_server: cognito.UserPoolResourceServer
    staff_client: cognito.UserPoolClient
    systems_client: cognito.UserPoolClient
    domain: cognito.UserPoolDomain
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
        tables: ServingTables,
        clickstream: kinesis.IStream,
        pseudonymisation_secret: secretsmanager.ISecret,
        specs: Sequence[FunctionSpec] = API_FUNCTIONS,
        bundles: Mapping[str, LambdaBundle] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        self._user_pool()
        self._clients()
        self.functions = {}
        for spec in specs:
            bundle = bundles[spec.unit] if bundles is not None else api_bundle(spec.unit)
            self.functions[spec.unit] = self._function(
                spec, bundle, tables, clickstream, pseudonymisation_secret
            )
        self._rest_api()
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

    @property
    def auth_domain(self) -> str:
        """The host name of the hosted sign-in (`<prefix>.auth.<region>.amazoncognito.com`)."""
        return f"{self.domain.domain_name}.auth.{Stack.of(self).region}.amazoncognito.com"

    def _user_pool(self) -> None:
        settings = self.settings
        removal = data_removal_policy(settings)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Staff accounts are created by an administrator (`exportintel users add`), who
            # checks the person works at the agency; nobody can sign up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # An address change takes effect only once the new address is verified.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            # An authenticator app (TOTP) for everyone: no SMS role, no per-message cost.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus: threat protection blocks sign-ins with leaked credentials and risky ones.
            # Charged per monthly active user, and the users are the agency's staff: a few
            # hundred at most.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"Export Intelligence Platform ({settings.name}): your account",
                email_body=(
                    f"You are invited to the Export Intelligence Platform ({settings.name}). "
                    "Sign in with {username} and the temporary password {####} within "
                    f"{TEMPORARY_PASSWORD_DAYS} days; you will then choose your own password "
                    "and set up an authenticator app."
                ),
            ),
            removal_policy=removal,
            deletion_protection=settings.retain_data,
        )
        self.scopes = {
            scope.name: cognito.ResourceServerScope(
                scope_name=scope.name, scope_description=scope.description
            )
            for scope in SCOPES
        }
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer",
            identifier=RESOURCE_SERVER,
            user_pool_resource_server_name="Export Intelligence API",
            scopes=list(self.scopes.values()),
        )
        prefix = settings.auth_domain_prefix
        if prefix is not None and not _DOMAIN_PREFIX.match(prefix):
            raise ValueError(f"auth_domain_prefix {prefix!r}: lower-case letters, digits, '-'")
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=prefix if prefix is not None else self._generated_domain_prefix()
            ),
        )

    def _generated_domain_prefix(self) -> str:
        """`exportintel-<env>-` and the first group of the stack id's UUID (8 hex digits).

        Domain prefixes are unique among all accounts of a region; the stack id is generated
        by CloudFormation, so the prefix is neither a hard-coded name nor the account number,
        and stays the same for the stack's life.
        """
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return Fn.join("-", [PROJECT, self.settings.name, Fn.select(0, Fn.split("-", stack_uuid))])

    def _clients(self) -> None:
        settings = self.settings
        unknown = set(settings.systems_client_scopes) - set(self.scopes)
        if unknown:
            raise ValueError(
                f"systems_client_scopes {sorted(unknown)}: not in {sorted(self.scopes)}"
            )
        if not settings.staff_callback_urls:
            raise ValueError("staff_callback_urls: the staff client needs a callback URL")

        def scopes(names: Sequence[str]) -> list[cognito.OAuthScope]:
            return [
                cognito.OAuthScope.resource_server(self.resource_server, self.scopes[name])
                for name in names
            ]

        # Public client (no secret: the dashboard runs in a browser or on a staff member's
        # machine); sign-in through the hosted pages only, where MFA and threat protection
        # apply. Cognito accepts PKCE on this flow and the dashboard sends it.
        self.staff_client = self.user_pool.add_client(
            "StaffClient",
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    *scopes([scope.name for scope in SCOPES]),
                ],
                callback_urls=list(settings.staff_callback_urls),
                logout_urls=list(settings.staff_logout_urls),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY,
            id_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=STAFF_SESSION,
        )
        # Another agency system: client id and generated secret, handed over by an operator.
        self.systems_client = self.user_pool.add_client(
            "SystemsClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=scopes(settings.systems_client_scopes),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY,
        )
        for client in (self.staff_client, self.systems_client):
            # No password, SRP or custom flows through the API (Cognito's defaults when none
            # are listed): staff sign in on the hosted pages, systems by client credentials.
            cfn_client = cast(cognito.CfnUserPoolClient, client.node.default_child)
            cfn_client.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]

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

    def _rest_api(self) -> None:
        settings = self.settings
        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", removal_policy=data_removal_policy(settings)
        )
        _retention(self.access_log_group, settings.log_retention_days)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
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
            "scope, the stage is throttled, and the web ACL belongs on the CloudFront "
            "distribution that will serve the dashboard and this API under one origin.",
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
            self, "Authorizer", cognito_user_pools=[self.user_pool]
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
