"""The serving stack: tables from their specs, a Cognito-protected API from the routes, each
function reaching only what its spec names, and the live counters on the clickstream."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.api import ManualArgs, lint_file

from exportintel.resources import output_key
from exportintel.serving.functions import (
    API_FUNCTIONS,
    COUNTER_TABLES,
    ENVIRONMENT_ENV,
    KEY_SECRET_ENV,
    RESOURCE_SERVER,
    SCOPES,
    STREAM_ENV,
    FunctionSpec,
    all_routes,
)
from exportintel.serving.resources import ServingResources
from exportintel.serving.tables import TABLES, TableSpec, local_table_name
from exportintel.settings import DEFAULT_REGION, DEV, LOCAL, PROD, PROJECT, EnvironmentSettings
from infra.api import ACCESS_LOG_FIELDS, path_parameters
from infra.application import cdk_json_context
from infra.bundling import LambdaBundle
from infra.counters import LiveCounters
from infra.platform_stack import PlatformStack
from infra.serving_function import ServingFunction
from infra.serving_stack import ServingStack
from infra.serving_tables import ServingTables
from infra.staff_sign_in import StaffSignIn
from tests.infra.support import (
    SynthesisedApp,
    as_list,
    get_att_arn,
    logical_id,
    of_type,
    properties,
    resource,
    role_statements,
)

WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:BatchWriteItem"}  # fmt: skip
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
STREAM_WRITE_ACTIONS = {"kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"}
SECRET_READ_ACTIONS = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
KEY_READ_ACTIONS = {"kms:Decrypt", "kms:DescribeKey"}
KEY_WRITE_ACTIONS = {"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
# Rules the serving resources pass on their merits: never acknowledged.
RULES_MET = {
    "AwsSolutions-COG1",  # strong password policy
    "AwsSolutions-COG2",  # MFA required
    "AwsSolutions-COG4",  # API Gateway methods use the Cognito authorizer
    "AwsSolutions-COG8",  # Plus feature plan (threat protection)
    "AwsSolutions-APIG1",  # access logging
    "AwsSolutions-APIG2",  # request validation
    "AwsSolutions-APIG4",  # authorisation on every method
    "AwsSolutions-DDB3",  # point-in-time recovery
    "AwsSolutions-SQS2",  # SSE
    "AwsSolutions-SQS4",  # TLS only
    "AwsSolutions-IAM4",  # no managed policies
}


def _target(value: Any, platform: PlatformStack) -> str:
    """A policy statement's resource as a readable target: a logical id of this stack, or
    `<id>/index/*`, or the platform resource it imports (stream, key, secret), or `*`."""
    if value == "*":
        return "*"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        resource_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return str(resource_id)
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, [head, tail] = value["Fn::Join"]
        assert delimiter == "" and tail == "/index/*", value
        return f"{_target(head, platform)}/index/*"
    imported = json.dumps(value)
    for name, construct in {
        "stream": platform.ingestion.clickstream,
        "key": platform.data_lake.key,
        "secret": platform.etl.pseudonymisation_secret,
    }.items():
        # Cross-stack references name the producing resource's logical id.
        if logical_id(platform, construct) in imported:
            return name
    raise AssertionError(f"unexpected resource {imported}")


def _grants(template: Template, role_id: str, platform: PlatformStack) -> dict[str, set[str]]:
    """{target: actions} over every statement of the role's policies; conditions apart."""
    grants: dict[str, set[str]] = {}
    for statement in role_statements(template, role_id):
        assert statement["Effect"] == "Allow"
        for value in as_list(statement["Resource"]):
            target = _target(value, platform)
            if "Condition" in statement:
                target += f" if {json.dumps(statement['Condition'], sort_keys=True)}"
            grants.setdefault(target, set()).update(as_list(statement["Action"]))
    return grants


def _table_ids(stack: ServingStack, specs: tuple[TableSpec, ...]) -> set[str]:
    return {logical_id(stack, stack.tables.of(spec)) for spec in specs}


# --- tables -------------------------------------------------------------------------------


def _attribute_type(spec: TableSpec, name: str) -> str:
    keys = [spec.partition_key, spec.sort_key]
    keys += [k for index in spec.indexes for k in (index.partition_key, index.sort_key)]
    [type_] = {key.type for key in keys if key is not None and key.name == name}
    return type_


