"""The CDK app: one stage per environment, checked by cdk-nag's AWS Solutions rules.

`app.py` and the infrastructure tests build the app here, so the tests check exactly what
`cdk synth` and `cdk deploy` produce.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from exportintel.settings import ENVIRONMENTS, EnvironmentSettings
from infra.stage import PlatformStage

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The feature flags of `cdk.json`.

    The CDK CLI passes them to the app itself; giving them as the app's default context too
    makes `python app.py` and the tests synthesise the same templates as `cdk synth`
    (context from the CLI still wins).
    """
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def build_app(
    *,
    outdir: str | None = None,
    environments: Iterable[EnvironmentSettings] | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[App, dict[str, PlatformStage]]:
    """The app with one stage per environment and the AWS Solutions checks as a validation.

    Any unacknowledged finding fails `app.synth()` (and `cdk synth`) with a validation report.
    """
    app = App(outdir=outdir, context=dict(cdk_json_context() if context is None else context))
    stages = {
        settings.name: PlatformStage(app, settings.stage_id, settings=settings)
        for settings in (ENVIRONMENTS.values() if environments is None else environments)
    }
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stages
