"""The risk group against continuing firms: profiles, risk-factor shares, firm histories.

MISSION.md step 5 asks to compare the two groups so that support can be tailored per group.
The groups are the *predicted* ones of the `continuity_index` table, per year and model version:

- "risk": `risk_group` is true (index below the threshold the scoring used);
- "continuing": every other scored firm (index at or above that threshold).

They are not the observed statuses: the observed outcome is `label`, known only for years old
enough, and it is described like any other categorical attribute.

`group_profile` builds the rows of the `continuity_group_profile` contract: continuous
variables (the index and the numeric features) by descriptive statistics, categorical ones
(region, HS chapter, size band, the 0/1 flags, the observed label) by their most frequent
category and its share. Pandas only: a year holds tens of thousands of firms, not billions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from exportintel.contracts.continuity import (
    CONTINUITY_FEATURE_FIELDS,
    CONTINUITY_GROUP_PROFILE,
    GROUPS,
)
from exportintel.contracts.tables import curated_columns
from exportintel.models.tabular import DataError

RISK, CONTINUING = GROUPS
KEY = ("firm_id", "year")
INDEX = "continuity_index"

# Features whose unit is "0/1" are flags: a mean of a flag is a share, but staff read "most
# firms are novices (62%)" more easily, and the contract asks for the top category of those.
FLAG_UNIT = "0/1"
FEATURES: tuple[str, ...] = tuple(f.name for f in CONTINUITY_FEATURE_FIELDS)
CONTINUOUS_FEATURES: tuple[str, ...] = tuple(
    f.name for f in CONTINUITY_FEATURE_FIELDS if f.unit != FLAG_UNIT
)
FLAG_FEATURES: tuple[str, ...] = tuple(
    f.name for f in CONTINUITY_FEATURE_FIELDS if f.unit == FLAG_UNIT
)
# Attributes of the scored row (taken from the index, which carries them for slicing).
INDEX_ATTRIBUTES = ("region", "hs_chapter", "size_band")
OBSERVED = "label"

CONTINUOUS_VARIABLES: tuple[str, ...] = (INDEX, *CONTINUOUS_FEATURES)
CATEGORICAL_VARIABLES: tuple[str, ...] = (*INDEX_ATTRIBUTES, *FLAG_FEATURES, OBSERVED)

INDEX_COLUMNS = (
    *KEY,
    INDEX,
    "risk_group",
    "model_version",
    *INDEX_ATTRIBUTES,
    OBSERVED,
)
FACTOR_COLUMNS = (*KEY, "model_version", "risk_group", "risk_factors")
HISTORY_COLUMNS = (*KEY, "model_version", INDEX, "risk_group")

PROFILE_COLUMNS: tuple[str, ...] = tuple(c.name for c in curated_columns(CONTINUITY_GROUP_PROFILE))
STATISTICS = ("mean", "std", "min", "p25", "median", "p75", "max")
SHARE_COLUMNS = ("year", "model_version", "group_name", "factor", "firms", "with_factor", "share")
HISTORY_OUTPUT = (*HISTORY_COLUMNS, OBSERVED, "latest_group")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Fail on a missing column or an empty frame, naming the input (`what`) and the columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the {what} lacks column(s) {', '.join(missing)}")
    if len(frame) == 0:
        raise DataError(f"the {what} has no rows: nothing to describe")


def _checked_index(index: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The index rows with integer years and a boolean risk group, keys unique."""
    require_columns(index, columns, "index (continuity_index)")
    frame = index.loc[:, list(columns)].copy()
    for name in (*KEY, "model_version", "risk_group"):
        empty = int(frame[name].isna().sum())
        if empty:
            raise DataError(f"{empty} index row(s) have no {name}")
    try:
        frame["year"] = frame["year"].astype("int64")
    except (TypeError, ValueError) as error:
        raise DataError(f"index column year must hold integer years: {error}") from error
    if not pd.api.types.is_bool_dtype(frame["risk_group"]):
        values = set(frame["risk_group"].unique())
        if not values <= {True, False}:
            raise DataError(f"index column risk_group must be true or false; found {values}")
        frame["risk_group"] = frame["risk_group"].astype(bool)
    duplicated = frame.duplicated([*KEY, "model_version"])
    if duplicated.any():
        first = frame.loc[duplicated, [*KEY, "model_version"]].iloc[0].tolist()
        raise DataError(
            f"{int(duplicated.sum())} index row(s) repeat a (firm_id, year, model_version), "
            f"e.g. {first}"
        )
    frame["group_name"] = np.where(frame["risk_group"], RISK, CONTINUING)
    return frame