@pytest.mark.parametrize(("env", "retained"), [("dev", False), ("prod", True)])
def test_one_table_per_spec_on_demand_kms_encrypted_and_recoverable(
    env: str, retained: bool, request: pytest.FixtureRequest
) -> None:
    stack: ServingStack = request.getfixturevalue(f"{env}_serving_stack")
    template: Template = request.getfixturevalue(f"{env}_serving_template")
    platform: PlatformStack = request.getfixturevalue(f"{env}_stack")
    assert set(stack.tables.tables) == {spec.role for spec in TABLES}
    assert len(of_type(template, "AWS::DynamoDB::Table")) == len(TABLES)
    for spec in TABLES:
        table = resource(template, logical_id(stack, stack.tables.of(spec)))
        props = table["Properties"]
        assert "TableName" not in props
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        sse = props["SSESpecification"]
        assert (sse["SSEEnabled"], sse["SSEType"]) == (True, "KMS")
        assert _target(sse["KMSMasterKeyId"], platform) == "key"
        key_schema = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
        if spec.sort_key:
            key_schema.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
        assert props["KeySchema"] == key_schema
        assert {
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        } == {
            (a["AttributeName"], _attribute_type(spec, a["AttributeName"]))
            for a in props["AttributeDefinitions"]
        }
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": spec.ttl_attribute,
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in props
        indexes = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {index.name for index in spec.indexes}
        for index in spec.indexes:
            found = indexes[index.name]
            assert found["Projection"] == {"ProjectionType": "ALL"}
            schema = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
            if index.sort_key:
                schema.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            assert found["KeySchema"] == schema
        assert table["DeletionPolicy"] == ("Retain" if retained else "Delete")
        assert props["DeletionProtectionEnabled"] is retained


def test_only_the_counters_table_expires_items() -> None:
    assert [spec.role for spec in TABLES if spec.ttl_attribute] == ["counters"]


# --- API: routes, authorisation, validation ------------------------------------------------


def _paths(template: Template, rest_api_id: str) -> dict[str, str]:
    """{resource logical id: path} of the API's resource tree (the root is `/`)."""
    resources = of_type(template, "AWS::ApiGateway::Resource")
    root = {"Fn::GetAtt": [rest_api_id, "RootResourceId"]}

    def path(resource_id: str) -> str:
        props = resources[resource_id]["Properties"]
        parent = props["ParentId"]
        prefix = "" if parent == root else path(parent["Ref"])
        return f"{prefix}/{props['PathPart']}"

    return {resource_id: path(resource_id) for resource_id in resources}


