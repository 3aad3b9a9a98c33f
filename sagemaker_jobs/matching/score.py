"""SageMaker scoring job: the stored recommendations of every firm, both directions.

Script mode, paths from the SageMaker environment or arguments (a processing job passes them
as arguments):

  --model-dir   SM_CHANNEL_MODEL: the training job's model folder, or its model.tar.gz
  --output-dir  SM_OUTPUT_DATA_DIR: the files below are written here

recommendations.parquet: the top --k buyers of every exporter of the training data;
recommendations_for_buyers.parquet: the top --k exporters of every buyer (bad-credit buyers
never appear, in either file). Pairs the training data already holds are left out. Columns
(the `recommendations` contract): exporter_id, buyer_id, direction, rank (1..K by score),
score (the reciprocal score: harmonic mean of both sides' engagement probabilities), p_exporter,
p_buyer, shown_rank (1..--shown: the draw of one serving from the top K, Gumbel top-k with
temperature --explore and --seed; --explore 0 is the plain top --shown; null when not drawn),
reason_codes, reason_values, reasons_en, reasons_ko (the top --top-reasons reasons from the
rankers' tree SHAP values, for the first --explain-top ranks and every pair drawn; empty lists
elsewhere), model_version. Firms are scored in chunks of --chunk, float32
features, so memory stays bounded at any scale.
Failures: message on stderr and in SM_OUTPUT_DIR/failure, exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exportintel.matching.scoring import DEFAULT_CHUNK, ServingOptions, write_recommendations
from exportintel.matching.training import read_model, write_json
from exportintel.models.jobenv import exit_process, run_script, scoring_paths
from exportintel.models.scoring import model_directory
from exportintel.models.tabular import DataError
from exportintel.settings import LOCAL

log = logging.getLogger("matching.score")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Recommend buyers and exporters.")
    scoring_paths(parser)
    parser.add_argument(
        "--k", type=int, default=LOCAL.matching_candidates, help="candidates stored per firm"
    )
    parser.add_argument(
        "--shown", type=int, default=LOCAL.matching_shown, help="drawn from them for one serving"
    )
    parser.add_argument(
        "--explore",
        type=float,
        default=0.0,
        help="0: the plain top; 1: draws proportional to the score",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top-reasons", type=int, default=3)
    parser.add_argument(
        "--explain-top",
        type=int,
        default=None,
        help="reasons for the first N ranks of each list and every pair drawn (default: K)",
    )
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help="query firms scored at once"
    )
    parser.add_argument(
        "--approximate-reasons",
        action="store_true",
        help="Saabas attributions instead of tree SHAP (faster, less faithful)",
    )
    return parser.parse_args(argv)


def score(args: argparse.Namespace) -> dict[str, Any]:
    """Read the model, write both directions' recommendations; returns the summary."""
    for name in ("k", "shown", "chunk"):
        if getattr(args, name) < 1:
            raise DataError(f"--{name} must be at least 1")
    if args.top_reasons < 0:
        raise DataError("--top-reasons must not be negative")
    if not 0.0 <= args.explore <= 1.0:
        raise DataError(f"--explore must be within 0..1 (0: the plain top), got {args.explore}")
    with tempfile.TemporaryDirectory() as unpacked:
        model = read_model(model_directory(args.model_dir, Path(unpacked)))
    options = ServingOptions(
        k=args.k,
        shown=min(args.shown, args.k),
        explore=args.explore,
        seed=args.seed,
        top_reasons=args.top_reasons,
        chunk=args.chunk,
        approximate_reasons=args.approximate_reasons,
        explain_top=args.k if args.explain_top is None else args.explain_top,
    )
    output = Path(args.output_dir)
    summary = write_recommendations(model, output, options)
    summary = {"model_version": model.version, "options": vars(args), **summary}
    write_json(output / "scoring.json", summary)
    log.info("recommendations of %s written to %s: %s", model.version, output, summary)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(score, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
