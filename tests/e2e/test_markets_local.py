"""The market model on the small lake, the way the pipeline runs it: trained on the curated
tables, judged at the gate on held-out years, scored for every exporter, loaded into the
`market_suggestions` table and the serving table, and answered by the API over HTTP."""

from __future__ import annotations

import pandas as pd
import pytest

from exportintel.contracts.markets import SUGGESTION_COUNT
from exportintel.local.lake import LocalLake
from tests.lake import SmallLake

pytestmark = pytest.mark.slow


def test_the_model_beats_both_baselines_on_the_held_out_years(small_lake: SmallLake) -> None:
    assert small_lake.markets_model is not None and small_lake.markets_verdict is not None
    metrics = small_lake.markets_model.metrics
    held = metrics["held_out"]
    assert min(held["years"]) > max(metrics["train_years"])  # fitted on earlier years only
    hits = held["hit_at_5"]
    assert hits["model"]["value"] > hits["largest_importers"]["value"]
    assert hits["model"]["value"] > hits["fastest_growing"]["value"]
    assert small_lake.markets_verdict["passed"], small_lake.markets_verdict


def test_every_exporter_gets_five_new_countries_with_reasons(small_lake: SmallLake) -> None:
    with small_lake.aws_environment():
        local = LocalLake(small_lake.resources, small_lake.workdir)
        table = pd.read_parquet(local.pull("market_suggestions"), partitioning=None)
        history = pd.read_parquet(local.pull("export_history"), partitioning=None)
        exporters = pd.read_parquet(local.pull("exporters"), partitioning=None)
    assert table["firm_id"].nunique() >= 0.95 * exporters["firm_id"].nunique()
    per_firm = table.groupby("firm_id").size()
    assert per_firm.max() == SUGGESTION_COUNT and per_firm.median() == SUGGESTION_COUNT
    assert table["novice"].any() and (~table["novice"]).any()
    assert table["reasons_en"].map(len).min() >= 1 and table["reasons_ko"].map(len).min() >= 1
    served = history[["firm_id", "destination_country"]].drop_duplicates()
    clash = table.merge(served, left_on=["firm_id", "country_code"],
                        right_on=["firm_id", "destination_country"])  # fmt: skip
    assert clash.empty, "a country the firm already exports to was suggested"
    assert small_lake.markets_scores is not None
    assert set(table["model_version"]) == {small_lake.markets_scores.version}
