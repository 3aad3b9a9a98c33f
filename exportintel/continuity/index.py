"""The `continuity_index` table: the scoring job's index rows, sliced the way officers ask.

The scoring job (`sagemaker_jobs/continuity/score.py`) knows only firm ids, years and the
model's features; officers look at the risk group by region, HS chapter and size. This joins
the two and flattens the reasons into the three language columns of the contract.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa

from exportintel.contracts.continuity import RISK_FACTOR_COUNT
from exportintel.contracts.registry import get_contract
from exportintel.etl.arrow_tables import to_arrow

# Employees at the year's end; the bands of the Korean SME framework, rounded.
SMALL_BELOW, MEDIUM_BELOW = 50, 300


def size_band(employees: float | None) -> str | None:
    """small < 50 employees, medium < 300, large otherwise; None when unknown."""
    if employees is None or (isinstance(employees, float) and math.isnan(employees)):
        return None
    if employees < SMALL_BELOW:
        return "small"
    return "medium" if employees < MEDIUM_BELOW else "large"


def index_table(scored: pd.DataFrame, features: pd.DataFrame) -> pa.Table:
    """Scored rows (firm_id, year, index, risk_group, model_version, reasons) joined to the
    feature rows they were scored from, as the `continuity_index` contract's table."""
    attributes = features[["firm_id", "year", "region", "hs_chapter", "employees", "label"]]
    joined = scored.merge(attributes, on=["firm_id", "year"], how="left", validate="one_to_one")
    unmatched = joined["hs_chapter"].isna()
    if unmatched.any():
        first = joined.loc[unmatched, ["firm_id", "year"]].iloc[0].tolist()
        raise ValueError(f"{int(unmatched.sum())} scored rows have no feature row, e.g. {first}")
    reasons = [list(r)[:RISK_FACTOR_COUNT] for r in joined["reasons"]]
    frame = pd.DataFrame(
        {
            "firm_id": joined["firm_id"],
            "year": joined["year"],
            "continuity_index": joined["index"],
            "risk_group": joined["risk_group"],
            "model_version": joined["model_version"],
            "region": joined["region"],
            "hs_chapter": joined["hs_chapter"],
            "size_band": [size_band(e) for e in joined["employees"]],
            "label": joined["label"].astype("Int64"),
            "risk_factors": [[r["feature"] for r in rs] for rs in reasons],
            "risk_factors_en": [[r["reason_en"] for r in rs] for rs in reasons],
            "risk_factors_ko": [[r["reason_ko"] for r in rs] for rs in reasons],
            "top_factor_contribution": [rs[0]["contribution"] if rs else None for rs in reasons],
        }
    )
    return to_arrow(frame, get_contract("continuity_index"))
