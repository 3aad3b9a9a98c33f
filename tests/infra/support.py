"""Helpers for reading synthesised templates in the infrastructure tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, CfnElement, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.platform_stack import PlatformStack


@dataclass(frozen=True)
class SynthesisedApp:
    app: App
    stacks: dict[str, PlatformStack]  # by environment name
    outdir: Path
    error: Exception | None  # what `app.synth()` raised: cdk-nag findings fail synthesis


def logical_id(stack: Stack, construct: IConstruct) -> str:
    """The logical id of an L1 resource, or of an L2 construct's main resource, in `stack`."""
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    assert isinstance(element, CfnElement), f"{construct.node.path} has no CloudFormation resource"
    return stack.get_logical_id(element)


def resource(template: Template, logical: str) -> dict[str, Any]:
    found: dict[str, Any] = template.to_json()["Resources"][logical]
    return found


def properties(template: Template, logical: str) -> dict[str, Any]:
    props: dict[str, Any] = resource(template, logical)["Properties"]
    return props


def of_type(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    found = template.find_resources(type_)
    return {resource_id: dict(body) for resource_id, body in found.items()}


def mentions(value: Any, needle: str) -> bool:
    """Whether `needle` (a logical id, a name) appears anywhere in a template fragment."""
    return needle in json.dumps(value)


def get_att_arn(logical: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical, "Arn"]}


def role_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to a role."""
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    """A policy's Action or Resource, which CloudFormation allows as one value or a list."""
    return value if isinstance(value, list) else [value]


def joined(value: Any) -> str:
    """An `Fn::Join` / `Fn::Sub` value flattened to readable text (references as <Id>)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(joined(item) for item in items)
        if "Fn::Sub" in value:
            return str(value["Fn::Sub"])
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return json.dumps(value)
