"""SageMaker training job: the market model (which countries an exporter should try next).

Script mode; every path defaults to the SageMaker environment and can be given as an argument:

  --<table>           SM_CHANNEL_<TABLE>: one channel per curated input table
                      (exportintel.markets.data.INPUT_TABLES; dashes for underscores)
  --model-dir         SM_MODEL_DIR: model.json (terms, standardisation, weights, version) and
                      metrics.json
  --output-data-dir   SM_OUTPUT_DATA_DIR: metrics.json again

Protocol (exportintel/markets/evaluation.py): the entries of the last --test-years years are
held out; a model fitted on the earlier years ranks them against the baselines "largest
importers" and "fastest-growing importers", with bootstrap intervals over firms. The served
model is then refitted on every year's entries (the held-out figures describe the protocol, the
refit uses the newest evidence too). Failures: message on stderr and in SM_OUTPUT_DIR/failure,
exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from exportintel.markets.data import add_table_arguments, tables_from
from exportintel.markets.evaluation import evaluate, split_years
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.model import choice_sets, fit
from exportintel.models.jobenv import exit_process, run_script, sm_path
from exportintel.models.training import write_json

log = logging.getLogger("markets.train")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the market model.")
    add_table_arguments(parser)
    parser.add_argument("--model-dir", default=sm_path("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument(
        "--output-data-dir", default=sm_path("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    )
    parser.add_argument("--test-years", type=int, default=3, help="last entry years held out")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the weights")
    parser.add_argument("--bootstrap-resamples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model-version", default=os.environ.get("TRAINING_JOB_NAME", ""),
                        help="default: the training job name")  # fmt: skip
    return parser.parse_args(argv)


def train(args: argparse.Namespace) -> None:
    tables = tables_from(args)
    world = MarketWorld(tables)
    split = split_years(world, args.test_years)
    years = (*split.train, *split.test)
    sets = choice_sets(world, years)  # the evidence of every entry year, built once
    _, metrics = evaluate(
        world,
        test_years=args.test_years,
        resamples=args.bootstrap_resamples,
        seed=args.seed,
        l2=args.l2,
        sets=sets,
    )
    model = fit(sets, l2=args.l2)
    version = args.model_version or f"markets-{tables.last_year}"
    metrics = {
        "model_version": version,
        "as_of_year": tables.last_year,
        **metrics,
        "weights": model.weights,
        "fitted_on_years": list(years),
    }
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    write_json(model_dir / "model.json", {"model_version": version, **_plain(model)})
    write_json(model_dir / "metrics.json", metrics)
    write_json(Path(args.output_data_dir) / "metrics.json", metrics)
    held = metrics["held_out"]
    log.info(
        "held-out %s: %d entries; hit@5 model %s, largest importers %s, fastest growing %s",
        held["years"], held["events"], held["hit_at_5"]["model"],
        held["hit_at_5"]["largest_importers"], held["hit_at_5"]["fastest_growing"],
    )  # fmt: skip


def _plain(model: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(model)  # type: ignore[call-overload]


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(train, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
