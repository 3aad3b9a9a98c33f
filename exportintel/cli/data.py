"""`exportintel generate | dictionary | ingest`: data in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exportintel.cli import target


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


def _ingest(args: argparse.Namespace) -> int:
    import datetime as dt

    from exportintel.ingest.delivery import RetryPolicy
    from exportintel.ingest.runner import IngestClients, ingest
    from exportintel.local.state import DEAD_LETTER_FOLDER

    resources = target.resolve(args.stack_outputs)
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dead_letter = (
        Path(args.dead_letter) if args.dead_letter else target.state_dir() / DEAD_LETTER_FOLDER
    )
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


def _demo(args: argparse.Namespace) -> int:
    from exportintel.demo import run_demo

    return run_demo(data=Path(args.data), scale=args.scale, seed=args.seed, serve=args.serve)


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="the data path end to end on the local emulation")
    demo.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--data", default="data/generated", help="generated data folder")
    demo.add_argument(
        "--serve", action="store_true", help="then keep the API running on 127.0.0.1:8787"
    )
    demo.set_defaults(run=_demo)

    generate = commands.add_parser("generate", help="write a synthetic data set")
    generate.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--out", default="data/generated", help="output folder")
    generate.set_defaults(run=_generate)

    dictionary = commands.add_parser("dictionary", help="render the data dictionary")
    dictionary.add_argument("--out", default="docs/data-dictionary.md", help="file or -")
    dictionary.set_defaults(run=_dictionary)

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
