"""`exportintel local ...`: the offline AWS emulation (moto on 127.0.0.1)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from exportintel.cli.target import running_endpoint as _running_endpoint
from exportintel.cli.target import state_dir as _state_dir


def _local_up(args: argparse.Namespace) -> int:
    from exportintel.local.session import bring_up

    state = _state_dir()
    emulation = bring_up(state)
    server = emulation.server
    verb = "started" if emulation.started else "already running"
    print(f"emulation {verb} at {server.endpoint_url} (pid {server.pid}); state in {state}")
    print(emulation.inventory.render())
    print('point boto3 at it: eval "$(exportintel local env)"')
    return 0


def _local_down(args: argparse.Namespace) -> int:
    from exportintel.local.server import stop_detached

    stopped = stop_detached(_state_dir())
    print("emulation stopped" if stopped else "emulation was not running")
    return 0


def _local_status(args: argparse.Namespace) -> int:
    from exportintel.local.emulation import EmulatedAws
    from exportintel.local.server import running
    from exportintel.settings import LOCAL

    server = running(_state_dir())
    if server is None:
        print("stopped")
        return 3
    print(f"running at {server.endpoint_url} (pid {server.pid}, since {server.started_at})")
    print(EmulatedAws(server.endpoint_url, LOCAL).inventory().render())
    return 0


def _local_env(args: argparse.Namespace) -> int:
    import shlex

    from exportintel.local.emulation import environ
    from exportintel.local.server import running

    server = running(_state_dir())
    if server is None:
        print("the emulation is not running: exportintel local up", file=sys.stderr)
        return 1
    for name, value in environ(server.endpoint_url).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _local_pump(args: argparse.Namespace) -> int:
    import threading

    from exportintel.local.emulation import EmulatedAws
    from exportintel.local.session import pump_for
    from exportintel.settings import LOCAL

    pump = pump_for(EmulatedAws(_running_endpoint(), LOCAL), _state_dir())
    if args.once:
        print(pump.run_once().render())
        return 0
    stop = threading.Event()
    print(f"pumping every {args.interval:g} s; Ctrl-C stops")
    try:
        while not stop.is_set():
            result = pump.run_once()
            if result.records or result.normalised.objects:
                print(result.render(), flush=True)
            stop.wait(args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="the offline AWS emulation (moto on 127.0.0.1)")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    up = local_commands.add_parser("up", help="start the emulation and provision it (idempotent)")
    up.set_defaults(run=_local_up)
    down = local_commands.add_parser("down", help="stop the emulation (its data is discarded)")
    down.set_defaults(run=_local_down)
    status = local_commands.add_parser(
        "status", help="running or stopped, endpoint and resource counts (exit 3 when stopped)"
    )
    status.set_defaults(run=_local_status)
    env = local_commands.add_parser("env", help="print the AWS_* exports that reach it")
    env.set_defaults(run=_local_env)
    pump = local_commands.add_parser(
        "pump", help="deliver the clickstream to raw (what moto's Firehose does not)"
    )
    pump.add_argument("--once", action="store_true", help="one pass, then exit")
    pump.add_argument("--interval", type=float, default=5.0, help="seconds between passes")
    pump.set_defaults(run=_local_pump)
