"""The `exportintel` command line: one entry point for every local and AWS workflow."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from exportintel.cli import alerts, data, lake, local, models, pipeline, serve, users


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exportintel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in (alerts, data, local, lake, models, pipeline, serve, users):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result
