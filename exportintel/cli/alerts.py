"""`exportintel alerts subscribe`: an officer's e-mail on the risk topic, filtered to their firms.

The pipeline publishes every firm entering or leaving the export continuity risk group to one
SNS topic, with the firm's region, HS chapter, size band and the change as message attributes
(`exportintel.continuity.alerts`). Each officer subscribes with a filter policy on those, so
they hear of their own firms only:

    exportintel alerts subscribe kim@kotra.example --region Busan --hs-chapter 85 \\
        --stack Dev-Pipeline

SNS e-mails a confirmation link first; nothing is delivered until the officer follows it.
Subscribing an address again replaces its filter (a confirmed subscription is updated in
place). The topic is found from the pipeline stack's `RiskChangesTopicArn` output
(`--stack`) or given directly (`--topic-arn`). `--region` is the firms' region here, so the
AWS region is `--aws-region`. Real AWS credentials apply.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

from exportintel.continuity.alerts import CHANGES, filter_policy
from exportintel.contracts.continuity import SIZE_BANDS
from exportintel.contracts.datasets import KOREAN_REGIONS
from exportintel.resources import output_key
from exportintel.settings import DEFAULT_REGION

TOPIC_OUTPUT = "risk_changes_topic_arn"  # the stack output RiskChangesTopicArn
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Subscription:
    arn: str
    policy: dict[str, list[str]]
    pending: bool  # waiting for the officer to confirm by e-mail
    updated: bool  # an existing subscription of the address got the new filter


def topic_arn_from_stack(cloudformation: Any, stack_name: str) -> str:
    """The `RiskChangesTopicArn` output of a deployed pipeline stack."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    key = output_key(TOPIC_OUTPUT)
    if key not in outputs:
        raise LookupError(
            f"stack {stack_name} has no {key} output: give the pipeline stack "
            "(Dev-Pipeline, Prod-Pipeline)"
        )
    return outputs[key]


def _existing(sns: Any, topic_arn: str, email: str) -> str | None:
    """The subscription ARN of `email` on the topic ("PendingConfirmation" while unconfirmed)."""
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page.get("Subscriptions", []):
            endpoint = str(subscription.get("Endpoint", ""))
            if subscription.get("Protocol") == "email" and endpoint.lower() == email.lower():
                return str(subscription["SubscriptionArn"])
    return None


def subscribe(sns: Any, topic_arn: str, email: str, policy: dict[str, list[str]]) -> Subscription:
    """Subscribe `email` with `policy` (an empty policy: every change), or give a confirmed
    subscription of the address the new policy."""
    if not _EMAIL.match(email):
        raise ValueError(f"{email!r} is not an e-mail address")
    existing = _existing(sns, topic_arn, email)
    if existing is not None and existing.startswith("arn:"):
        # An empty object clears a filter policy (SNS refuses an empty string).
        sns.set_subscription_attributes(
            SubscriptionArn=existing,
            AttributeName="FilterPolicy",
            AttributeValue=json.dumps(policy, sort_keys=True),
        )
        current = sns.get_subscription_attributes(SubscriptionArn=existing)["Attributes"]
        if policy and current.get("FilterPolicyScope", "MessageAttributes") != "MessageAttributes":
            sns.set_subscription_attributes(
                SubscriptionArn=existing,
                AttributeName="FilterPolicyScope",
                AttributeValue="MessageAttributes",
            )
        return Subscription(arn=existing, policy=policy, pending=False, updated=True)
    attributes: dict[str, str] = {}
    if policy:
        attributes = {
            "FilterPolicy": json.dumps(policy, sort_keys=True),
            "FilterPolicyScope": "MessageAttributes",
        }
    arn = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="email",
        Endpoint=email,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    current = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    pending = str(current.get("PendingConfirmation", "true")).lower() == "true"
    return Subscription(arn=arn, policy=policy, pending=pending, updated=False)


def _session(region: str | None) -> Any:
    import boto3

    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        session = boto3.session.Session(region_name=DEFAULT_REGION)
    return session


def _describe(policy: dict[str, list[str]]) -> str:
    if not policy:
        return "every firm entering or leaving the risk group"
    return "; ".join(f"{name} {', '.join(values)}" for name, values in policy.items())


def _subscribe(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    session = _session(args.aws_region)
    email = args.email.strip()
    try:
        policy = filter_policy(
            regions=args.region or (),
            hs_chapters=args.hs_chapter or (),
            changes=args.change or (),
            size_bands=args.size_band or (),
        )
        topic_arn = args.topic_arn or topic_arn_from_stack(
            session.client("cloudformation"), args.stack
        )
        result = subscribe(session.client("sns"), topic_arn, email, policy)
    except (ValueError, LookupError) as error:
        print(error, file=sys.stderr)
        return 2
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        print(f"{code}: {message}", file=sys.stderr)
        return 1
    if result.updated:
        print(f"{email}: filter replaced on {result.arn}: {_describe(policy)}")
    else:
        print(f"subscribed {email} to {topic_arn}: {_describe(policy)}")
    if result.pending:
        print(f"SNS has e-mailed {email} a confirmation link: nothing arrives until it is followed")
    return 0


def register(commands: Any) -> None:
    alerts = commands.add_parser(
        "alerts", help="e-mail alerts on firms entering or leaving the continuity risk group"
    )
    actions = alerts.add_subparsers(dest="alerts_command", required=True)
    add = actions.add_parser(
        "subscribe",
        help="subscribe an officer's e-mail to the risk topic, filtered to their firms",
        description="Lists are OR within a flag and AND across flags; no flag: every change.",
    )
    add.add_argument("email", help="the officer's e-mail address")
    add.add_argument(
        "--region",
        action="append",
        choices=KOREAN_REGIONS,
        metavar="REGION",
        help="firms of this region (repeat for more): " + ", ".join(KOREAN_REGIONS),
    )
    add.add_argument(
        "--hs-chapter",
        action="append",
        metavar="CHAPTER",
        help="firms whose main HS chapter is this, e.g. 85 (repeat for more)",
    )
    add.add_argument(
        "--change", action="append", choices=CHANGES, help="only firms entering, or leaving"
    )
    add.add_argument("--size-band", action="append", choices=SIZE_BANDS, help="firm size")
    topic = add.add_mutually_exclusive_group(required=True)
    topic.add_argument("--stack", help="deployed pipeline stack: Dev-Pipeline or Prod-Pipeline")
    topic.add_argument("--topic-arn", help="the risk topic itself")
    add.add_argument(
        "--aws-region", help=f"AWS region (default: the profile's, else {DEFAULT_REGION})"
    )
    add.set_defaults(run=_subscribe)
