"""The whole CDK app (dev and prod) synthesised once per test session, as `app.py` builds it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from exportintel.settings import DEV, PROD
from infra.application import build_app
from infra.platform_stack import PlatformStack
from infra.serving_stack import ServingStack
from infra.stage import PlatformStage
from tests.infra.support import SynthesisedApp


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> SynthesisedApp:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stages = build_app(outdir=str(outdir))
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # jsii surfaces CDK's ValidationFailed as a RuntimeError
        error = exc
    stacks = {name: stage.platform for name, stage in stages.items()}
    return SynthesisedApp(app=app, stacks=stacks, outdir=outdir, error=error)


@pytest.fixture(scope="session")
def dev_stack(synthesised: SynthesisedApp) -> PlatformStack:
    return synthesised.stacks[DEV.name]


@pytest.fixture(scope="session")
def prod_stack(synthesised: SynthesisedApp) -> PlatformStack:
    return synthesised.stacks[PROD.name]


@pytest.fixture(scope="session")
def dev_template(dev_stack: PlatformStack) -> Template:
    return Template.from_stack(dev_stack)


@pytest.fixture(scope="session")
def prod_template(prod_stack: PlatformStack) -> Template:
    return Template.from_stack(prod_stack)


def _serving_stack(synthesised: SynthesisedApp, environment: str) -> ServingStack:
    stage = synthesised.app.node.find_child(synthesised.stacks[environment].settings.stage_id)
    assert isinstance(stage, PlatformStage)
    return stage.serving


@pytest.fixture(scope="session")
def dev_serving_stack(synthesised: SynthesisedApp) -> ServingStack:
    return _serving_stack(synthesised, DEV.name)


@pytest.fixture(scope="session")
def prod_serving_stack(synthesised: SynthesisedApp) -> ServingStack:
    return _serving_stack(synthesised, PROD.name)


@pytest.fixture(scope="session")
def dev_serving_template(dev_serving_stack: ServingStack) -> Template:
    return Template.from_stack(dev_serving_stack)


@pytest.fixture(scope="session")
def prod_serving_template(prod_serving_stack: ServingStack) -> Template:
    return Template.from_stack(prod_serving_stack)
