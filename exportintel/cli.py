"""The `exportintel` command line: one entry point for every local workflow."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from exportintel.generate import generate

    summary = generate(scale=args.scale, seed=args.seed, out=Path(args.out))
    print(summary.render())
    return 0


def _dictionary(args: argparse.Namespace) -> int:
    from exportintel.contracts.dictionary import render_dictionary

    text = render_dictionary()
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _state_dir() -> Path:
    from exportintel.local.state import state_dir

    return state_dir()


def _local_up(args: argparse.Namespace) -> int:
    from exportintel.local.emulation import EmulatedAws
    from exportintel.local.server import start_detached
    from exportintel.local.state import load_or_create_key
    from exportintel.settings import LOCAL

    state = _state_dir()
    server, started = start_detached(state)
    aws = EmulatedAws(server.endpoint_url, LOCAL)
    inventory = aws.provision(load_or_create_key(state))
    verb = "started" if started else "already running"
    print(f"emulation {verb} at {server.endpoint_url} (pid {server.pid}); state in {state}")
    print(inventory.render())
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


def _running_endpoint() -> str:
    from exportintel.local.server import running

    server = running(_state_dir())
    if server is None:
        raise SystemExit("the emulation is not running: start it with `exportintel local up`")
    return server.endpoint_url


def _local_pump(args: argparse.Namespace) -> int:
    import threading

    from exportintel.local.emulation import EmulatedAws
    from exportintel.local.pump import FileCheckpoints, Pump
    from exportintel.local.state import CHECKPOINT_FILE
    from exportintel.settings import LOCAL

    aws = EmulatedAws(_running_endpoint(), LOCAL)
    pump = Pump(
        kinesis=aws.client("kinesis"),
        firehose=aws.client("firehose"),
        s3=aws.client("s3"),
        resources=aws.resources,
        checkpoints=FileCheckpoints(_state_dir() / CHECKPOINT_FILE),
    )
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


def _ingest(args: argparse.Namespace) -> int:
    import datetime as dt
    import os

    from exportintel.ingest.delivery import RetryPolicy
    from exportintel.ingest.runner import IngestClients, ingest
    from exportintel.local.state import DEAD_LETTER_FOLDER
    from exportintel.resources import Resources
    from exportintel.settings import LOCAL

    if args.stack_outputs:
        import json

        # `cdk deploy --outputs-file`: {stack: {output key: value}}; real credentials apply.
        stacks = json.loads(Path(args.stack_outputs).read_text(encoding="utf-8"))
        outputs = {k: v for stack in stacks.values() for k, v in stack.items()}
        resources = Resources.from_stack_outputs(outputs)
    else:
        from exportintel.local.emulation import environ

        # The same code as in AWS: plain boto3 clients, pointed at the emulation by environment.
        os.environ.update(environ(_running_endpoint(), LOCAL.region))
        resources = Resources.local(LOCAL)
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dead_letter = Path(args.dead_letter) if args.dead_letter else _state_dir() / DEAD_LETTER_FOLDER
    report = ingest(
        Path(args.data),
        resources,
        IngestClients.from_environment(),
        dead_letter_dir=dead_letter / run,
        datasets=args.datasets,
        policy=RetryPolicy(max_attempts=args.max_attempts),
    )
    print(report.render())
    if not args.stack_outputs and any(r.route != "s3" for r in report.datasets):
        print("streams deliver on the next pump pass: exportintel local pump --once")
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exportintel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic data set")
    generate.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--out", default="data/generated", help="output folder")
    generate.set_defaults(run=_generate)

    dictionary = commands.add_parser("dictionary", help="render the data dictionary")
    dictionary.add_argument("--out", default="docs/data-dictionary.md", help="file or -")
    dictionary.set_defaults(run=_dictionary)

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

    ingest = commands.add_parser("ingest", help="send a generated data folder to the raw zone")
    ingest.add_argument("--data", required=True, help="folder of <dataset>/<dataset>-*.jsonl")
    ingest.add_argument("--datasets", nargs="+", help="only these datasets (default: all found)")
    ingest.add_argument("--dead-letter", help="folder for failed records (default: .local/)")
    ingest.add_argument("--max-attempts", type=int, default=8, help="attempts per record")
    ingest.add_argument(
        "--stack-outputs",
        help="`cdk deploy --outputs-file` JSON: ingest into AWS instead of the emulation",
    )
    ingest.set_defaults(run=_ingest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
