"""The continuity jobs' generic contract, as processes: any feature names, SM_* paths,
metrics with intervals on later years, the index with reasons, clear failures."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sagemaker_jobs.continuity import score as score_job
from tests.sagemaker.conftest import JobRun, run_job, training_env
from tests.sagemaker.data import breast_cancer_features, write_channel

METRIC_KEYS = {"auc", "ks", "brier", "ece"}
MODELS = {"lr", "xgboost", "baseline"}


def test_training_writes_the_model_and_the_output_data(breast_cancer_run: JobRun) -> None:
    model_dir = breast_cancer_run.model_dir
    assert {p.name for p in model_dir.iterdir()} == {
        "model.joblib", "xgboost-model.json", "model.json", "metrics.json"}  # fmt: skip
    output = breast_cancer_run.base / "output" / "data"
    assert json.loads((output / "metrics.json").read_text()) == breast_cancer_run.metrics
    predictions = pd.read_parquet(output / "test_predictions.parquet")
    assert set(predictions.columns) == {
        "firm_id", "year", "label", "p_lr", "p_xgboost", "p_baseline"}  # fmt: skip
    assert len(predictions) == breast_cancer_run.metrics["n"]


def test_model_json_describes_the_generic_features(breast_cancer_run: JobRun) -> None:
    description = breast_cancer_run.description
    features = {f["name"]: f for f in description["features"]}
    columns = set(breast_cancer_run.features.columns) - {"firm_id", "year", "label"}
    # Every column, whatever its name, is a feature, unless screened out as a near-duplicate
    # of a kept one (radius, perimeter and area of the same cells are nearly collinear).
    screened = breast_cancer_run.metrics["features"]["screened_out"]
    screened_names = {d["feature"] for d in screened}
    assert {"mean perimeter", "mean area"} & screened_names
    for drop in screened:
        assert drop["reason"] == "near-duplicate" and abs(drop["r"]) >= 0.9
        # The one kept instead may itself fall to a stronger duplicate later on.
        assert drop["kept_instead"] in features or drop["kept_instead"] in screened_names
    expected = columns - {d["feature"] for d in screened}
    assert set(features) == expected
    assert all(f["kind"] == "numeric" for name, f in features.items() if name != "region")
    region = features["region"]
    assert region["kind"] == "categorical"
    assert set(region["categories"]) == {"seoul", "busan", "gyeonggi", "daegu", "(other)",
                                         "(missing)"}  # fmt: skip
    assert description["chosen_model"] in {"lr", "xgboost"}
    assert description["threshold"] == 0.5
    assert description["model_version"].startswith(description["chosen_model"] + "-")
    coefficients = description["lr"]["coefficients"]
    assert {c["feature"] for c in coefficients} == expected
    assert {"region=seoul", "region=(other)"} <= {c["column"] for c in coefficients}


def test_metrics_hold_every_key_with_intervals(breast_cancer_run: JobRun) -> None:
    metrics = breast_cancer_run.metrics
    assert set(metrics["models"]) == MODELS
    for name in MODELS:
        for key in METRIC_KEYS:
            interval = metrics["models"][name][key]
            assert interval["lo"] <= interval["value"] <= interval["hi"], (name, key, interval)
    assert metrics["bootstrap"]["resamples"] == 500
    assert metrics["bootstrap"]["unit"] == "firm_id"
    assert metrics["n"] == metrics["rows"]["test"]["n"] > 0
    assert 0 < metrics["positives"] < metrics["n"]
    # No baseline column in this table: the baseline is the base rate, and it says so.
    assert "base rate" in metrics["models"]["baseline"]["definition"]
    assert metrics["models"]["baseline"]["auc"]["value"] == 0.5


def test_held_out_years_are_strictly_later_than_the_training_years(
    breast_cancer_run: JobRun,
) -> None:
    years = breast_cancer_run.metrics["years"]
    assert years == {"train": [2016, 2017, 2018], "validation": [2019, 2020, 2021],
                     "test": [2022, 2023]}  # fmt: skip
    assert min(years["validation"]) > max(years["train"])
    assert min(years["test"]) > max(years["train"] + years["validation"])
    predictions = pd.read_parquet(
        breast_cancer_run.base / "output" / "data" / "test_predictions.parquet"
    )
    assert set(predictions["year"]) == {2022, 2023}


def test_the_models_beat_the_base_rate(breast_cancer_run: JobRun) -> None:
    models = breast_cancer_run.metrics["models"]
    chosen = models[breast_cancer_run.metrics["chosen_model"]]
    assert chosen["auc"]["lo"] > models["baseline"]["auc"]["value"] + 0.2
    assert chosen["brier"]["hi"] < models["baseline"]["brier"]["value"]
    assert chosen["ks"]["lo"] > models["baseline"]["ks"]["value"]


def test_scoring_writes_the_index_with_reasons(breast_cancer_run: JobRun) -> None:
    schema = pq.read_schema(breast_cancer_run.base / "scored" / "index.parquet")
    assert schema.names == ["firm_id", "year", "index", "risk_group", "model_version", "reasons"]
    assert str(schema.field("reasons").type) == (
        "list<element: struct<rank: int32, feature: string, contribution: double, "
        "value: string, direction: string, reason_ko: string, reason_en: string>>"
    )
    index = breast_cancer_run.index
    assert len(index) == len(breast_cancer_run.scored_input)
    assert index[["firm_id", "year"]].equals(
        breast_cancer_run.scored_input[["firm_id", "year"]].astype({"year": "int32"})
    )
    assert index["index"].between(0.0, 1.0).all()
    assert (index["risk_group"] == (index["index"] < 0.5)).all()
    assert 0 < index["risk_group"].sum() < len(index)
    assert (index["model_version"] == breast_cancer_run.description["model_version"]).all()
    feature_names = {f["name"] for f in breast_cancer_run.description["features"]}
    for reasons in index["reasons"]:
        assert len(reasons) <= 3
        contributions = [r["contribution"] for r in reasons]
        assert all(c < 0 for c in contributions)
        assert contributions == sorted(contributions)
        assert [r["rank"] for r in reasons] == list(range(1, len(reasons) + 1))
        for r in reasons:
            assert r["feature"] in feature_names
            if r["direction"] in ("low", "high"):  # not in the catalogue: the name itself
                assert r["reason_ko"] == r["reason_en"] == r["feature"]
    assert index["reasons"].map(len).sum() > 0


def test_scoring_takes_values_training_never_saw(breast_cancer_run: JobRun) -> None:
    index = breast_cancer_run.index
    assert not index["index"].isna().any()
    missing_region = [r for r in index.loc[1, "reasons"] if r["feature"] == "region"]
    for r in missing_region:
        assert (r["direction"], r["value"], r["reason_en"]) == ("missing", None, "region unknown")


def test_scoring_reads_a_model_tar_gz_and_the_other_model(
    breast_cancer_run: JobRun, tmp_path: Path
) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in breast_cancer_run.model_dir.iterdir():
            tar.add(path, arcname=path.name)
    code = score_job.main([
        "--model-dir", str(archive),
        "--score", str(breast_cancer_run.base / "input" / "data" / "score"),
        "--output-dir", str(tmp_path / "out"),
        "--model", "xgboost",
        "--threshold", "0.3",
    ])  # fmt: skip
    assert code == 0
    index = pd.read_parquet(tmp_path / "out" / "index.parquet")
    version = breast_cancer_run.description["model_version"]
    expected = version if breast_cancer_run.description["chosen_model"] == "xgboost" else (
        f"{version}:xgboost")  # fmt: skip
    assert (index["model_version"] == expected).all()
    assert (index["risk_group"] == (index["index"] < 0.3)).all()


def _no_label(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["label"])


def _no_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[0:0]


def _single_class(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(label=1)


def _three_years(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["year"] < 2019]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_no_label, "missing column 'label'"),
        (_no_rows, "empty file"),
        (_single_class, "single class"),
        (_three_years, "no held-out years left"),
    ],
    ids=["missing-label", "empty-file", "single-class", "no-held-out-years"],
)
def test_bad_training_data_fails_clearly(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str, tmp_path: Path
) -> None:
    env = training_env(tmp_path)
    (tmp_path / "output").mkdir()
    write_channel(change(breast_cancer_features()), Path(env["SM_CHANNEL_TRAIN"]))
    done = run_job("train.py", env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    # SageMaker shows this file as the job's FailureReason.
    assert message in (tmp_path / "output" / "failure").read_text()
    assert not (tmp_path / "model" / "model.json").exists()


def test_a_zero_byte_file_is_an_empty_file(tmp_path: Path) -> None:
    env = training_env(tmp_path)
    channel = Path(env["SM_CHANNEL_TRAIN"])
    channel.mkdir(parents=True)
    (channel / "features.parquet").write_bytes(b"")
    done = run_job("train.py", env, cwd=tmp_path)
    assert done.returncode == 1
    assert "empty file" in done.stderr
