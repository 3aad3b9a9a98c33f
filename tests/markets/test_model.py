"""The conditional logit recovers the weights that made the choices, and the market scoring
gives every exporter, novices included, its top 5 new countries with reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exportintel.contracts.markets import EVIDENCE_TERMS, SUGGESTION_COUNT
from exportintel.markets.data import INPUT_TABLES, MissingTable, read_tables
from exportintel.markets.evaluation import per_set, ranks
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.model import MarketModel, NoEntries, fit
from exportintel.markets.reasons import GENERAL, reasons
from exportintel.markets.scoring import score_all
from tests.markets import handmade
from tests.markets.test_evidence import MODEL

ROOT = Path(__file__).resolve().parents[2]


def _simulated_choices(weights: dict[str, float], sets: int, seed: int) -> pd.DataFrame:
    """Choice sets of 20 countries with random evidence; one chosen per set by the utility
    plus Gumbel noise (what the conditional logit assumes)."""
    rng = np.random.default_rng(seed)
    n = sets * 20
    rows = pd.DataFrame({t: rng.normal(0, 1, n) for t in EVIDENCE_TERMS})
    rows["set_id"] = np.repeat([f"S{i:05d}" for i in range(sets)], 20)
    rows["firm_id"] = np.repeat([f"EXP{i % 300:06d}" for i in range(sets)], 20)
    rows["country_code"] = np.tile([f"C{k:02d}" for k in range(20)], sets)
    utility = sum(weights[t] * rows[t] for t in EVIDENCE_TERMS) + rng.gumbel(size=n)
    best = utility.groupby(rows["set_id"]).transform("max")
    rows["chosen"] = utility == best
    return rows


def test_the_fit_recovers_the_weights_that_made_the_choices() -> None:
    truth = {"demand": 1.0, "growth": 0.5, "fx": 0.3, "price_fit": 0.2, "crisis": -0.8,
             "buyers": 0.6, "peers": 0.4}  # fmt: skip
    model = fit(_simulated_choices(truth, 3000, seed=1), l2=0.1)
    for term, value in truth.items():
        assert model.weights[term] == pytest.approx(value, abs=0.12), term


def test_the_fit_refuses_sets_without_a_choice() -> None:
    rows = _simulated_choices(dict.fromkeys(EVIDENCE_TERMS, 0.0), 10, seed=2)
    with pytest.raises(NoEntries, match="no firm entered"):
        fit(rows.assign(chosen=False))


def test_the_model_round_trips_through_json() -> None:
    assert MarketModel.from_json(MODEL.to_json()) == MODEL


def test_ranks_and_hits_per_choice_set() -> None:
    rows = pd.DataFrame({
        "set_id": ["a"] * 7 + ["b"] * 2, "firm_id": ["F1"] * 7 + ["F2"] * 2,
        "country_code": [*"ABCDEFG", "A", "B"], "novice": [False] * 9,
        "chosen": [False] * 5 + [True, False] + [False, True],
    })  # fmt: skip
    score = np.array([7, 6, 5, 4, 3, 2, 1, 1, 1], dtype=float)
    assert ranks(rows, score).tolist() == [1, 2, 3, 4, 5, 6, 7, 1, 2]  # ties by country code
    result = per_set(rows, score)
    assert result.loc["a", "hit"] == False and result.loc["a", "rr"] == pytest.approx(1 / 6)  # noqa: E712
    assert result.loc["b", "hit"] == True and result.loc["b", "rr"] == 0.5  # noqa: E712


def test_every_exporter_gets_its_top_markets_novices_and_cold_starts_included() -> None:
    tables = handmade.tables()
    suggestions, cold, current = score_all(MarketWorld(tables), MODEL, "v-test")
    per_firm = suggestions.groupby("firm_id")["rank"].apply(list).to_dict()
    assert per_firm["EXP000003"] == [1, 2, 3, 4, 5]  # never exported: all five countries
    assert per_firm["EXP000001"] == [1, 2, 3, 4]  # exports to VNM: the other four
    assert suggestions.groupby("firm_id")["novice"].first().to_dict() == {
        "EXP000001": False, "EXP000002": False, "EXP000003": True, "EXP000004": True
    }  # fmt: skip
    assert set(current["country_code"]) == {"VNM"}
    assert (suggestions["as_of_year"] == 2024).all()  # the last year of export records
    # Per main chapter (85; EXP000002's main chapter is its first code's) and size band.
    assert sorted(cold["firm_id"].unique()) == [
        "_cold#85#large",
        "_cold#85#medium",
        "_cold#85#small",
    ]
    assert (cold.groupby("firm_id").size() == SUGGESTION_COUNT).all()
    assert cold["novice"].all()
    assert abs(suggestions.groupby("firm_id")["score"].sum() - 1).max() <= 1.0
    assert suggestions["reasons_en"].map(len).min() >= 1
    assert suggestions["reasons_ko"].map(len).equals(suggestions["reasons_en"].map(len))


def test_reasons_say_the_figures_behind_the_strongest_terms() -> None:
    row = {"country_code": "VNM", "hs_chapter": "85", "size_band": "small", "demand": np.log(4.2e9),
           "growth": 0.1, "fx": 0.05, "price_fit": 0.6, "crisis": 0.0, "buyer_count": 14,
           "peer_count": 9, **{f"{t}_term": 0.0 for t in EVIDENCE_TERMS}}  # fmt: skip
    row |= {"demand_term": 1.2, "peers_term": 0.8, "buyers_term": 0.5, "crisis_term": 0.3}
    en, ko = reasons(row, 2024)
    assert en == [
        "Korea exported USD 4.2 bn of HS 85 goods to VNM in 2024",
        "9 similar firms (HS 85, small) kept exporting there in 2024",
        "14 buyers in the agency's database ask for your HS chapters there",
    ]
    assert ko[0] == "2024년 한국의 VNM 대상 HS 85 수출 42억 달러" and "9곳" in ko[1]
    flat = {**row, **{f"{t}_term": -0.2 for t in EVIDENCE_TERMS}}
    assert reasons(flat, 2024) == ([GENERAL[0]], [GENERAL[1]])


def test_a_missing_or_empty_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingTable, match="no path given for the exporters table"):
        read_tables({})
    paths = {t: tmp_path / t for t in INPUT_TABLES}
    with pytest.raises(MissingTable, match="exporters: no Parquet files under"):
        read_tables(paths)


def test_the_training_script_fails_with_its_reason(tmp_path: Path) -> None:
    args = [f"--{t.replace('_', '-')}={tmp_path / t}" for t in INPUT_TABLES]
    (tmp_path / "output").mkdir()
    done = subprocess.run(
        [sys.executable, str(ROOT / "sagemaker_jobs/markets/train.py"), *args,
         f"--model-dir={tmp_path / 'model'}", f"--output-data-dir={tmp_path / 'out'}"],
        capture_output=True, text=True, env={"SM_OUTPUT_DIR": str(tmp_path / "output"), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 1
    assert "no Parquet files under" in (tmp_path / "output" / "failure").read_text()


def test_the_scripts_train_and_score_a_hand_made_lake(tmp_path: Path) -> None:
    """Entries of the hand-made lake: EXP000003 enters MEX in 2021 and USA in 2023, EXP000004
    JPN in 2022, EXP000001 DEU in 2024: enough for the protocol to run end to end."""

    def entries(frames: dict[str, pd.DataFrame]) -> None:
        frames["export_history"] = handmade.with_rows(frames["export_history"], [
            {"firm_id": f, "year": y, "hs_code": "850440", "destination_country": c,
             "export_value_usd": 1e5}
            for f, y, c in (("EXP000003", 2021, "MEX"), ("EXP000003", 2023, "USA"),
                            ("EXP000004", 2022, "JPN"), ("EXP000001", 2024, "DEU"))
        ])  # fmt: skip

    tables = handmade.tables(entries)
    args = []
    for table in INPUT_TABLES:
        folder = tmp_path / "tables" / table
        folder.mkdir(parents=True)
        getattr(tables, table).to_parquet(folder / "part-0.parquet", index=False)
        args.append(f"--{table.replace('_', '-')}={folder}")
    model, out, scores = tmp_path / "model", tmp_path / "out", tmp_path / "scores"
    train = [sys.executable, str(ROOT / "sagemaker_jobs/markets/train.py"), *args,
             f"--model-dir={model}", f"--output-data-dir={out}", "--test-years=2",
             "--bootstrap-resamples=20", "--model-version=markets-hand"]  # fmt: skip
    subprocess.run(train, check=True, capture_output=True)
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["model_version"] == "markets-hand"
    assert metrics["held_out"]["years"] == [2023, 2024]
    assert metrics["train_years"] == [2019, 2020, 2021, 2022]
    hits = metrics["held_out"]["hit_at_5"]
    leads = {"model_minus_largest_importers", "model_minus_fastest_growing"}
    assert set(hits) == {"model", "largest_importers", "fastest_growing", *leads}
    lead = hits["model_minus_largest_importers"]
    assert lead["value"] == pytest.approx(
        hits["model"]["value"] - hits["largest_importers"]["value"], abs=1e-3
    )
    assert lead["lo"] <= lead["value"] <= lead["hi"]
    score = [sys.executable, str(ROOT / "sagemaker_jobs/markets/score.py"), *args,
             f"--model-dir={model}", f"--output-dir={scores}"]  # fmt: skip
    done = subprocess.run(score, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((scores / "scoring.json").read_text())
    assert summary == {"model_version": "markets-hand", "as_of_year": 2024, "firms": 4,
                       "rows": 3 + 4 + 3 + 4, "novices": 1, "cold_start_lists": 3}  # fmt: skip
    suggestions = pd.read_parquet(scores / "suggestions.parquet")
    assert not (
        (suggestions["firm_id"] == "EXP000003") & suggestions["country_code"].isin(["MEX", "USA"])
    ).any()
