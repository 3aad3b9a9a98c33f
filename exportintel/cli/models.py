"""`exportintel derive | train | score | report <model>`: the model steps on the local lake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exportintel.cli import target

MODELS = ("continuity",)


def _lake(args: argparse.Namespace) -> Any:
    from exportintel.local.lake import LocalLake

    resources = target.resolve(None)
    workdir = Path(args.workdir) if args.workdir else target.state_dir() / "work"
    return LocalLake(resources, workdir)


def _derive(args: argparse.Namespace) -> int:
    from exportintel.continuity.local import derive
    from exportintel.local.lake import NotReady

    def show(summary: dict[str, Any]) -> None:
        labelled = f", {summary['labelled']:,} labelled" if "labelled" in summary else ""
        print(f"{summary['dataset']:<22}{summary['rows']:>10,} rows{labelled}", flush=True)

    try:
        derive(_lake(args), on_table=show)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _train(args: argparse.Namespace) -> int:
    from exportintel.continuity.local import train
    from exportintel.local.lake import NotReady
    from exportintel.local.sagemaker import JobFailed
    from exportintel.settings import LOCAL

    try:
        trained = train(_lake(args), LOCAL)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    except JobFailed as error:
        print(f"the training job failed: {error}", file=sys.stderr)
        return 1
    print(render_metrics(trained.metrics))
    print(f"model {trained.version}: {trained.model_uri}")
    print(f"metrics: {trained.folders.model / 'metrics.json'}")
    return 0


def render_metrics(metrics: dict[str, Any]) -> str:
    """The held-out table: each model's metrics with their bootstrap 95% intervals."""
    years = metrics["years"]
    lines = [
        f"held out {years['test']} ({metrics['n']:,} firm-years), validated on "
        f"{years['validation']}, trained on {years['train']}; chosen: {metrics['chosen_model']}",
        f"{'model':<10}" + "".join(f"{name:>24}" for name in ("auc", "ks", "brier", "ece")),
    ]
    for name, values in metrics["models"].items():
        cells = []
        for metric in ("auc", "ks", "brier", "ece"):
            cell = values[metric]
            text = "n/a" if cell["value"] is None else f"{cell['value']:.3f}"
            if cell["lo"] is not None and cell["hi"] is not None:
                text += f" [{cell['lo']:.3f}, {cell['hi']:.3f}]"
            cells.append(text.rjust(24))
        lines.append(f"{name:<10}" + "".join(cells))
    return "\n".join(lines)


def _score(args: argparse.Namespace) -> int:
    from exportintel.continuity.local import score
    from exportintel.local.lake import NotReady
    from exportintel.local.sagemaker import JobFailed
    from exportintel.settings import LOCAL

    try:
        run = score(_lake(args), LOCAL)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    except JobFailed as error:
        print(f"the scoring job failed: {error}", file=sys.stderr)
        return 1
    print(f"scored {run.rows:,} firm-years with {run.version}")
    print(f"{'year':<6}{'firms':>8}{'risk group':>12}")
    for year, (firms, risk) in sorted(run.by_year.items()):
        print(f"{year:<6}{firms:>8,}{risk:>12,}")
    print(f"index: {run.folders.output_data / 'index.parquet'}; table continuity_index")
    return 0


def _report(args: argparse.Namespace) -> int:
    from exportintel.continuity.local import report
    from exportintel.local.lake import NotReady
    from exportintel.settings import LOCAL

    out = Path(args.out) if args.out else target.state_dir() / "reports" / args.model
    try:
        path = report(_lake(args), LOCAL, out)
    except (NotReady, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"report: {path}")
    print("table continuity_group_profile: the risk group against continuing firms per year")
    return 0


def register(commands: Any) -> None:
    for name, run, text in (
        ("derive", _derive, "derive a model's tables from the curated lake (the Glue jobs)"),
        ("train", _train, "train a model on the local lake (the SageMaker script)"),
        ("score", _score, "score with the current model into the lake (the SageMaker script)"),
        ("report", _report, "the group analysis and HTML report of the current scores"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("model", choices=MODELS)
        command.add_argument("--workdir", help="local staging folder (default: .local/work)")
        if name == "report":
            command.add_argument("--out", help="report folder (default: .local/reports/<model>)")
        command.set_defaults(run=run)