def _methods(stack: ServingStack, template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """{(HTTP method, path): method properties}."""
    rest_api_id = logical_id(stack, stack.api.rest_api)
    paths = _paths(template, rest_api_id)
    methods = {}
    for body in of_type(template, "AWS::ApiGateway::Method").values():
        props = body["Properties"]
        target = props["ResourceId"]
        path = "/" if "Fn::GetAtt" in target else paths[target["Ref"]]
        methods[(props["HttpMethod"], path)] = props
    return methods


def test_the_resource_tree_serves_exactly_the_declared_routes(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    methods = _methods(dev_serving_stack, dev_serving_template)
    assert set(methods) == {(route.method, route.path) for _, route in all_routes()}
    assert len(methods) == len(all_routes())
    paths = _paths(
        dev_serving_template, logical_id(dev_serving_stack, dev_serving_stack.api.rest_api)
    )
    # Shared segments are one resource: `/matches/{exporter_id}` once for save and dismiss.
    assert len(paths) == len(set(paths.values()))
    prefixes = {
        "/".join(route.path.split("/")[:depth])
        for _, route in all_routes()
        for depth in range(2, route.path.count("/") + 2)
    }
    assert set(paths.values()) == prefixes


def test_every_method_takes_a_cognito_token_with_its_routes_scopes(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    authorizer_id = logical_id(dev_serving_stack, dev_serving_stack.api.authorizer)
    authorizer = properties(dev_serving_template, authorizer_id)
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [
        get_att_arn(logical_id(dev_serving_stack, dev_serving_stack.sign_in.user_pool))
    ]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    methods = _methods(dev_serving_stack, dev_serving_template)
    for _, route in all_routes():
        props = methods[(route.method, route.path)]
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert props["AuthorizerId"] == {"Ref": authorizer_id}
        assert props["AuthorizationScopes"] == [scope.full_name for scope in route.scopes]
        assert not props.get("ApiKeyRequired", False)
    # No open method anywhere, preflight included: CORS is off.
    assert '"AuthorizationType": "NONE"' not in json.dumps(dev_serving_template.to_json())
    assert all(method != "OPTIONS" for method, _ in methods)
    assert "Access-Control-Allow-Origin" not in json.dumps(dev_serving_template.to_json())


def test_scopes_are_the_resource_servers(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    server = properties(
        dev_serving_template,
        logical_id(dev_serving_stack, dev_serving_stack.sign_in.resource_server),
    )
    assert server["Identifier"] == RESOURCE_SERVER
    assert server["Scopes"] == [
        {"ScopeName": scope.name, "ScopeDescription": scope.description} for scope in SCOPES
    ]
    assert {s.full_name for _, r in all_routes() for s in r.scopes} <= {s.full_name for s in SCOPES}


def test_path_parameters_are_required_and_validated(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    validator_id = logical_id(dev_serving_stack, dev_serving_stack.api.request_validator)
    validator = properties(dev_serving_template, validator_id)
    assert validator["ValidateRequestBody"] is True
    assert validator["ValidateRequestParameters"] is True
    methods = _methods(dev_serving_stack, dev_serving_template)
    for _, route in all_routes():
        props = methods[(route.method, route.path)]
        assert props["RequestValidatorId"] == {"Ref": validator_id}
        expected = {f"method.request.path.{name}": True for name in path_parameters(route.path)}
        assert props.get("RequestParameters", {}) == expected
    assert path_parameters("/matches/{exporter_id}/{buyer_id}/save") == ["exporter_id", "buyer_id"]


def test_each_method_proxies_to_its_own_function(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    methods = _methods(dev_serving_stack, dev_serving_template)
    for spec, route in all_routes():
        integration = methods[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        function_id = logical_id(
            dev_serving_stack, dev_serving_stack.api.functions[spec.unit].function
        )
        assert get_att_arn(function_id) in integration["Uri"]["Fn::Join"][1]
    # API Gateway may invoke each function, from its own method's route only.
    permissions = of_type(dev_serving_template, "AWS::Lambda::Permission")
    invoked = [p["Properties"] for p in permissions.values()
               if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]  # fmt: skip
    assert len(invoked) == len(all_routes())


def test_api_gateway_errors_come_back_as_json_error_and_message(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    responses = {
        body["Properties"]["ResponseType"]: body["Properties"]
        for body in of_type(dev_serving_template, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        template = response["ResponseTemplates"]["application/json"]
        # What API Gateway renders, with a message that needs escaping.
        rendered = template.replace("$context.error.responseType", "UNAUTHORIZED").replace(
            "$context.error.messageString", json.dumps('Unauthorized "token"')
        )
        assert json.loads(rendered) == {"error": "UNAUTHORIZED", "message": 'Unauthorized "token"'}


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_the_stage_is_traced_throttled_and_access_logged_in_json(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: ServingStack = request.getfixturevalue(f"{env}_serving_stack")
    template: Template = request.getfixturevalue(f"{env}_serving_template")
    api = stack.api
    stage = properties(template, logical_id(stack, api.rest_api.deployment_stage))
    assert stage["TracingEnabled"] is True
    [settings_all] = stage["MethodSettings"]
    assert (settings_all["HttpMethod"], settings_all["ResourcePath"]) == ("*", "/*")
    assert settings_all["ThrottlingRateLimit"] == settings.api_throttle_rate
    assert settings_all["ThrottlingBurstLimit"] == settings.api_throttle_burst
    log_group_id = logical_id(stack, api.access_log_group)
    assert {"Ref": log_group_id} in stage["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    assert json.loads(stage["AccessLogSetting"]["Format"]) == ACCESS_LOG_FIELDS
    assert "$context.requestId" in ACCESS_LOG_FIELDS.values()
    log_group = properties(template, log_group_id)
    assert log_group["RetentionInDays"] == settings.log_retention_days
    rest_api = properties(template, logical_id(stack, api.rest_api))
    assert rest_api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    # The stack creates no account-wide API Gateway settings.
    assert of_type(template, "AWS::ApiGateway::Account") == {}


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_a_usage_plan_with_throttle_and_quota_is_attached_to_the_stage_without_api_keys(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: ServingStack = request.getfixturevalue(f"{env}_serving_stack")
    template: Template = request.getfixturevalue(f"{env}_serving_template")
    plan = properties(template, logical_id(stack, stack.api.usage_plan))
    assert plan["Throttle"] == {
        "RateLimit": settings.api_throttle_rate,
        "BurstLimit": settings.api_throttle_burst,
    }
    assert plan["Quota"] == {"Limit": settings.api_daily_quota, "Period": "DAY"}
    [api_stage] = plan["ApiStages"]
    assert api_stage["ApiId"] == {"Ref": logical_id(stack, stack.api.rest_api)}
    assert api_stage["Stage"] == {"Ref": logical_id(stack, stack.api.rest_api.deployment_stage)}
    assert of_type(template, "AWS::ApiGateway::ApiKey") == {}
    assert of_type(template, "AWS::ApiGateway::UsagePlanKey") == {}


# --- Cognito -------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_staff_are_invited_never_sign_up_and_use_mfa(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: ServingStack = request.getfixturevalue(f"{env}_serving_stack")
    template: Template = request.getfixturevalue(f"{env}_serving_template")
    pool_resource = resource(template, logical_id(stack, stack.sign_in.user_pool))
    pool = pool_resource["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    invitation = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert "{username}" in invitation and "{####}" in invitation
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert "UserPoolName" not in pool
    assert pool["DeletionProtection"] == ("ACTIVE" if settings.retain_data else "INACTIVE")
    assert pool_resource["DeletionPolicy"] == ("Retain" if settings.retain_data else "Delete")
    # TOTP only: no SMS configuration, no role for Cognito to send text messages.
    assert "SmsConfiguration" not in pool
    assert "cognito-idp.amazonaws.com" not in json.dumps(of_type(template, "AWS::IAM::Role"))


def test_the_staff_client_uses_the_code_flow_without_a_secret(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    client = properties(
        dev_serving_template, logical_id(dev_serving_stack, dev_serving_stack.sign_in.staff_client)
    )
    server_id = logical_id(dev_serving_stack, dev_serving_stack.sign_in.resource_server)
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == [
        "openid",
        "email",
        *({"Fn::Join": ["", [{"Ref": server_id}, f"/{scope.name}"]]} for scope in SCOPES),
    ]
    # ... and the dashboard's distribution (tests/infra/test_dashboard_site.py).
    assert client["CallbackURLs"][:-1] == list(DEV.staff_callback_urls)
    assert client["LogoutURLs"][:-1] == list(DEV.staff_logout_urls)
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_the_systems_client_uses_client_credentials_with_the_configured_scopes(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    client = properties(
        dev_serving_template,
        logical_id(dev_serving_stack, dev_serving_stack.sign_in.systems_client),
    )
    server_id = logical_id(dev_serving_stack, dev_serving_stack.sign_in.resource_server)
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthScopes"] == [
        {"Fn::Join": ["", [{"Ref": server_id}, f"/{name}"]]} for name in DEV.systems_client_scopes
    ]
    assert "CallbackURLs" not in client
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]


def test_the_sign_in_domain_prefix_comes_from_the_stack_id(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    domain = properties(
        dev_serving_template, logical_id(dev_serving_stack, dev_serving_stack.sign_in.domain)
    )
    delimiter, [prefix, generated] = domain["Domain"]["Fn::Join"]
    assert (delimiter, prefix) == ("-", f"{PROJECT}-dev")
    assert '"Ref": "AWS::StackId"' in json.dumps(generated)
    assert "AWS::AccountId" not in json.dumps(generated)


# --- functions -----------------------------------------------------------------------------


def _function_props(stack: ServingStack, template: Template, unit: str) -> dict[str, Any]:
    return properties(template, logical_id(stack, stack.api.functions[unit].function))


@pytest.mark.parametrize("spec", API_FUNCTIONS, ids=lambda spec: spec.unit)
def test_each_api_function_gets_its_tables_stream_and_secret_through_its_environment(
    spec: FunctionSpec,
    dev_serving_stack: ServingStack,
    dev_serving_template: Template,
    dev_stack: PlatformStack,
) -> None:
    props = _function_props(dev_serving_stack, dev_serving_template, spec.unit)
    assert props["Runtime"] == "python3.11"
    assert props["Architectures"] == ["x86_64"]
    assert props["Handler"] == "handler.lambda_handler"
    assert props["MemorySize"] == spec.memory_mib
    assert props["Timeout"] == DEV.api_timeout_seconds
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props.get("ReservedConcurrentExecutions") == DEV.api_reserved_concurrency
    variables = dict(props["Environment"]["Variables"])
    expected_tables = {
        table.env_var: {"Ref": logical_id(dev_serving_stack, dev_serving_stack.tables.of(table))}
        for table in (*spec.reads, *spec.writes)
    }
    assert {k: variables.pop(k) for k in expected_tables} == expected_tables
    assert variables.pop(ENVIRONMENT_ENV) == "dev"
    assert variables.pop("POWERTOOLS_SERVICE_NAME") == spec.unit
    assert variables.pop("POWERTOOLS_METRICS_NAMESPACE") == "ExportIntel"
    if spec.puts_events:
        stream_name = variables.pop(STREAM_ENV)
        assert _target(stream_name, dev_stack) == "stream"
        assert "Arn" not in json.dumps(stream_name)  # the name, not the ARN
    if spec.reads_pseudonymisation_key:
        assert _target(variables.pop(KEY_SECRET_ENV), dev_stack) == "secret"
    assert variables == {}


@pytest.mark.parametrize("spec", API_FUNCTIONS, ids=lambda spec: spec.unit)
def test_each_api_function_reaches_only_what_its_spec_names(
    spec: FunctionSpec,
    dev_serving_stack: ServingStack,
    dev_serving_template: Template,
    dev_stack: PlatformStack,
) -> None:
    function = dev_serving_stack.api.functions[spec.unit]
    grants = _grants(dev_serving_template, logical_id(dev_serving_stack, function.role), dev_stack)
    reads = _table_ids(dev_serving_stack, spec.reads)
    writes = _table_ids(dev_serving_stack, spec.writes)
    indexed = _table_ids(
        dev_serving_stack, tuple(t for t in (*spec.reads, *spec.writes) if t.indexes)
    )

    expected = {logical_id(dev_serving_stack, function.log_group), "*", *reads, *writes}
    expected |= {f"{table_id}/index/*" for table_id in indexed}
    if spec.reads or spec.writes or spec.puts_events:
        expected.add("key")
    if spec.puts_events:
        expected.add("stream")
    if spec.reads_pseudonymisation_key:
        expected |= {"secret", _secret_key_target()}
    assert set(grants) == expected

    assert grants[logical_id(dev_serving_stack, function.log_group)] == LOG_ACTIONS
    assert grants["*"] == XRAY_ACTIONS
    for table_id in reads:
        assert grants[table_id] >= READ_ACTIONS and not grants[table_id] & WRITE_ACTIONS
    for table_id in writes:
        assert grants[table_id] >= (READ_ACTIONS | WRITE_ACTIONS)
    if spec.puts_events:
        assert grants["stream"] == STREAM_WRITE_ACTIONS
    if "key" in grants:
        writes_with_key = spec.writes or spec.puts_events
        assert grants["key"] == (
            (KEY_READ_ACTIONS if spec.reads or spec.writes else set())
            | (KEY_WRITE_ACTIONS if writes_with_key else set())
        )
    if spec.reads_pseudonymisation_key:
        assert grants["secret"] == SECRET_READ_ACTIONS
        assert grants[_secret_key_target()] == {"kms:Decrypt"}


def _secret_key_target() -> str:
    condition = {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{DEFAULT_REGION}.amazonaws.com"}
    }
    return f"key if {json.dumps(condition, sort_keys=True)}"


def test_functions_write_their_own_log_groups_and_wait_for_their_policy(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    handlers: list[ServingFunction] = [
        *dev_serving_stack.api.functions.values(),
        dev_serving_stack.counters.handler,
    ]
    for handler in handlers:
        body = resource(dev_serving_template, logical_id(dev_serving_stack, handler.function))
        log_group_id = logical_id(dev_serving_stack, handler.log_group)
        assert body["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
        assert properties(dev_serving_template, log_group_id)["RetentionInDays"] == (
            DEV.log_retention_days
        )
        role_id = logical_id(dev_serving_stack, handler.role)
        assert "ManagedPolicyArns" not in properties(dev_serving_template, role_id)
        policy = handler.role.node.find_child("DefaultPolicy")
        assert body["DependsOn"] == [logical_id(dev_serving_stack, policy)]


def test_the_platforms_key_policy_names_no_serving_role(dev_template: Template) -> None:
    """Grants on platform resources sit in the serving roles' policies: the platform stack
    never refers back to the serving stack (which refers to it)."""
    assert "Serving" not in json.dumps(dev_template.to_json())


# --- live counters -------------------------------------------------------------------------


def test_the_counters_consume_the_clickstream_with_partial_failures_and_a_dead_letter_queue(
    dev_serving_stack: ServingStack, dev_serving_template: Template, dev_stack: PlatformStack
) -> None:
    counters = dev_serving_stack.counters
    [mapping] = of_type(dev_serving_template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert _target(props["EventSourceArn"], dev_stack) == "stream"
    assert props["FunctionName"] == {"Ref": logical_id(dev_serving_stack, counters.function)}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == DEV.counters_batch_size
    assert props["MaximumRetryAttempts"] == DEV.counters_retry_attempts
    assert props["MaximumRecordAgeInSeconds"] == DEV.counters_max_record_age_hours * 3600
    queue_id = logical_id(dev_serving_stack, counters.dead_letter_queue)
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": get_att_arn(queue_id)}}


def test_the_counters_dead_letter_queue_is_kms_encrypted_tls_only_and_watched(
    dev_serving_stack: ServingStack, dev_serving_template: Template, dev_stack: PlatformStack
) -> None:
    counters = dev_serving_stack.counters
    queue_id = logical_id(dev_serving_stack, counters.dead_letter_queue)
    queue = properties(dev_serving_template, queue_id)
    assert _target(queue["KmsMasterKeyId"], dev_stack) == "key"
    assert queue["MessageRetentionPeriod"] == DEV.dead_letter_retention_days * 86400
    [policy] = [
        body["Properties"]
        for body in of_type(dev_serving_template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in body["Properties"]["Queues"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )
    alarm = properties(
        dev_serving_template, logical_id(dev_serving_stack, counters.dead_letter_alarm)
    )
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 0
    outputs = dev_serving_template.to_json()["Outputs"]
    assert outputs["CountersDeadLetterQueueUrl"]["Value"] == {"Ref": queue_id}


def test_the_counters_function_reads_the_stream_and_key_and_writes_only_its_table(
    dev_serving_stack: ServingStack, dev_serving_template: Template, dev_stack: PlatformStack
) -> None:
    handler = dev_serving_stack.counters.handler
    props = properties(dev_serving_template, logical_id(dev_serving_stack, handler.function))
    assert props["Timeout"] == DEV.counters_timeout_seconds
    assert props["MemorySize"] == DEV.counters_memory_mib
    variables = props["Environment"]["Variables"]
    [table] = COUNTER_TABLES
    table_id = logical_id(dev_serving_stack, dev_serving_stack.tables.of(table))
    assert variables[table.env_var] == {"Ref": table_id}
    assert variables["COUNTERS_TABLE"] == {"Ref": table_id}
    assert _target(variables[KEY_SECRET_ENV], dev_stack) == "secret"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "counters"

    grants = _grants(dev_serving_template, logical_id(dev_serving_stack, handler.role), dev_stack)
    queue_id = logical_id(dev_serving_stack, dev_serving_stack.counters.dead_letter_queue)
    assert set(grants) == {
        logical_id(dev_serving_stack, handler.log_group),
        "*",
        table_id,
        f"{table_id}/index/*",
        "key",
        _secret_key_target(),
        "secret",
        "stream",
        queue_id,
    }
    assert grants[table_id] >= (READ_ACTIONS | WRITE_ACTIONS)
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator"} <= grants["stream"]
    assert not grants["stream"] & {"kinesis:PutRecord", "kinesis:PutRecords"}
    assert grants[queue_id] == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert grants["secret"] == SECRET_READ_ACTIONS


# --- the stack as a whole ------------------------------------------------------------------


def test_outputs_give_everything_serving_resources_reads_back(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    everything = dev_serving_template.to_json()["Outputs"]
    # `PublishOutput...` outputs are CDK's weak cross-stack references (`cdk.json`): the
    # pipeline and operations stacks read the tables through `Fn::GetStackOutput`. The
    # `Dashboard...` outputs are for people (tests/infra/test_dashboard_site.py).
    outputs = {
        key: value
        for key, value in everything.items()
        if not key.startswith(("Publish", "Dashboard"))
    }
    assert set(outputs) == {output_key(f.name) for f in fields(ServingResources)}
    assert {f"{spec.construct_id}" for spec in TABLES} <= set(outputs)
    resolved = {key: f"value-of-{key}" for key in outputs}
    resources = ServingResources.from_stack_outputs(resolved)
    assert resources.table("pair_actions") == "value-of-PairActionsTable"
    assert resources.api_url == "value-of-ApiUrl"
    assert outputs["UserPoolId"]["Value"] == {
        "Ref": logical_id(dev_serving_stack, dev_serving_stack.sign_in.user_pool)
    }
    assert outputs["ApiUrl"]["Value"] == dev_serving_stack.resolve(dev_serving_stack.api.url)


def test_serving_resources_name_every_table_and_the_emulation_names_them_by_environment() -> None:
    table_fields = {f.name for f in fields(ServingResources) if f.name.endswith("_table")}
    assert table_fields == {f"{spec.role}_table" for spec in TABLES}
    local = ServingResources.local(LOCAL)
    assert local.table("matches") == "exportintel-local-matches"
    assert local.tables == {spec.role: local_table_name(spec, "local") for spec in TABLES}
    assert local.tables["pair_actions"] == "exportintel-local-pair-actions"
    assert local.user_pool_id is None and local.api_url is None
    assert (
        ServingResources.local(LOCAL, api_url="http://127.0.0.1:9/").api_url
        == "http://127.0.0.1:9/"
    )
    with pytest.raises(KeyError, match="no serving table 'orders'"):
        local.table("orders")
    with pytest.raises(KeyError, match="ApiUrl"):
        ServingResources.from_stack_outputs({"MatchesTable": "m"})


def test_the_serving_stacks_have_no_findings_and_meet_the_cognito_and_api_rules_outright(
    synthesised: SynthesisedApp,
) -> None:
    assert synthesised.error is None, str(synthesised.error)
    report = json.loads((synthesised.outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []
    acknowledged: dict[str, set[str]] = {}
    for construct in synthesised.app.node.find_all():
        if "/Serving/" not in f"{construct.node.path}/":
            continue
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule in entry.data:
                    acknowledged.setdefault(rule.split("::", 1)[-1].split("[")[0], set()).add(
                        construct.node.path
                    )
    assert acknowledged, "the serving stacks carry their own acknowledgements"
    assert set(acknowledged).isdisjoint(RULES_MET)
    assert set(acknowledged) == {
        "AwsSolutions-L1",
        "AwsSolutions-IAM5",
        "AwsSolutions-APIG3",
        "AwsSolutions-APIG6",
        "AwsSolutions-SQS3",
        "AwsSolutions-CFR1",
        "AwsSolutions-CFR2",
        "AwsSolutions-CFR4",
    }


def test_no_cdk_warnings_and_no_cfn_lint_findings_in_the_serving_templates(
    synthesised: SynthesisedApp, dev_serving_stack: ServingStack, prod_serving_stack: ServingStack
) -> None:
    for stack in (dev_serving_stack, prod_serving_stack):
        annotations = Annotations.from_stack(stack)
        assert annotations.find_error("*", Match.any_value()) == []
        assert annotations.find_warning("*", Match.any_value()) == []
    templates = sorted(synthesised.outdir.rglob("*Serving*.template.json"))
    assert len(templates) == 2
    unexpected = []
    for template in templates:
        for match in lint_file(template, ManualArgs(regions=[DEFAULT_REGION])):
            # CDK's own auto-delete-objects provider (dev's dashboard buckets), accepted as
            # in tests/infra/test_app.py's CFN_LINT_ACCEPTED.
            accepted = (
                match.rule.id == "W3005"
                and "CustomS3AutoDeleteObjectsCustomResourceProviderRole" in match.message
            )
            if match.rule.id.startswith(("E", "W")) and not accepted:
                unexpected.append(f"{template.name}: {match.rule.id} {match.message}")
    assert unexpected == []


def test_serving_resources_carry_tags_and_generated_names(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    assert dev_serving_stack.tags.tag_values() == {"project": PROJECT, "environment": "dev"}
    named = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::IAM::Role": "RoleName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Cognito::UserPool": "UserPoolName",
        "AWS::Cognito::UserPoolClient": "ClientName",
        "AWS::ApiGateway::UsagePlan": "UsagePlanName",
    }
    for type_, name_property in named.items():
        for resource_id, body in of_type(dev_serving_template, type_).items():
            assert name_property not in body.get("Properties", {}), resource_id
    for resource_id, body in of_type(dev_serving_template, "AWS::DynamoDB::Table").items():
        tags = {t["Key"]: t["Value"] for t in body["Properties"]["Tags"]}
        assert tags.items() >= {"project": PROJECT, "environment": "dev"}.items(), resource_id


# --- settings checked at synth -------------------------------------------------------------


def _probe(
    tmp_path: Path, settings: EnvironmentSettings
) -> tuple[cdk.Stack, ServingTables, kinesis.Stream, kms.Key, secretsmanager.Secret, LambdaBundle]:
    """A bare stack with stand-ins for the platform's resources and a one-file bundle."""
    (tmp_path / "handler.py").write_text("def lambda_handler(event, context):\n    return event\n")
    bundle = LambdaBundle(folder=tmp_path, content_hash="probe")
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(region=settings.region))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    stream = kinesis.Stream(stack, "Stream", encryption_key=key)
    secret = secretsmanager.Secret(stack, "Secret", encryption_key=key)
    tables = ServingTables(stack, "Tables", settings=settings, key=key)
    return stack, tables, stream, key, secret, bundle


def _sign_in(tmp_path: Path, settings: EnvironmentSettings) -> StaffSignIn:
    stack, *_ = _probe(tmp_path, settings)
    return StaffSignIn(stack, "SignIn", settings=settings)


def test_unknown_systems_scopes_and_missing_callbacks_fail_synth(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="systems_client_scopes"):
        _sign_in(tmp_path, dataclasses.replace(DEV, systems_client_scopes=("read", "admin")))
    with pytest.raises(ValueError, match="staff_callback_urls"):
        _sign_in(tmp_path, dataclasses.replace(DEV, staff_callback_urls=()))
    with pytest.raises(ValueError, match="auth_domain_prefix"):
        _sign_in(tmp_path, dataclasses.replace(DEV, auth_domain_prefix="Export_Intel"))


def test_a_configured_domain_prefix_is_used_as_is(tmp_path: Path) -> None:
    sign_in = _sign_in(tmp_path, dataclasses.replace(DEV, auth_domain_prefix="kotra-exportintel"))
    template = Template.from_stack(cdk.Stack.of(sign_in))
    template.has_resource_properties(
        "AWS::Cognito::UserPoolDomain", {"Domain": "kotra-exportintel"}
    )


def test_counters_may_not_wait_longer_than_the_stream_keeps_records(tmp_path: Path) -> None:
    settings = dataclasses.replace(
        DEV, kinesis_retention_hours=24, counters_max_record_age_hours=48
    )
    stack, tables, stream, key, secret, bundle = _probe(tmp_path, settings)
    with pytest.raises(ValueError, match="retention"):
        LiveCounters(
            stack,
            "Counters",
            settings=settings,
            tables=tables,
            clickstream=stream,
            key=key,
            pseudonymisation_secret=secret,
            bundle=bundle,
        )
    assert PROD.counters_max_record_age_hours <= PROD.kinesis_retention_hours
    assert DEV.counters_max_record_age_hours <= DEV.kinesis_retention_hours
