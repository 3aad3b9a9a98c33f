"""Group analysis on hand-made rows whose statistics are worked out by hand.

Year 2023, model m1: four firms in the risk group, two continuing. Year 2022: one firm, in no
risk group (the risk group of 2022 is empty).

    firm       2023 index  group       employees  net income  region  novice  prev. year
    EXP000001  0.1         risk        1          10          Seoul   1       0
    EXP000002  0.2         risk        2          (unknown)   Seoul   1       (unknown)
    EXP000003  0.3         risk        3          30          Busan   0       0
    EXP000004  0.4         risk        4          50          (none)  1       1
    EXP000005  0.8         continuing  100        -5          Busan   0       1
    EXP000006  0.9         continuing  300        5           Seoul   0       1
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exportintel.continuity.groups import (
    CATEGORICAL_VARIABLES,
    CONTINUOUS_VARIABLES,
    FEATURES,
    HISTORY_OUTPUT,
    describe_categorical,
    firm_histories,
    group_profile,
    risk_factor_shares,
)
from exportintel.contracts.continuity import CONTINUITY_GROUP_PROFILE
from exportintel.contracts.tables import curated_columns
from exportintel.contracts.validation import validate_record
from exportintel.etl.arrow_tables import to_arrow
from exportintel.models.tabular import DataError

NAN = float("nan")


def feature_row(firm: str, year: int, **values: float) -> dict[str, Any]:
    """A continuity_features row: every feature 1.0 unless given."""
    return {"firm_id": firm, "year": year, **dict.fromkeys(FEATURES, 1.0), **values}


def index_row(
    firm: str,
    year: int,
    index: float,
    *,
    region: str | None = "Seoul",
    size_band: str | None = "small",
    label: float = NAN,
    factors: list[str] | None = None,
    threshold: float = 0.5,
    version: str = "m1",
) -> dict[str, Any]:
    return {
        "firm_id": firm,
        "year": year,
        "continuity_index": index,
        "risk_group": index < threshold,
        "model_version": version,
        "region": region,
        "hs_chapter": "85",
        "size_band": size_band,
        "label": label,
        "risk_factors": factors,
    }


@pytest.fixture
def features() -> pd.DataFrame:
    return pd.DataFrame(
        [
            feature_row("EXP000001", 2023, employees=1, net_income_krw_mn=10, novice=1,
                        exported_prev_year=0, export_value_growth=0.5),
            feature_row("EXP000002", 2023, employees=2, net_income_krw_mn=NAN, novice=1,
                        exported_prev_year=NAN, export_value_growth=math.inf),
            feature_row("EXP000003", 2023, employees=3, net_income_krw_mn=30, novice=0,
                        exported_prev_year=0, export_value_growth=1.5),
            feature_row("EXP000004", 2023, employees=4, net_income_krw_mn=50, novice=1,
                        exported_prev_year=1, export_value_growth=NAN),
            feature_row("EXP000005", 2023, employees=100, net_income_krw_mn=-5, novice=0,
                        exported_prev_year=1),
            feature_row("EXP000006", 2023, employees=300, net_income_krw_mn=5, novice=0,
                        exported_prev_year=1),
            feature_row("EXP000001", 2022, employees=1),
            # A feature row nobody scored: not described.
            feature_row("EXP000009", 2023, employees=10_000),
        ]
    )  # fmt: skip


@pytest.fixture
def index() -> pd.DataFrame:
    return pd.DataFrame(
        [
            index_row("EXP000001", 2023, 0.1, factors=["employees", "novice"]),
            index_row("EXP000002", 2023, 0.2, factors=["employees"]),
            index_row("EXP000003", 2023, 0.3, region="Busan", size_band="medium", factors=[]),
            index_row("EXP000004", 2023, 0.4, region=None, factors=None),
            index_row("EXP000005", 2023, 0.8, region="Busan", size_band="large",
                      factors=["fx_change"]),
            index_row("EXP000006", 2023, 0.9, size_band="large",
                      factors=["employees", "fx_change", "employees"]),
            index_row("EXP000001", 2022, 0.7, label=1.0, factors=["novice"]),
        ]
    )  # fmt: skip


def row(profile: pd.DataFrame, year: int, group: str, variable: str) -> pd.Series:
    found = profile[
        (profile["year"] == year)
        & (profile["group_name"] == group)
        & (profile["variable"] == variable)
    ]
    assert len(found) == 1, (year, group, variable)
    return found.iloc[0]


def test_continuous_statistics_are_the_hand_computed_ones(
    features: pd.DataFrame, index: pd.DataFrame
) -> None:
    profile = group_profile(features, index)

    employees = row(profile, 2023, "risk", "employees")
    assert (employees["kind"], employees["firms"], employees["known"]) == ("continuous", 4, 4)
    assert employees["mean"] == pytest.approx(2.5)
    assert employees["std"] == pytest.approx(math.sqrt(5 / 3))  # sample std of 1, 2, 3, 4
    assert (employees["min"], employees["max"]) == (1, 4)
    assert employees["p25"] == pytest.approx(1.75)
    assert employees["median"] == pytest.approx(2.5)
    assert employees["p75"] == pytest.approx(3.25)

    continuing = row(profile, 2023, "continuing", "employees")
    assert (continuing["firms"], continuing["known"]) == (2, 2)
    assert continuing["mean"] == pytest.approx(200)
    assert continuing["std"] == pytest.approx(math.sqrt(2) * 100)
    assert (continuing["p25"], continuing["median"], continuing["p75"]) == (150, 200, 250)

    index_stats = row(profile, 2023, "risk", "continuity_index")
    assert index_stats["mean"] == pytest.approx(0.25)
    assert index_stats["p25"] == pytest.approx(0.175)


def test_unknown_values_are_left_out_of_known_and_the_statistics(
    features: pd.DataFrame, index: pd.DataFrame
) -> None:
    profile = group_profile(features, index)

    income = row(profile, 2023, "risk", "net_income_krw_mn")
    assert (income["firms"], income["known"]) == (4, 3)  # 10, 30, 50
    assert (income["mean"], income["median"], income["std"]) == (30, 30, 20)
    assert (income["p25"], income["p75"]) == (20, 40)

    # NaN and an infinite growth are both unknown: 0.5 and 1.5 remain.
    growth = row(profile, 2023, "risk", "export_value_growth")
    assert (growth["known"], growth["mean"]) == (2, 1.0)

    region = row(profile, 2023, "risk", "region")
    assert (region["known"], region["top_category"]) == (3, "Seoul")
    assert region["top_share"] == pytest.approx(2 / 3)


def test_categorical_variables_give_the_top_category_and_its_share(
    features: pd.DataFrame, index: pd.DataFrame
) -> None:
    profile = group_profile(features, index)

    novice = row(profile, 2023, "risk", "novice")
    assert (novice["kind"], novice["known"], novice["top_category"]) == ("categorical", 4, "1")
    assert novice["top_share"] == pytest.approx(0.75)
    assert math.isnan(novice["mean"])

    previous = row(profile, 2023, "risk", "exported_prev_year")
    assert (previous["known"], previous["top_category"]) == (3, "0")
    assert previous["top_share"] == pytest.approx(2 / 3)

    size = row(profile, 2023, "risk", "size_band")
    assert (size["top_category"], size["top_share"]) == ("small", 0.75)
    assert row(profile, 2023, "continuing", "size_band")["top_share"] == 1.0

    # A tie (Busan 1, Seoul 1) goes to the first in text order, whatever the row order.
    shuffled = index.sample(frac=1.0, random_state=3)
    for frame in (index, shuffled):
        tie = row(group_profile(features, frame), 2023, "continuing", "region")
        assert (tie["top_category"], tie["top_share"]) == ("Busan", 0.5)

    # No outcome observed yet in 2023; 2022's only firm continued.
    assert row(profile, 2023, "risk", "label")["known"] == 0
    assert pd.isna(row(profile, 2023, "risk", "label")["top_category"])
    observed = row(profile, 2022, "continuing", "label")
    assert (observed["known"], observed["top_category"], observed["top_share"]) == (1, "1", 1.0)


def test_describe_categorical_treats_empty_text_as_unknown() -> None:
    described = describe_categorical(pd.Series(["", None, "Seoul", "Busan", "Busan"]))
    assert described == {"known": 3, "top_category": "Busan", "top_share": pytest.approx(2 / 3)}


def test_every_year_has_both_groups_and_an_empty_group_has_no_statistics(
    features: pd.DataFrame, index: pd.DataFrame
) -> None:
    profile = group_profile(features, index)
    variables = len(CONTINUOUS_VARIABLES) + len(CATEGORICAL_VARIABLES)
    assert len(profile) == 2 * 2 * variables  # two years, two groups
    empty = profile[(profile["year"] == 2022) & (profile["group_name"] == "risk")]
    assert len(empty) == variables
    assert (empty["firms"] == 0).all() and (empty["known"] == 0).all()
    assert empty[["mean", "median", "top_share"]].isna().all().all()
    # The unscored feature row of EXP000009 is nowhere.
    assert profile["max"].max() < 10_000


def test_profile_rows_are_valid_continuity_group_profile_records(
    features: pd.DataFrame, index: pd.DataFrame
) -> None:
    profile = group_profile(features, index)
    assert list(profile.columns) == [c.name for c in curated_columns(CONTINUITY_GROUP_PROFILE)]
    key = list(CONTINUITY_GROUP_PROFILE.primary_key)
    assert not profile.duplicated(key).any()
    records = to_arrow(profile, CONTINUITY_GROUP_PROFILE).to_pylist()
    assert len(records) == len(profile)
    for record in records:
        result = validate_record(CONTINUITY_GROUP_PROFILE, record)
        assert result.ok, (record["variable"], result.reason)
    # A single known value has no standard deviation: null, not NaN.
    single = next(
        r for r in records
        if r["year"] == 2022 and r["group_name"] == "continuing" and r["variable"] == "employees"
    )  # fmt: skip
    assert (single["known"], single["mean"], single["std"]) == (1, 1.0, None)


def test_risk_factor_shares_count_each_firm_once_per_factor(index: pd.DataFrame) -> None:
    # Lists as Parquet gives them back (numpy arrays) work like Python lists.
    index["risk_factors"] = [
        None if factors is None else np.array(factors, dtype=object)
        for factors in index["risk_factors"]
    ]
    shares = risk_factor_shares(index)
    latest = shares[shares["year"] == 2023]
    got = [(r.group_name, r.factor, r.firms, r.with_factor, r.share) for r in latest.itertuples()]
    assert got == [
        ("risk", "employees", 4, 2, 0.5),
        ("risk", "novice", 4, 1, 0.25),
        ("risk", "fx_change", 4, 0, 0.0),
        ("continuing", "fx_change", 2, 2, 1.0),
        ("continuing", "employees", 2, 1, 0.5),  # listed twice for EXP000006: one firm
        ("continuing", "novice", 2, 0, 0.0),
    ]
    # 2022: one continuing firm; the empty risk group has no share.
    earlier = shares[shares["year"] == 2022].set_index("group_name")
    assert earlier.loc["continuing", "share"] == 1.0
    assert earlier.loc["risk", "firms"] == 0 and math.isnan(earlier.loc["risk", "share"])


def test_risk_factors_as_text_are_refused(index: pd.DataFrame) -> None:
    index["risk_factors"] = "employees"
    with pytest.raises(DataError, match="lists of feature names"):
        risk_factor_shares(index)


def history_index(firms: int = 20, years: tuple[int, ...] = (2021, 2022, 2023)) -> pd.DataFrame:
    """Firms EXP000000.. over `years`; the even-numbered ones end in the risk group."""
    rows = []
    for i in range(firms):
        for year in years:
            latest = year == years[-1]
            value = (0.3 if i % 2 == 0 else 0.8) if latest else 0.6
            rows.append(index_row(f"EXP{i:06d}", year, value))
    return pd.DataFrame(rows)


def test_firm_histories_sample_both_groups_with_all_their_years() -> None:
    index = history_index()
    histories = firm_histories(index, sample=6, seed=11)
    assert list(histories.columns) == list(HISTORY_OUTPUT)
    per_firm = histories.groupby("firm_id")
    assert per_firm.ngroups == 6
    assert (per_firm["year"].apply(list) == pd.Series([[2021, 2022, 2023]] * 6).values).all()
    latest = histories[histories["year"] == 2023].set_index("firm_id")
    assert (latest["latest_group"] == "risk").sum() == 3
    assert ((latest["continuity_index"] < 0.5) == (latest["latest_group"] == "risk")).all()
    assert histories["latest_group"].iloc[0] == "risk"  # risk firms first


def test_firm_histories_are_reproducible_whatever_the_row_order() -> None:
    index = history_index()
    first = firm_histories(index, sample=6, seed=11)
    again = firm_histories(index.sample(frac=1.0, random_state=5), sample=6, seed=11)
    pd.testing.assert_frame_equal(first, again)
    other = firm_histories(index, sample=6, seed=12)
    assert set(first["firm_id"]) != set(other["firm_id"])


def test_firm_histories_fill_a_short_group_from_the_other() -> None:
    index = history_index(firms=20)
    # Only EXP000000 stays in the risk group.
    index.loc[(index["year"] == 2023) & (index["firm_id"] != "EXP000000"), "risk_group"] = False
    histories = firm_histories(index, sample=4, seed=1)
    groups = histories.drop_duplicates("firm_id")["latest_group"].tolist()
    assert groups == ["risk", "continuing", "continuing", "continuing"]
    assert firm_histories(index, sample=100, seed=1)["firm_id"].nunique() == 20


def test_firm_histories_refuse_mixed_model_versions_and_a_zero_sample() -> None:
    index = history_index(firms=4)
    with pytest.raises(ValueError, match="at least 1"):
        firm_histories(index, sample=0, seed=1)
    index.loc[0, "model_version"] = "m2"
    with pytest.raises(DataError, match="2 model versions"):
        firm_histories(index, sample=2, seed=1)


def test_bad_input_fails_with_a_clear_message(features: pd.DataFrame, index: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"index .* has no rows"):
        group_profile(features, index.iloc[0:0])
    with pytest.raises(DataError, match="has no rows"):
        risk_factor_shares(index.iloc[0:0])
    with pytest.raises(DataError, match=r"lacks column.*size_band"):
        group_profile(features, index.drop(columns=["size_band"]))
    with pytest.raises(DataError, match=r"lacks column.*crisis_level_max"):
        group_profile(features.drop(columns=["crisis_level_max"]), index)
    with pytest.raises(DataError, match=r"lacks column.*risk_factors"):
        risk_factor_shares(index.drop(columns=["risk_factors"]))
    with pytest.raises(DataError, match=r"1 index row.*no feature row"):
        group_profile(features[features["year"] == 2023], index)
    with pytest.raises(DataError, match=r"repeat a \(firm_id, year, model_version\)"):
        group_profile(features, pd.concat([index, index.iloc[[0]]]))
    with pytest.raises(DataError, match=r"feature row.*repeat"):
        group_profile(pd.concat([features, features.iloc[[0]]]), index)
    with pytest.raises(DataError, match="'employees' must be numeric"):
        group_profile(features.assign(employees="many"), index)
