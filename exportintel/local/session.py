"""The running emulation as the CLI and the demo use it: started once, reused, and the pump
that stands in for Firehose's reading of Kinesis. One function per step, shared by both."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from exportintel.local.emulation import EmulatedAws
from exportintel.local.provision import Inventory
from exportintel.local.pump import Pump
from exportintel.local.state import ServerState


@dataclass(frozen=True)
class Emulation:
    server: ServerState
    started: bool  # False: it was already running
    aws: EmulatedAws
    inventory: Inventory


def bring_up(state: Path, *, point_boto3: bool = False) -> Emulation:
    """Start the emulation (if not running) and provision it; idempotent. With `point_boto3`
    the process's boto3 clients reach it from then on (the AWS_* environment)."""
    from exportintel.local.server import start_detached
    from exportintel.local.state import load_or_create_key
    from exportintel.settings import LOCAL

    server, started = start_detached(state)
    aws = EmulatedAws(server.endpoint_url, LOCAL)
    inventory = aws.provision(load_or_create_key(state))
    if point_boto3:
        os.environ.update(aws.environ())
    return Emulation(server, started, aws, inventory)


def pump_for(aws: EmulatedAws, state: Path) -> Pump:
    """The pump with its positions kept in the state folder (a later pass resumes)."""
    from exportintel.local.pump import FileCheckpoints
    from exportintel.local.state import CHECKPOINT_FILE

    return Pump(
        kinesis=aws.client("kinesis"),
        firehose=aws.client("firehose"),
        s3=aws.client("s3"),
        resources=aws.resources,
        checkpoints=FileCheckpoints(state / CHECKPOINT_FILE),
    )
