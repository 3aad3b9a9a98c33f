"""SageMaker training job: the export continuity index (MISSION.md "Model 2", step 3).

Script mode: hyperparameters arrive as `--name value` arguments; paths default to the SageMaker
environment, so the same file runs in a training job and locally in a subprocess:

  SM_CHANNEL_TRAIN    folder with features.parquet: firm_id, year, label (1 continuing,
                      0 discontinued, null = unknown, ignored) and any numeric or categorical
                      feature columns (kinds inferred from the column types)
  SM_MODEL_DIR        model.joblib (logistic regression pipeline), xgboost-model.json,
                      model.json (features, categories, chosen model, calibration, threshold,
                      version, coefficients) and metrics.json
  SM_OUTPUT_DATA_DIR  metrics.json again and test_predictions.parquet (the held-out years)
  SM_OUTPUT_DIR       on failure, `failure` holds the message (also on stderr; exit code 1)

The last --test-years labelled years are held out, the --validation-years before them choose
and calibrate, the rest trains (see exportintel/models/training.py for the whole protocol).
The job needs numpy, pandas, pyarrow, scikit-learn, xgboost and the `exportintel` package: the
SageMaker XGBoost 3.2-0 framework container provides the first five (the versions the project's
`ml` extra pins), and the core package travels with the source bundle.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exportintel.models.estimators import XGBoostParams
from exportintel.models.jobenv import exit_process, run_script, training_paths
from exportintel.models.screening import THRESHOLD
from exportintel.models.tabular import read_features
from exportintel.models.training import (
    TrainingOptions,
    TrainingResult,
    fit_and_evaluate,
    write_json,
    write_model,
)

log = logging.getLogger("continuity.train")


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers: {text!r}") from error
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers: {text!r}")
    return values


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the export continuity index.")
    paths = training_paths(parser)
    paths.add_argument("--features-file", default="features.parquet")

    split = parser.add_argument_group("split and evaluation")
    split.add_argument("--test-years", type=int, default=2, help="last labelled years held out")
    split.add_argument("--validation-years", type=int, default=3, help="years before the test")
    split.add_argument(
        "--baseline-column",
        default="exported_prev_year",
        help="1 if the firm exported in T-1; the naive baseline (base rate if absent)",
    )
    split.add_argument("--threshold", type=float, default=0.5, help="risk group: index below")
    split.add_argument("--calibration", choices=("platt", "isotonic", "none"), default="platt")
    split.add_argument("--selection-margin", type=float, default=0.01,
                       help="validation AUC xgboost must gain over the regression")  # fmt: skip
    split.add_argument("--bootstrap-resamples", type=int, default=500)
    split.add_argument("--seed", type=int, default=7)
    split.add_argument("--model-version", default=os.environ.get("TRAINING_JOB_NAME", ""),
                       help="default: the training job name, else chosen-year-digest")  # fmt: skip

    models = parser.add_argument_group("models")
    models.add_argument("--lr-c-grid", type=_floats, default=(0.01, 0.1, 1.0, 10.0),
                        help="inverse L2 strengths tried, e.g. 0.01,0.1,1,10")  # fmt: skip
    models.add_argument("--max-categories", type=int, default=50)
    models.add_argument("--exclude-columns", type=_names, default=(),
                        help="columns that are not features, e.g. region")  # fmt: skip
    models.add_argument("--screening-threshold", type=float, default=THRESHOLD,
                        help="|r| of near-duplicate numeric features; 0: off")  # fmt: skip
    defaults = XGBoostParams()
    models.add_argument("--xgb-max-depth", type=int, default=defaults.max_depth)
    models.add_argument("--xgb-eta", type=float, default=defaults.eta)
    models.add_argument("--xgb-num-round", type=int, default=defaults.num_round)
    models.add_argument(
        "--xgb-early-stopping-rounds", type=int, default=defaults.early_stopping_rounds
    )
    models.add_argument("--xgb-min-child-weight", type=float, default=defaults.min_child_weight)
    models.add_argument("--xgb-subsample", type=float, default=defaults.subsample)
    models.add_argument("--xgb-colsample-bytree", type=float, default=defaults.colsample_bytree)
    models.add_argument("--xgb-lambda", type=float, default=defaults.reg_lambda)
    models.add_argument("--xgb-nthread", type=int, default=defaults.nthread,
                        help="0: one thread on small tables, all cores on large ones")  # fmt: skip
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> TrainingOptions:
    return TrainingOptions(
        test_years=args.test_years,
        validation_years=args.validation_years,
        baseline_column=args.baseline_column,
        threshold=args.threshold,
        calibration=args.calibration,
        lr_c_grid=tuple(args.lr_c_grid),
        xgboost=XGBoostParams(
            max_depth=args.xgb_max_depth,
            eta=args.xgb_eta,
            num_round=args.xgb_num_round,
            early_stopping_rounds=args.xgb_early_stopping_rounds,
            min_child_weight=args.xgb_min_child_weight,
            subsample=args.xgb_subsample,
            colsample_bytree=args.xgb_colsample_bytree,
            reg_lambda=args.xgb_lambda,
            nthread=args.xgb_nthread,
            seed=args.seed,
        ),
        selection_margin=args.selection_margin,
        max_categories=args.max_categories,
        bootstrap_resamples=args.bootstrap_resamples,
        seed=args.seed,
        exclude=tuple(args.exclude_columns),
        screening_threshold=args.screening_threshold or None,
    )


def train(args: argparse.Namespace) -> tuple[TrainingResult, dict[str, Any]]:
    """Read the channel, fit and evaluate, write the model dir and the output data."""
    frame = read_features(args.train, args.features_file)
    log.info("read %d rows, %d columns from %s", len(frame), frame.shape[1], args.train)
    result = fit_and_evaluate(frame, options_from(args))
    version = write_model(result, Path(args.model_dir), version=args.model_version or None)
    metrics = {"model_version": version, **result.metrics}
    output = Path(args.output_data_dir)
    write_json(output / "metrics.json", metrics)
    result.test_predictions.to_parquet(output / "test_predictions.parquet", index=False)
    chosen = metrics["models"][result.chosen]
    log.info(
        "years train %s validation %s test %s; chosen %s (%s); test AUC %s, ECE %s; "
        "baseline AUC %s",
        result.split.train, result.split.validation, result.split.test, result.chosen, version,
        chosen["auc"], chosen["ece"], metrics["models"]["baseline"]["auc"],
    )  # fmt: skip
    return result, metrics


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(train, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
