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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
