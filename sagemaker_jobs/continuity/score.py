"""SageMaker scoring job: the export continuity index of every firm-year (MISSION.md step 4).

Script mode, paths from the SageMaker environment or arguments (a processing job passes them
as arguments):

  --score      SM_CHANNEL_SCORE: folder with features.parquet (firm_id, year, the model's
               feature columns; label and other columns are ignored)
  --model-dir  SM_CHANNEL_MODEL: the training job's model folder, or its model.tar.gz
  --output-dir SM_OUTPUT_DATA_DIR: index.parquet is written here

index.parquet: firm_id, year, index (calibrated probability of continuing, 0..1), risk_group
(index < threshold; --threshold, else the threshold in model.json), model_version, and reasons:
the top --top-reasons features by negative contribution as a list of structs (rank, feature,
contribution, value, direction, reason_ko, reason_en); see exportintel/models/scoring.py.
Contributions are coefficient x standardised value for the logistic regression and tree SHAP
values for xgboost, in log-odds. Reason texts come from the continuity catalogue
(exportintel/models/reasons.py), extended by --reason-catalogue; unknown features show their
name. Failures: message on stderr and in SM_OUTPUT_DIR/failure, exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from exportintel.models.jobenv import exit_process, run_script, scoring_paths
from exportintel.models.reasons import load_catalogue
from exportintel.models.scoring import load_model, model_directory, score_frame, to_table
from exportintel.models.tabular import read_features

log = logging.getLogger("continuity.score")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Score firms with the export continuity index.")
    scoring_paths(parser, channels=("score",)).add_argument(
        "--features-file", default="features.parquet"
    )
    parser.add_argument("--threshold", type=float, default=None,
                        help="risk group: index below this (default: model.json)")  # fmt: skip
    parser.add_argument("--model", choices=("chosen", "lr", "xgboost"), default="chosen")
    parser.add_argument("--top-reasons", type=int, default=3)
    parser.add_argument("--reason-catalogue", default=None,
                        help="JSON file adding or overriding reason texts")  # fmt: skip
    return parser.parse_args(argv)


def score(args: argparse.Namespace) -> pd.DataFrame:
    """Read the model and the firms, write index.parquet; returns the scored rows."""
    frame = read_features(args.score, args.features_file)
    with tempfile.TemporaryDirectory() as unpacked:
        model = load_model(model_directory(args.model_dir, Path(unpacked)), args.model)
    catalogue = load_catalogue(args.reason_catalogue)
    scored = score_frame(frame, model, catalogue, threshold=args.threshold, top=args.top_reasons)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    pq.write_table(to_table(scored), output / "index.parquet")
    log.info(
        "scored %d firm-years with %s (%s); %d in the risk group",
        len(scored), model.name, model.version, int(scored["risk_group"].sum()),
    )  # fmt: skip
    return scored


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(score, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
