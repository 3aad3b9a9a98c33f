"""Where a command acts: the local emulation (default) or a deployed stack (outputs file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from exportintel.resources import Resources


def state_dir() -> Path:
    from exportintel.local.state import state_dir as _state_dir

    return _state_dir()


def running_endpoint() -> str:
    from exportintel.local.server import running

    server = running(state_dir())
    if server is None:
        raise SystemExit("the emulation is not running: start it with `exportintel local up`")
    return server.endpoint_url


def resolve(stack_outputs: str | None) -> Resources:
    """Resources of a deployed stack (real credentials apply), or of the running emulation.

    For the emulation, boto3 is pointed at it through the environment, so the code that
    follows is the same code that runs against AWS.
    """
    if stack_outputs:
        # `cdk deploy --outputs-file`: {stack: {output key: value}}.
        stacks = json.loads(Path(stack_outputs).read_text(encoding="utf-8"))
        outputs = {k: v for stack in stacks.values() for k, v in stack.items()}
        return Resources.from_stack_outputs(outputs)
    from exportintel.local.emulation import environ
    from exportintel.settings import LOCAL

    os.environ.update(environ(running_endpoint(), LOCAL.region))
    return Resources.local(LOCAL)
