#!/usr/bin/env python3
"""CDK entry point: the Dev and Prod stages of the platform, checked by cdk-nag on synth."""

from infra.application import build_app

app, _stages = build_app()
app.synth()
