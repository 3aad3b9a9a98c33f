"""Pipeline function: the state machine's small steps between the Glue and SageMaker tasks.

The state machine invokes it with `{"action": ..., ...}`; each action's work is in
`exportintel.pipeline.actions`, which the local runner shares. A failure raises: the task's
catch sends it to the alerts topic with its error type and message.

No `from __future__ import annotations`, like the API handlers: Powertools reads the
handler's annotations at run time.
"""

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from exportintel.pipeline import actions
from exportintel.serving.functions import ENVIRONMENT_ENV
from exportintel.settings import ENVIRONMENTS, EnvironmentSettings

logger = Logger(service="pipeline")
tracer = Tracer(service="pipeline")


class BadRequest(ValueError):
    """The event is not one the state machine sends."""


@cache
def client(service: str) -> Any:
    """One client per service and execution environment."""
    return boto3.client(service)


def settings() -> EnvironmentSettings:
    name = os.environ[ENVIRONMENT_ENV]
    if name not in ENVIRONMENTS:
        raise BadRequest(f"{ENVIRONMENT_ENV}={name!r} is none of {sorted(ENVIRONMENTS)}")
    return ENVIRONMENTS[name]


def _required(event: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if event.get(name) in (None, "")]
    if missing:
        raise BadRequest(f"action {event.get('action')!r} needs {', '.join(missing)}")
    return [event[name] for name in names]


@tracer.capture_method
def handle(event: dict[str, Any]) -> dict[str, Any]:
    action = event.get("action")
    bucket = os.environ.get(actions.ARTIFACTS_BUCKET_ENV, "")
    if action == "prepare":
        # The run id is the execution's name (`$$.Execution.Name`), checked here.
        # `input`: the execution's input as given (`{"modes": {...}}`, or `{}`).
        (run_id,) = _required(event, "run_id")
        given = event.get("input") or {}
        return actions.prepare(given.get("modes") if isinstance(given, dict) else None, run_id)
    if action == "gate":
        model, version, model_uri = _required(event, "model", "version", "model_uri")
        return actions.gate(
            client("s3"),
            bucket=bucket,
            settings=settings(),
            model=model,
            version=version,
            model_uri=model_uri,
        )
    if action == "current":
        (model,) = _required(event, "model")
        return actions.current(client("s3"), bucket=bucket, model=model)
    if action == "alert":
        (run_id,) = _required(event, "run_id")
        return actions.alert(
            client("s3"),
            client("sns"),
            bucket=bucket,
            topic_arn=os.environ[actions.RISK_TOPIC_ENV],
            run_id=run_id,
        )
    raise BadRequest(f"unknown action {action!r}; actions: {', '.join(actions.ACTIONS)}")


@logger.inject_lambda_context(correlation_id_path="run_id")
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(action=event.get("action"), model=event.get("model"))
    result = handle(event)
    logger.info("done", extra={"result": result})
    return result
