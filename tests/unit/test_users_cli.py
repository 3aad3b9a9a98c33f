"""`exportintel users add`: staff invited into the serving stack's user pool (moto)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.cli import users

REGION = "ap-northeast-2"
STACK = "Dev-Serving"


@pytest.fixture
def pool_id() -> Iterator[str]:
    """A user pool signing in by e-mail, and a serving stack whose output names it."""
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool = cognito.create_user_pool(
            PoolName="staff",
            UsernameAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )["UserPool"]["Id"]
        template = {
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"UserPoolId": {"Value": pool}, "ApiUrl": {"Value": "https://api/v1/"}},
        }
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        cloudformation.create_stack(
            StackName="Dev-Platform",
            TemplateBody=json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}),
        )
        yield pool


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="exportintel")
    users.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["users", "add", *argv])
    result: int = args.run(args)
    return result


def _attributes(pool_id: str, email: str) -> tuple[dict[str, str], str]:
    user = boto3.client("cognito-idp", region_name=REGION).admin_get_user(
        UserPoolId=pool_id, Username=email
    )
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}, user["UserStatus"]


def test_a_staff_member_is_invited_into_the_pool_of_the_serving_stack(
    pool_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run("kim@kotra.example", "--name", "Kim Minji", "--stack", STACK, "--region", REGION)
    assert code == 0
    attributes, status = _attributes(pool_id, "kim@kotra.example")
    assert attributes["email"] == "kim@kotra.example"
    assert attributes["email_verified"] == "true"
    assert attributes["name"] == "Kim Minji"
    assert status == "FORCE_CHANGE_PASSWORD"
    assert f"invited kim@kotra.example in {pool_id}" in capsys.readouterr().out


def test_the_pool_can_be_given_directly_and_the_name_is_optional(pool_id: str) -> None:
    assert _run("lee@kotra.example", "--user-pool-id", pool_id, "--region", REGION) == 0
    attributes, _ = _attributes(pool_id, "lee@kotra.example")
    assert "name" not in attributes


def _captured_requests(cognito: Any) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        requests.append(dict(params))

    cognito.meta.events.register("provide-client-params.cognito-idp.AdminCreateUser", capture)
    return requests


def test_the_invitation_goes_by_email_and_can_be_sent_again(pool_id: str) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    requests = _captured_requests(cognito)
    users.invite(cognito, pool_id, "park@kotra.example", name="Park")
    users.invite(cognito, pool_id, "park@kotra.example", resend=True)
    first, again = requests
    assert first["DesiredDeliveryMediums"] == ["EMAIL"]
    assert first["Username"] == "park@kotra.example"
    assert "MessageAction" not in first  # Cognito sends the invitation
    assert {"Name": "email_verified", "Value": "true"} in first["UserAttributes"]
    assert again["MessageAction"] == "RESEND"
    assert again["DesiredDeliveryMediums"] == ["EMAIL"]


def test_inviting_someone_twice_says_how_to_resend(
    pool_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("choi@kotra.example", "--user-pool-id", pool_id, "--region", REGION) == 0
    assert _run("choi@kotra.example", "--user-pool-id", pool_id, "--region", REGION) == 1
    error = capsys.readouterr().err
    assert "UsernameExistsException" in error and "--resend" in error


def test_a_stack_without_a_user_pool_output_or_a_bad_address_is_refused(
    pool_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("kim@kotra.example", "--stack", "Dev-Platform", "--region", REGION) == 2
    assert "no UserPoolId output" in capsys.readouterr().err
    assert _run("Kim Minji", "--user-pool-id", pool_id, "--region", REGION) == 2
    assert "not an e-mail address" in capsys.readouterr().err
    assert _run("kim@kotra.example", "--stack", "Nowhere", "--region", REGION) == 1
    assert "ValidationError" in capsys.readouterr().err


def test_the_pool_is_required_once() -> None:
    with pytest.raises(SystemExit):
        _run("kim@kotra.example")
    with pytest.raises(SystemExit):
        _run("kim@kotra.example", "--stack", STACK, "--user-pool-id", "pool")
