"""`exportintel alerts subscribe`: officers' e-mails on the pipeline stack's risk topic (moto)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.cli import alerts

REGION = "ap-northeast-2"
STACK = "Dev-Pipeline"


@pytest.fixture
def topic_arn() -> Iterator[str]:
    """The risk topic, and a pipeline stack whose output names it."""
    with mock_aws():
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="risk-changes")[
            "TopicArn"
        ]
        template = {
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {
                "RiskChangesTopicArn": {"Value": topic},
                "StateMachineArn": {"Value": "arn:states"},
            },
        }
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        cloudformation.create_stack(
            StackName="Dev-Serving",
            TemplateBody=json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}),
        )
        yield topic


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="exportintel")
    alerts.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["alerts", "subscribe", *argv])
    result: int = args.run(args)
    return result


def _subscriptions(topic_arn: str) -> dict[str, dict[str, Any]]:
    """Endpoint -> attributes of the topic's e-mail subscriptions."""
    sns = boto3.client("sns", region_name=REGION)
    found = {}
    for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        attributes = sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])
        found[s["Endpoint"]] = attributes["Attributes"]
    return found


def test_an_officer_subscribes_to_their_regions_and_chapters(
    topic_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        "kim@kotra.example",
        "--region",
        "Busan",
        "--hs-chapter",
        "85",
        "--hs-chapter",
        "8",
        "--stack",
        STACK,
        "--aws-region",
        REGION,
    )
    assert code == 0
    attributes = _subscriptions(topic_arn)["kim@kotra.example"]
    assert attributes["Protocol"] == "email"
    assert json.loads(attributes["FilterPolicy"]) == {
        "region": ["Busan"],
        "hs_chapter": ["08", "85"],
    }
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    out = capsys.readouterr().out
    assert f"subscribed kim@kotra.example to {topic_arn}" in out
    assert "region Busan; hs_chapter 08, 85" in out


def test_subscribing_again_replaces_the_filter(topic_arn: str) -> None:
    assert _run("lee@kotra.example", "--region", "Seoul", "--topic-arn", topic_arn) == 0
    assert _run("lee@kotra.example", "--change", "entered", "--topic-arn", topic_arn) == 0
    subscriptions = _subscriptions(topic_arn)
    assert len(subscriptions) == 1
    assert json.loads(subscriptions["lee@kotra.example"]["FilterPolicy"]) == {"change": ["entered"]}
    # No flag at all: the filter is cleared (an empty object; SNS refuses an empty string).
    assert _run("lee@kotra.example", "--topic-arn", topic_arn) == 0
    assert json.loads(_subscriptions(topic_arn)["lee@kotra.example"]["FilterPolicy"]) == {}


def test_no_filter_means_every_change(topic_arn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("park@kotra.example", "--topic-arn", topic_arn) == 0
    assert not _subscriptions(topic_arn)["park@kotra.example"].get("FilterPolicy")
    assert "every firm entering or leaving" in capsys.readouterr().out


def test_the_subscription_is_pending_until_confirmed() -> None:
    """Real SNS answers PendingConfirmation "true" for a new e-mail subscription."""

    class PendingSns:
        def get_paginator(self, _: str) -> Any:
            return type("P", (), {"paginate": lambda self, **_: [{"Subscriptions": []}]})()

        def subscribe(self, **request: Any) -> dict[str, str]:
            self.request = request
            return {"SubscriptionArn": "arn:aws:sns:x:1:risk:abc"}

        def get_subscription_attributes(self, **_: Any) -> dict[str, Any]:
            return {"Attributes": {"PendingConfirmation": "true"}}

    sns = PendingSns()
    result = alerts.subscribe(sns, "arn:topic", "choi@kotra.example", {"region": ["Jeju"]})
    assert result.pending and not result.updated
    assert sns.request["ReturnSubscriptionArn"] is True
    assert sns.request["Attributes"] == {
        "FilterPolicy": '{"region": ["Jeju"]}',
        "FilterPolicyScope": "MessageAttributes",
    }


def test_bad_input_and_a_stack_without_the_topic_are_refused(
    topic_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("kim@kotra.example", "--stack", "Dev-Serving", "--aws-region", REGION) == 2
    assert "no RiskChangesTopicArn output" in capsys.readouterr().err
    assert _run("Kim Minji", "--topic-arn", topic_arn) == 2
    assert "not an e-mail address" in capsys.readouterr().err
    assert _run("kim@kotra.example", "--hs-chapter", "851", "--topic-arn", topic_arn) == 2
    assert "not an HS chapter" in capsys.readouterr().err
    assert _run("kim@kotra.example", "--stack", "Nowhere", "--aws-region", REGION) == 1
    assert "ValidationError" in capsys.readouterr().err
    assert _subscriptions(topic_arn) == {}


def test_regions_are_checked_and_the_topic_is_required_once() -> None:
    with pytest.raises(SystemExit):
        _run("kim@kotra.example", "--region", "Pusan", "--stack", STACK)
    with pytest.raises(SystemExit):
        _run("kim@kotra.example")
    with pytest.raises(SystemExit):
        _run("kim@kotra.example", "--stack", STACK, "--topic-arn", "arn")
