"""cdk-nag acknowledgements, one rule on one construct with one reason.

cdk-nag 3.x reads acknowledgements recorded through CDK's `Validations.of(...).acknowledge`;
an acknowledgement covers the construct it is recorded on and that construct's children. Keep
them on the narrowest construct that carries the finding, never on a stack or stage.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding (`AwsSolutions-S1`, `AwsSolutions-IAM5[Action::s3:Abort*]`)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value flattened the way cdk-nag names IAM5 findings.

    Mirrors cdk-nag's `flattenCfnReference`: `{"Fn::GetAtt": ["Bucket", "Arn"]}` reads
    `<Bucket.Arn>`, `{"Ref": "AWS::Partition"}` reads `<AWS::Partition>`, joins are joined.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def wildcard_resource(scope: IConstruct, arn: str) -> str:
    """The IAM5 finding id cdk-nag reports for a wildcard resource `arn` (a token is fine)."""
    return f"AwsSolutions-IAM5[Resource::{flatten_reference(Stack.of(scope).resolve(arn))}]"


def wildcard_action(action: str) -> str:
    """The IAM5 finding id cdk-nag reports for a wildcard action such as `s3:Abort*`."""
    return f"AwsSolutions-IAM5[Action::{action}]"
