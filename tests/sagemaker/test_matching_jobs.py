"""The matching jobs as SageMaker runs them: processes, paths in the SM_* environment, a generic
channel, metrics from held-out data, both directions' recommendations, clear failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from exportintel.contracts import get_contract
from exportintel.contracts.schemas import arrow_schema
from sagemaker_jobs.matching import score as score_job
from tests.matching.world import World, make_world

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "sagemaker_jobs" / "matching"
# Small trees on one thread, fewer resamples: the job's contract, not its defaults, is tested.
TRAIN_ARGS = ("--bootstrap-resamples", "50", "--xgb-max-depth", "4", "--xgb-num-round", "150",
              "--xgb-nthread", "1")  # fmt: skip
K = 20


def run_job(
    script: str, env: dict[str, str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`python sagemaker_jobs/matching/<script>` in `cwd` with the SM_* variables in `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    return subprocess.run(
        [sys.executable, str(JOBS / script), *args],
        env={**environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def training_env(base: Path) -> dict[str, str]:
    return {
        "SM_CHANNEL_TRAIN": str(base / "input" / "data" / "train"),
        "SM_MODEL_DIR": str(base / "model"),
        "SM_OUTPUT_DATA_DIR": str(base / "output" / "data"),
        "SM_OUTPUT_DIR": str(base / "output"),
    }


def write_channel(world: World, folder: Path, *, sides: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    world.interactions.to_parquet(folder / "interactions.parquet", index=False)
    if sides:
        world.exporters.to_parquet(folder / "exporters.parquet", index=False)
        world.buyers.to_parquet(folder / "buyers.parquet", index=False)
    return folder


@dataclass(frozen=True)
class Run:
    base: Path
    world: World
    train: subprocess.CompletedProcess[str]
    score: subprocess.CompletedProcess[str]

    @property
    def metrics(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "metrics.json").read_text(encoding="utf-8"))

    def recommendations(self, name: str = "recommendations.parquet") -> pd.DataFrame:
        return pd.read_parquet(self.base / "scored" / name)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(seed=1, sessions=2_500)


@pytest.fixture(scope="module")
def run(world: World, tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("matching-job")
    env = training_env(base)
    (base / "output").mkdir()
    write_channel(world, Path(env["SM_CHANNEL_TRAIN"]))
    trained = run_job("train.py", env, *TRAIN_ARGS, cwd=base)
    assert trained.returncode == 0, trained.stderr[-3000:]
    score_env = {"SM_CHANNEL_MODEL": str(base / "model"),
                 "SM_OUTPUT_DATA_DIR": str(base / "scored")}  # fmt: skip
    scored = run_job("score.py", score_env, "--k", str(K), cwd=base)
    assert scored.returncode == 0, scored.stderr[-3000:]
    return Run(base, world, trained, scored)


def test_training_writes_the_model_and_held_out_metrics(run: Run) -> None:
    names = {p.name for p in (run.base / "model").iterdir()}
    assert {"model.json", "metrics.json", "snapshot.npz", "exporter_ids.parquet",
            "buyer_ids.parquet", "exporters.parquet", "buyers.parquet",
            "ranker-exporter-own.json", "ranker-buyer-other.json"} <= names  # fmt: skip
    metrics = run.metrics
    output = json.loads((run.base / "output" / "data" / "metrics.json").read_text())
    assert output == metrics
    assert metrics["evaluated_on"] == "held-out interactions after the cutoff only"
    # The held-out window is the last 365 days.
    end = run.world.interactions["ts"].max() + pd.Timedelta(1, "s")
    assert pd.Timestamp(metrics["cutoff"]) == end - pd.Timedelta(days=365)
    for direction in ("exporter", "buyer"):
        models = metrics["directions"][direction]["slices"]["all"]["models"]
        assert set(models) == {"popular", "content", "cf", "hybrid", "one_sided"}
        for values in models.values():
            for interval in values.values():
                assert interval["lo"] <= interval["value"] <= interval["hi"]
    description = json.loads((run.base / "model" / "model.json").read_text())
    assert description["model_version"] == metrics["model_version"]
    assert description["model_version"].startswith("matching-")
    assert (run.base / "output" / "data" / "evaluation.txt").read_text().startswith("held out")


def test_scoring_writes_both_directions_by_the_contract(run: Run) -> None:
    schema = arrow_schema(get_contract("recommendations"))
    for name in ("recommendations.parquet", "recommendations_for_buyers.parquet"):
        assert pq.read_schema(run.base / "scored" / name).equals(schema)
    exporters = run.recommendations()
    buyers = run.recommendations("recommendations_for_buyers.parquet")
    assert set(exporters["exporter_id"]) == set(run.world.exporters["exporter_id"])
    assert exporters.groupby("exporter_id").size().max() == K
    bad = set(run.world.buyers.loc[run.world.buyers["bad_credit"], "buyer_id"])
    assert not bad & (set(exporters["buyer_id"]) | set(buyers["buyer_id"]))
    seen = set(zip(run.world.interactions["exporter_id"], run.world.interactions["buyer_id"],
                   strict=True))  # fmt: skip
    assert not seen & set(zip(exporters["exporter_id"], exporters["buyer_id"], strict=True))
    assert (exporters["direction"] == "buyers_for_exporter").all()
    assert (buyers["direction"] == "exporters_for_buyer").all()
    shown = exporters.dropna(subset=["shown_rank"])
    assert (shown["shown_rank"] == shown["rank"]).all()  # --explore 0: the plain top 10
    assert (exporters["reasons_en"].map(len) == exporters["reasons_ko"].map(len)).all()
    assert exporters["reason_codes"].map(len).gt(0).mean() > 0.9
    summary = json.loads((run.base / "scored" / "scoring.json").read_text())
    assert summary["buyers_for_exporter"]["rows"] == len(exporters)


def test_scoring_reads_a_model_tar_gz_and_explores_reproducibly(run: Run, tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in (run.base / "model").iterdir():
            tar.add(path, arcname=path.name)

    def shown(seed: int, out: str) -> pd.Series:
        code = score_job.main(["--model-dir", str(archive), "--output-dir", str(tmp_path / out),
                               "--k", str(K), "--explore", "0.7", "--seed", str(seed),
                               "--top-reasons", "0"])  # fmt: skip
        assert code == 0
        frame = pd.read_parquet(tmp_path / out / "recommendations.parquet")
        return frame["shown_rank"].fillna(0)

    first = shown(5, "a")
    assert first.equals(shown(5, "b"))
    assert not first.equals(shown(6, "c"))
    plain = run.recommendations()["shown_rank"].fillna(0)
    assert not first.equals(plain)


def _missing_weight(world: World) -> World:
    return World(world.interactions.drop(columns=["weight"]), world.exporters, world.buyers)


def _text_ts(world: World) -> World:
    return World(world.interactions.assign(ts="soon"), world.exporters, world.buyers)


def _one_month(world: World) -> World:
    events = world.interactions[world.interactions["ts"] >= "2024-12-01"]
    return World(events, world.exporters, world.buyers)


def _duplicate_buyer(world: World) -> World:
    buyers = pd.concat([world.buyers, world.buyers.iloc[:1]])
    return World(world.interactions, world.exporters, buyers)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_missing_weight, "missing column(s) 'weight'"),
        (_text_ts, "ts is not a timestamp"),
        (_one_month, "no interaction before the cutoff"),
        (_duplicate_buyer, "duplicated buyer_id"),
    ],
    ids=["missing-weight", "text-ts", "too-short", "duplicated-buyer"],
)
def test_bad_training_data_fails_clearly(
    world: World, change: Callable[[World], World], message: str, tmp_path: Path
) -> None:
    env = training_env(tmp_path)
    (tmp_path / "output").mkdir()
    write_channel(change(world), Path(env["SM_CHANNEL_TRAIN"]))
    done = run_job("train.py", env, *TRAIN_ARGS, cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert message in (tmp_path / "output" / "failure").read_text()
    assert not (tmp_path / "model" / "model.json").exists()


def test_bad_scoring_arguments_fail_clearly(run: Run, tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    env = {"SM_CHANNEL_MODEL": str(run.base / "model"), "SM_OUTPUT_DATA_DIR": str(tmp_path),
           "SM_OUTPUT_DIR": str(tmp_path / "output")}  # fmt: skip
    done = run_job("score.py", env, "--explore", "1.5", cwd=tmp_path)
    assert done.returncode == 1
    assert "--explore must be within 0..1" in done.stderr
    assert "Traceback" not in done.stderr
    missing = run_job("score.py", {**env, "SM_CHANNEL_MODEL": str(tmp_path / "none")},
                      cwd=tmp_path)  # fmt: skip
    assert missing.returncode == 1
    assert "no model.json" in missing.stderr
