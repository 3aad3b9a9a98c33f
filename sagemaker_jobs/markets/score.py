"""SageMaker scoring job: the top markets of every exporter with the serving market model.

Script mode (a processing job passes every path as an argument):

  --<table>     SM_CHANNEL_<TABLE>: one folder per curated input table (as for train.py)
  --model-dir   SM_CHANNEL_MODEL: the training job's model folder, or its model.tar.gz
  --output-dir  SM_OUTPUT_DATA_DIR: suggestions.parquet (the market_suggestions contract's
                columns), cold_start.parquet (the same for a novice per HS chapter and size
                band, firm_id "_cold#<hs2>#<size band>"), current_markets.parquet (firm_id,
                country_code: marked, never suggested) and scoring.json (a summary)

The as-of year is the last year of export records (exportintel/markets/scoring.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from exportintel.markets.data import add_table_arguments, tables_from
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.model import MarketModel
from exportintel.markets.scoring import score_all
from exportintel.models.jobenv import exit_process, run_script, scoring_paths
from exportintel.models.scoring import model_directory

log = logging.getLogger("markets.score")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Score the market suggestions.")
    add_table_arguments(parser)
    scoring_paths(parser)
    return parser.parse_args(argv)


def score(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        folder = model_directory(args.model_dir, Path(workdir))
        text = (folder / "model.json").read_text(encoding="utf-8")
    version = json.loads(text)["model_version"]
    model = MarketModel.from_json(text)
    world = MarketWorld(tables_from(args))
    suggestions, cold, current = score_all(world, model, version)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    suggestions.to_parquet(out / "suggestions.parquet", index=False)
    cold.to_parquet(out / "cold_start.parquet", index=False)
    current.to_parquet(out / "current_markets.parquet", index=False)
    summary = {
        "model_version": version,
        "as_of_year": int(suggestions["as_of_year"].iloc[0]),
        "firms": int(suggestions["firm_id"].nunique()),
        "rows": len(suggestions),
        "novices": int(suggestions.drop_duplicates("firm_id")["novice"].sum()),
        "cold_start_lists": int(cold["firm_id"].nunique()),
    }
    (out / "scoring.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info("scored %s", summary)


def main(argv: Sequence[str] | None = None) -> int:
    return run_script(score, parse_args, argv)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
