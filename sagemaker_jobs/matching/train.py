"""SageMaker training job: exporter-buyer matching (MISSION.md "Model 1").

Script mode: hyperparameters arrive as `--name value` arguments; paths default to the SageMaker
environment, so the same file runs in a training job and locally in a subprocess:

  SM_CHANNEL_TRAIN    interactions.parquet (exporter_id, buyer_id, weight, ts; optionally
                      actor, event_type) and, optionally, exporters.parquet (exporter_id, any
                      columns) and buyers.parquet (buyer_id, any columns; bad_credit keeps a
                      buyer out of every output). A file may also be a folder of Parquet parts.
  SM_MODEL_DIR        model.json, the rankers (ranker-<direction>-<side>.json), snapshot.npz
                      (factors, seen pairs, firm histories, crosses, interests), the firm ids
                      and side tables, and metrics.json
  SM_OUTPUT_DATA_DIR  metrics.json again and evaluation.txt (the held-out tables)
  SM_OUTPUT_DIR       on failure, `failure` holds the message (also on stderr; exit code 1)

Two fits of the same protocol (exportintel/matching/training.py). The first ends
--test-days before the last interaction and is judged on what came after: metrics.json, held-out
data only, for the hybrid and the popular, content-only and CF-only baselines
(exportintel/matching/evaluation.py). The second uses every interaction and is the model
shipped. The job needs numpy, pandas, pyarrow, scipy, scikit-learn, xgboost, implicit and the
`exportintel` package (see README.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exportintel.matching.collaborative import CFParams
from exportintel.matching.data import (
    BUYERS_FILE,
    EXPORTERS_FILE,
    INTERACTIONS_FILE,
    read_channel,
)
from exportintel.matching.evaluation import (
    EvaluationOptions,
    EvaluationResult,
    evaluate_data,
    held_out_cutoff,
)
from exportintel.matching.features import FeatureOptions, PoolSizes
from exportintel.matching.ranker import RankerParams
from exportintel.matching.training import (
    MatchingModel,
    MatchingOptions,
    fit_model,
    write_json,
    write_model,
)
from exportintel.models.jobenv import exit_process, run_script, training_paths
from exportintel.models.tabular import DataError
from exportintel.settings import LOCAL

log = logging.getLogger("matching.train")


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1: {text!r}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number: {text!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the exporter-buyer matching model.")
    paths = training_paths(parser)
    paths.add_argument("--interactions-file", default=INTERACTIONS_FILE)
    paths.add_argument("--exporters-file", default=EXPORTERS_FILE)
    paths.add_argument("--buyers-file", default=BUYERS_FILE)

    protocol = parser.add_argument_group("time split and evaluation")
    protocol.add_argument(
        "--test-days", type=_positive, default=365.0, help="the last days held out for metrics.json"
    )
    protocol.add_argument(
        "--label-days",
        type=_positive,
        default=365.0,
        help="the label window the rankers learn from",
    )
    protocol.add_argument(
        "--label-windows", type=int, default=2, help="successive label windows, latest first"
    )
    protocol.add_argument(
        "--half-life-days",
        type=_positive,
        default=365.0,
        help="time decay of the interactions' weights",
    )
    protocol.add_argument("--bootstrap-resamples", type=int, default=500)
    protocol.add_argument("--seed", type=int, default=7)
    protocol.add_argument(
        "--model-version",
        default=os.environ.get("TRAINING_JOB_NAME", ""),
        help="default: the training job name, else matching-<date>-<digest>",
    )

    model = parser.add_argument_group("model")
    cf, pool, ranker = CFParams(), PoolSizes(), RankerParams()
    model.add_argument("--cf-factors", type=int, default=cf.factors)
    model.add_argument("--cf-regularization", type=float, default=cf.regularization)
    model.add_argument("--cf-alpha", type=float, default=cf.alpha)
    model.add_argument("--cf-iterations", type=int, default=cf.iterations)
    model.add_argument(
        "--pool-cf", type=int, default=pool.cf, help="collaborative candidates per firm"
    )
    model.add_argument(
        "--pool-content", type=int, default=pool.content, help="content candidates per firm"
    )
    model.add_argument(
        "--pool-popular", type=int, default=pool.popular, help="popular candidates per firm"
    )
    model.add_argument(
        "--content-bucket",
        type=int,
        default=pool.bucket,
        help="firms kept per code for content candidates",
    )
    model.add_argument("--xgb-max-depth", type=int, default=ranker.max_depth)
    model.add_argument("--xgb-eta", type=float, default=ranker.eta)
    model.add_argument("--xgb-num-round", type=int, default=ranker.num_round)
    model.add_argument(
        "--xgb-early-stopping-rounds", type=int, default=ranker.early_stopping_rounds
    )
    model.add_argument("--xgb-min-child-weight", type=float, default=ranker.min_child_weight)
    model.add_argument(
        "--xgb-parallel-trees",
        type=int,
        default=ranker.parallel_trees,
        help="trees per round on their own samples, averaged (steadier rankings, slower)",
    )
    model.add_argument(
        "--xgb-nthread",
        type=int,
        default=ranker.nthread,
        help="0: one thread below a million rows, every core above",
    )
    model.add_argument(
        "--max-groups",
        type=int,
        default=MatchingOptions().max_groups,
        help="query firms per direction and window the rankers learn from",
    )
    model.add_argument("--validation-share", type=_fraction, default=0.2)
    model.add_argument(
        "--candidates",
        type=int,
        default=LOCAL.matching_candidates,
        help="candidates stored per firm (K)",
    )
    model.add_argument("--shown", type=int, default=LOCAL.matching_shown)
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> MatchingOptions:
    return MatchingOptions(
        features=FeatureOptions(
            half_life_days=args.half_life_days,
            cf=CFParams(
                factors=args.cf_factors,
                regularization=args.cf_regularization,
                alpha=args.cf_alpha,
                iterations=args.cf_iterations,
                seed=args.seed,
            ),
        ),
        pool=PoolSizes(
            cf=args.pool_cf,
            content=args.pool_content,
            popular=args.pool_popular,
            bucket=args.content_bucket,
        ),
        ranker=RankerParams(
            max_depth=args.xgb_max_depth,
            eta=args.xgb_eta,
            num_round=args.xgb_num_round,
            early_stopping_rounds=args.xgb_early_stopping_rounds,
            min_child_weight=args.xgb_min_child_weight,
            parallel_trees=args.xgb_parallel_trees,
            nthread=args.xgb_nthread,
            seed=args.seed,
        ),
        label_days=args.label_days,
        label_windows=args.label_windows,
        max_groups=args.max_groups,
        validation_share=args.validation_share,
        candidates=args.candidates,
        shown=args.shown,
        seed=args.seed,
    )


def train(args: argparse.Namespace) -> tuple[MatchingModel, dict[str, Any]]:
    """Read the channel, evaluate on the held-out window, fit on everything, write both."""
    for name in (
        "label_windows",
        "max_groups",
        "candidates",
        "shown",
        "bootstrap_resamples",
        "xgb_parallel_trees",
    ):
        if getattr(args, name) < 1:
            raise DataError(f"--{name.replace('_', '-')} must be at least 1")
    data = read_channel(
        args.train,
        interactions_file=args.interactions_file,
        exporters_file=args.exporters_file,
        buyers_file=args.buyers_file,
    )
    log.info(
        "read %d interactions, %s exporter rows, %s buyer rows from %s",
        len(data.interactions),
        "no" if data.exporters is None else len(data.exporters),
        "no" if data.buyers is None else len(data.buyers),
        args.train,
    )
    options = options_from(args)
    cutoff = held_out_cutoff(data, args.test_days)
    evaluation = EvaluationOptions(
        k=options.shown, bootstrap_resamples=args.bootstrap_resamples, seed=args.seed
    )
    result: EvaluationResult
    result, _ = evaluate_data(data, cutoff, options, evaluation)
    log.info("held-out evaluation after %s:\n%s", f"{cutoff:%Y-%m-%d}", result.table())
    model = fit_model(data, options)
    metrics = result.to_dict()
    version = write_model(
        model, Path(args.model_dir), version=args.model_version or None, metrics=metrics
    )
    metrics = {"model_version": version, **metrics}
    output = Path(args.output_data_dir)
    write_json(output / "metrics.json", metrics)
    (output / "evaluation.txt").write_text(result.table() + "\n", encoding="utf-8")
    log.info("model %s written to %s", version, args.model_dir)
    return model, metrics


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(train, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
