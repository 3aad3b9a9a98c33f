"""`exportintel serve`: the API and the staff dashboard on 127.0.0.1 over the local emulation,
with a development token.

The emulation is started if needed, the serving tables are loaded from the lake (the demo's
scores), the pump feeds the live counters in the background, and the same Lambda handlers
answer behind a small HTTP adapter until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from exportintel.cli.target import state_dir as _state_dir


def _serve(args: argparse.Namespace) -> int:
    from exportintel.local.serving import (
        dashboard_site,
        keep_serving,
        load_from_lake,
        point_handlers,
    )
    from exportintel.local.session import bring_up

    state = _state_dir()
    emulation = bring_up(state, point_boto3=True)
    aws = emulation.aws
    point_handlers(aws)
    if not args.no_load:
        summary = load_from_lake(aws, state / "work")
        if summary is None:
            print("the lake has no firms yet: run `make demo` first for real data", file=sys.stderr)
        else:
            print(f"serving tables loaded: {summary.render()}")
    keep_serving(
        aws, state, port=args.port, pump_interval=args.pump_interval, site=dashboard_site(state)
    )
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="the API and the dashboard on 127.0.0.1 over the local emulation (token printed)",
    )
    serve.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    serve.add_argument("--no-load", action="store_true", help="keep the serving tables as they are")
    serve.add_argument(
        "--pump-interval", type=float, default=2.0, help="seconds between pump passes"
    )
    serve.set_defaults(run=_serve)
