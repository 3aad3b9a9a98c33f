"""`exportintel derive | train | score <model>`, `report [continuity]`, `evaluate matching`: the
model steps on the local lake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exportintel.cli import target

MODELS = ("continuity", "matching")  # with derived tables
TRAINED = (*MODELS, "markets")


def _lake(args: argparse.Namespace) -> Any:
    from exportintel.local.lake import LocalLake

    resources = target.resolve(None)
    workdir = Path(args.workdir) if args.workdir else target.state_dir() / "work"
    return LocalLake(resources, workdir)


def _derive(args: argparse.Namespace) -> int:
    from exportintel.local.lake import NotReady

    try:
        if args.model == "continuity":
            from exportintel.continuity.local import derive

            derive(_lake(args), on_table=_show_table)
        else:
            from exportintel.matching import local

            print(render_matching_inputs(local.derive(_lake(args))))
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _show_table(summary: dict[str, Any]) -> None:
    labelled = f", {summary['labelled']:,} labelled" if "labelled" in summary else ""
    print(f"{summary['dataset']:<22}{summary['rows']:>10,} rows{labelled}", flush=True)


def render_matching_inputs(summary: dict[str, Any]) -> str:
    interactions = summary["interactions"]
    lines = [
        f"interactions         {interactions['rows']:>10,} rows "
        f"(from {interactions['web_events_read']:,} web events and the match history)",
        f"matching_exporters   {summary['matching_exporters']['rows']:>10,} rows "
        f"as of {summary['as_of']}",
        f"matching_buyers      {summary['matching_buyers']['rows']:>10,} rows, "
        f"{summary['matching_buyers']['bad_credit']:,} with bad credit (never recommended)",
    ]
    return "\n".join(lines)


def _train(args: argparse.Namespace) -> int:
    from exportintel.local.lake import NotReady
    from exportintel.local.sagemaker import JobFailed
    from exportintel.pipeline.local import gate
    from exportintel.settings import LOCAL

    if args.on == "sagemaker":
        from exportintel.cli import remote

        return remote.train_remote(args)
    module = _local_module(args.model)
    lake = _lake(args)
    try:
        trained = module.train(lake, LOCAL)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    except JobFailed as error:
        print(f"the training job failed: {error}", file=sys.stderr)
        return 1
    if args.model == "continuity":
        print(render_metrics(trained.metrics))
    elif args.model == "markets":
        from exportintel.markets.summary import render_metrics as render_markets_metrics

        print(render_markets_metrics(trained.metrics))
    else:
        print(render_matching_metrics(trained.metrics))
        print(f"every slice: {trained.folders.output_data / 'evaluation.txt'}")
    print(f"model {trained.version}: {trained.model_uri}")
    print(f"metrics: {trained.folders.model / 'metrics.json'}")
    verdict = gate(lake, trained, args.model, LOCAL)
    if not verdict["passed"]:
        print(f"quality gate FAILED: {'; '.join(verdict['failures'])}", file=sys.stderr)
        print("the version serving before stays current", file=sys.stderr)
        return 1
    print(f"quality gate passed: {trained.version} serves now")
    return 0


def _local_module(model: str) -> Any:
    from exportintel.pipeline.local import model_module

    return model_module(model)


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


def render_matching_metrics(metrics: dict[str, Any]) -> str:
    """The held-out table of every query firm, per direction: each model's ranking metrics and
    exposure with their bootstrap 95% intervals."""
    k = metrics["k"]
    columns = (("recall", "all"), ("ndcg", "all"), ("coverage", "exposure"), ("gini", "exposure"))
    lines = [f"held out: the pairs that engaged after {metrics['cutoff'][:10]}"]
    for result in metrics["directions"].values():
        everything = result["slices"]["all"]
        lines.append(
            f"{result['direction']} ({everything['queries']:,} query firms, "
            f"{everything['relevant_pairs']:,} relevant pairs)"
        )
        titles = [name + (f"@{k}" if part == "all" else "") for name, part in columns]
        lines.append(f"{'model':<10}" + "".join(f"{title:>24}" for title in titles))
        for model in ("popular", "content", "cf", "hybrid"):
            cells = []
            for name, part in columns:
                values = everything["models"] if part == "all" else result["exposure"]
                cell = values[model][name]
                cells.append(f"{cell['value']:.4f} [{cell['lo']:.4f}, {cell['hi']:.4f}]".rjust(24))
            lines.append(f"{model:<10}" + "".join(cells))
    return "\n".join(lines)


def _score(args: argparse.Namespace) -> int:
    from exportintel.local.lake import NotReady
    from exportintel.local.sagemaker import JobFailed
    from exportintel.settings import LOCAL

    module = _local_module(args.model)
    lake = _lake(args)
    try:
        run = module.score(lake, LOCAL)
        module.publish(lake, run)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 2
    except JobFailed as error:
        print(f"the scoring job failed: {error}", file=sys.stderr)
        return 1
    if args.model == "continuity":
        print(f"scored {run.rows:,} firm-years with {run.version}")
        print(f"{'year':<6}{'firms':>8}{'risk group':>12}")
        for year, (firms, risk) in sorted(run.by_year.items()):
            print(f"{year:<6}{firms:>8,}{risk:>12,}")
        print(f"index: {run.folders.output_data / 'index.parquet'}; table continuity_index")
    elif args.model == "markets":
        summary = run.summary
        print(f"scored {summary['firms']:,} exporters ({summary['novices']:,} novices) as of "
              f"{summary['as_of_year']} with {run.version}: {summary['rows']:,} suggestions, "
              f"{summary['cold_start_lists']:,} cold-start lists")  # fmt: skip
        print(f"files: {run.folders.output_data}; table market_suggestions (the pipeline's load "
              "step also fills the serving table)")  # fmt: skip
    else:
        print(render_scoring(run.version, run.summary))
        print(f"files: {run.folders.output_data}; table recommendations")
    return 0


def render_scoring(version: str, summary: dict[str, Any]) -> str:
    lines = [f"scored with {version}:"]
    for direction in ("buyers_for_exporter", "exporters_for_buyer"):
        part = summary[direction]
        lines.append(
            f"  {direction:<20} {part['query_firms']:>8,} firms, {part['rows']:>10,} stored "
            f"candidates, {part['shown_rows']:>8,} drawn to show"
        )
    return "\n".join(lines)


def _report(args: argparse.Namespace) -> int:
    """`report continuity`: the continuity report; `report` alone: the analyst report of the
    latest run (reconciliation, quarantine, matching evaluation, continuity)."""
    from exportintel.local.lake import NotReady
    from exportintel.settings import LOCAL

    name = args.model or "analyst"
    out = Path(args.out) if args.out else target.state_dir() / "reports" / name
    try:
        if args.model is None:
            from exportintel.reports.analyst import write_analyst_report

            path = write_analyst_report(_lake(args), LOCAL, out)
        else:
            from exportintel.continuity.local import report

            path = report(_lake(args), LOCAL, out)
    except (NotReady, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"report: {path}")
    if args.model is not None:
        print("table continuity_group_profile: the risk group against continuing firms per year")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from exportintel.matching.harness import (
        HarnessOptions,
        evaluate_worlds,
        summary_table,
        write_results,
    )

    options = HarnessOptions(
        seeds=args.seeds,
        scale=args.scale,
        test_days=args.test_days,
        bootstrap_resamples=args.bootstrap_resamples,
    )
    work = Path(args.workdir) if args.workdir else target.state_dir() / "evaluation" / "matching"

    def show(seed: int, result: Any) -> None:
        print(f"seed {seed}:\n{result.table()}\n", flush=True)

    results = evaluate_worlds(work, options, on_world=show)
    metrics, table = write_results(results, Path(args.out) if args.out else work)
    print(summary_table(results))
    print(f"metrics: {metrics}\ntable: {table}")
    return 0 if results["verdict"]["hybrid_beats_every_baseline"] else 1


def _seeds(text: str) -> tuple[int, ...]:
    """`7,8,9` -> (7, 8, 9); argparse turns the ValueError of a bad number into a usage error."""
    return tuple(int(part) for part in text.split(",") if part.strip())


def register(commands: Any) -> None:
    for name, run, text, models in (
        ("derive", _derive, "derive a model's tables from the curated lake (the Glue jobs)",
         MODELS),
        ("train", _train, "train a model on the local lake (the SageMaker script)", TRAINED),
        ("score", _score, "score with the current model into the lake (the SageMaker script)",
         TRAINED),
        ("report", _report, "the analyst report of the latest run, or (continuity) the group "
         "analysis and HTML report of the current scores", ("continuity",)),
        ("evaluate", _evaluate, "held-out evaluation over generated worlds against baselines",
         ("matching",)),
    ):  # fmt: skip
        command = commands.add_parser(name, help=text)
        if name == "report":  # no model: the analyst report of every part
            command.add_argument("model", choices=models, nargs="?")
        else:
            command.add_argument("model", choices=models)
        command.add_argument("--workdir", help="local staging folder (default: .local/work)")
        if name == "train":
            from exportintel.cli import remote

            command.add_argument(
                "--on", choices=("local", "sagemaker"), default="local",
                help="where the training job runs (sagemaker: pip install '.[sagemaker]')",
            )  # fmt: skip
            remote.add_arguments(command)
        if name in ("report", "evaluate"):
            command.add_argument("--out", help="results folder (default: under .local)")
        if name == "evaluate":
            command.add_argument("--seeds", type=_seeds, default=(7, 8, 9))
            command.add_argument("--scale", default="small")
            command.add_argument("--test-days", type=float, default=365.0)
            command.add_argument("--bootstrap-resamples", type=int, default=500)
        command.set_defaults(run=run)