def _numbers(column: pd.Series, name: str) -> pd.Series:
    """A column as float64 with NaN for unknown values (infinities are not known values)."""
    try:
        values = pd.to_numeric(column.astype("object"), errors="raise").astype("float64")
    except (TypeError, ValueError) as error:
        raise DataError(f"column {name!r} must be numeric: {error}") from error
    return values.where(np.isfinite(values))


def _category_text(value: Any) -> str:
    """A category as staff read it: 1.0 (a flag read as a double) is "1"."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _known(column: pd.Series) -> pd.Series:
    """The known values of a categorical column (null, NaN and empty text are unknown)."""
    values = column[column.notna()]
    return values[values.astype(str) != ""]


def describe_continuous(values: pd.Series) -> dict[str, Any]:
    """Known count and statistics of the known values: sample std (n - 1), quartiles by linear
    interpolation (numpy's default); None where there are too few values."""
    known = values.dropna().to_numpy(dtype=np.float64)
    stats: dict[str, Any] = {"known": len(known), **dict.fromkeys(STATISTICS)}
    if len(known) == 0:
        return stats
    p25, median, p75 = np.quantile(known, [0.25, 0.5, 0.75])
    stats.update(
        mean=float(known.mean()),
        std=float(known.std(ddof=1)) if len(known) > 1 else None,
        min=float(known.min()),
        p25=float(p25),
        median=float(median),
        p75=float(p75),
        max=float(known.max()),
    )
    return stats


def describe_categorical(values: pd.Series) -> dict[str, Any]:
    """Known count, the most frequent category and its share of the known values; ties go to
    the category first in text order, so the answer never depends on the row order."""
    known = _known(values).map(_category_text)
    if len(known) == 0:
        return {"known": 0, "top_category": None, "top_share": None}
    counts = known.value_counts()
    top = min(counts.index[counts == counts.max()])
    return {
        "known": len(known),
        "top_category": str(top),
        "top_share": float(counts[top] / len(known)),
    }


def scored_features(features: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """Each index row with its `group_name` and its feature values (float64, NaN unknown).

    A scored row without a feature row is an error, since the index is computed from those
    very rows; feature rows nobody scored are left out.
    """
    scored = _checked_index(index, INDEX_COLUMNS)
    require_columns(features, (*KEY, *FEATURES), "features (continuity_features)")
    rows = features.loc[:, [*KEY, *FEATURES]].copy()
    if rows["year"].isna().any() or rows["firm_id"].isna().any():
        raise DataError("feature rows need a firm_id and a year")
    try:
        rows["year"] = rows["year"].astype("int64")
    except (TypeError, ValueError) as error:
        raise DataError(f"features column year must hold integer years: {error}") from error
    duplicated = rows.duplicated(list(KEY))
    if duplicated.any():
        first = rows.loc[duplicated, list(KEY)].iloc[0].tolist()
        raise DataError(
            f"{int(duplicated.sum())} feature row(s) repeat a (firm_id, year), e.g. {first}"
        )
    for name in FEATURES:
        rows[name] = _numbers(rows[name], name)
    joined = scored.merge(rows, on=list(KEY), how="left", indicator=True)
    unmatched = joined["_merge"] == "left_only"
    if unmatched.any():
        first = joined.loc[unmatched, list(KEY)].iloc[0].tolist()
        raise DataError(
            f"{int(unmatched.sum())} index row(s) have no feature row, e.g. {first}: "
            "the features and the index come from different runs"
        )
    joined[INDEX] = _numbers(joined[INDEX], INDEX)
    return joined.drop(columns="_merge")


def group_profile(features: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """The `continuity_group_profile` rows: per scored year, model version and group, every
    continuous variable described by statistics and every categorical one by its top category.

    Both groups get rows in every (year, model version), an empty group with `firms` 0, so the
    comparison is always side by side. Columns are the contract's, in its order.
    """
    joined = scored_features(features, index)
    records: list[dict[str, Any]] = []
    for (year, version), scored in joined.groupby(["year", "model_version"], sort=True):
        for group in GROUPS:
            rows = scored[scored["group_name"] == group]
            base = {
                "year": int(year),
                "model_version": str(version),
                "group_name": group,
                "firms": len(rows),
            }
            for variable in CONTINUOUS_VARIABLES:
                stats = describe_continuous(rows[variable])
                records.append({**base, "variable": variable, "kind": "continuous", **stats})
            for variable in CATEGORICAL_VARIABLES:
                top = describe_categorical(rows[variable])
                records.append({**base, "variable": variable, "kind": "categorical", **top})
    profile = pd.DataFrame.from_records(records)
    for name in ("year", "firms", "known"):
        profile[name] = profile[name].astype("int64")
    for name in (*STATISTICS, "top_share"):
        profile[name] = profile[name].astype("float64")
    return profile.loc[:, list(PROFILE_COLUMNS)]


def _factors(value: Any) -> set[str]:
    """The distinct feature names of one row's risk factors (null: none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return set()
    if isinstance(value, str):  # a single name would otherwise count letter by letter
        raise DataError("index column risk_factors must hold lists of feature names, not text")
    return {str(v) for v in value if v is not None}


def risk_factor_shares(index: pd.DataFrame) -> pd.DataFrame:
    """How often each feature is among a firm's risk factors, per year, model version and group.

    `share` is `with_factor / firms`: the share of the group's firms that have the feature among
    their top risk factors. Every factor seen in a (year, model version) gets a row in both
    groups (share 0 where absent), so the risk group reads against continuing firms directly.
    Rows run by year, model version, group (risk first), share (highest first), factor.
    """
    scored = _checked_index(index, FACTOR_COLUMNS)
    scored["factor_set"] = scored["risk_factors"].map(_factors)
    records: list[dict[str, Any]] = []
    for (year, version), rows in scored.groupby(["year", "model_version"], sort=True):
        seen = sorted(set().union(*rows["factor_set"]))
        for group in GROUPS:
            sets = rows.loc[rows["group_name"] == group, "factor_set"]
            counts = {factor: sum(factor in s for s in sets) for factor in seen}
            ordered = sorted(seen, key=lambda f: (-counts[f], f))
            for factor in ordered:
                records.append(
                    {
                        "year": int(year),
                        "model_version": str(version),
                        "group_name": group,
                        "factor": factor,
                        "firms": len(sets),
                        "with_factor": counts[factor],
                        "share": counts[factor] / len(sets) if len(sets) else float("nan"),
                    }
                )
    shares = pd.DataFrame.from_records(records, columns=list(SHARE_COLUMNS))
    for name in ("year", "firms", "with_factor"):
        shares[name] = shares[name].astype("int64")
    shares["share"] = shares["share"].astype("float64")
    return shares


def firm_histories(index: pd.DataFrame, sample: int, seed: int) -> pd.DataFrame:
    """A reproducible sample of firms with their index in every scored year.

    Firms are split by their group in their own latest scored year; half the sample (rounded
    up) is drawn from the risk group and the rest from continuing firms, a short group's
    places going to the other. Draws come from the sorted firm ids with `seed`, so the same
    index and seed give the same firms whatever the row order. One model version only: a
    firm's history under two models would mix two scales.
    """
    if sample < 1:
        raise ValueError(f"sample must be at least 1, got {sample}")
    columns = (*HISTORY_COLUMNS, OBSERVED) if OBSERVED in index.columns else HISTORY_COLUMNS
    scored = _checked_index(index, columns)
    if OBSERVED not in scored.columns:
        scored[OBSERVED] = pd.NA
    versions = sorted(scored["model_version"].astype(str).unique())
    if len(versions) > 1:
        raise DataError(
            f"the index holds {len(versions)} model versions ({', '.join(versions)}): "
            "select the rows of one before drawing firm histories"
        )
    scored["firm_id"] = scored["firm_id"].astype(str)
    latest = scored.sort_values("year").groupby("firm_id", sort=True).tail(1)
    latest_group = latest.set_index("firm_id")["group_name"]
    pools = {g: sorted(latest_group.index[latest_group == g]) for g in GROUPS}
    wanted = {RISK: min(len(pools[RISK]), (sample + 1) // 2)}
    wanted[CONTINUING] = min(len(pools[CONTINUING]), sample - wanted[RISK])
    wanted[RISK] = min(len(pools[RISK]), sample - wanted[CONTINUING])
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for group in GROUPS:
        pool = pools[group]
        if wanted[group] == 0:
            continue
        picks = rng.choice(len(pool), size=wanted[group], replace=False)
        chosen.extend(pool[i] for i in sorted(int(i) for i in picks))
    histories = scored[scored["firm_id"].isin(chosen)].copy()
    histories["latest_group"] = histories["firm_id"].map(latest_group)
    histories["order"] = histories["latest_group"].map({g: i for i, g in enumerate(GROUPS)})
    histories = histories.sort_values(["order", "firm_id", "year"], kind="stable")
    histories[INDEX] = _numbers(histories[INDEX], INDEX)
    return histories.loc[:, list(HISTORY_OUTPUT)].reset_index(drop=True)
