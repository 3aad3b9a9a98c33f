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
