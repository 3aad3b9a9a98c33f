"""The continuity jobs run as SageMaker runs them: a process, paths in the SM_* environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.sagemaker.data import breast_cancer_features, logistic_panel, write_channel

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "sagemaker_jobs" / "continuity"


def run_job(
    script: str, env: dict[str, str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`python sagemaker_jobs/continuity/<script>` in `cwd` with the SM_* variables in `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    return subprocess.run(
        [sys.executable, str(JOBS / script), *args],
        env={**environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,  # generous: a loaded 2-core machine imports xgboost slowly
    )


def training_env(base: Path) -> dict[str, str]:
    return {
        "SM_CHANNEL_TRAIN": str(base / "input" / "data" / "train"),
        "SM_MODEL_DIR": str(base / "model"),
        "SM_OUTPUT_DATA_DIR": str(base / "output" / "data"),
        "SM_OUTPUT_DIR": str(base / "output"),
    }


@dataclass(frozen=True)
class JobRun:
    """One training run and the scoring of its inputs, both as processes."""

    base: Path
    features: pd.DataFrame
    scored_input: pd.DataFrame
    train: subprocess.CompletedProcess[str]
    score: subprocess.CompletedProcess[str]

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def metrics(self) -> dict[str, Any]:
        return json.loads((self.model_dir / "metrics.json").read_text(encoding="utf-8"))

    @property
    def description(self) -> dict[str, Any]:
        return json.loads((self.model_dir / "model.json").read_text(encoding="utf-8"))

    @property
    def index(self) -> pd.DataFrame:
        return pd.read_parquet(self.base / "scored" / "index.parquet")


def train_and_score(base: Path, features: pd.DataFrame, scored_input: pd.DataFrame) -> JobRun:
    env = training_env(base)
    (base / "output").mkdir(parents=True)
    write_channel(features, Path(env["SM_CHANNEL_TRAIN"]))
    trained = run_job("train.py", env, cwd=base)
    assert trained.returncode == 0, trained.stderr[-3000:]
    score_env = {
        "SM_CHANNEL_SCORE": str(write_channel(scored_input, base / "input" / "data" / "score")),
        "SM_CHANNEL_MODEL": str(base / "model"),
        "SM_OUTPUT_DATA_DIR": str(base / "scored"),
    }
    scored = run_job("score.py", score_env, cwd=base)
    assert scored.returncode == 0, scored.stderr[-3000:]
    return JobRun(base, features, scored_input, trained, scored)


@pytest.fixture(scope="session")
def breast_cancer_run(tmp_path_factory: pytest.TempPathFactory) -> JobRun:
    """Trained on the breast-cancer table; scored on it with a few values the training years
    never showed: a missing number, a missing category and an unseen category."""
    features = breast_cancer_features()
    to_score = features.drop(columns=["label"]).copy()
    to_score.loc[0, "mean radius"] = float("nan")
    to_score.loc[1, "region"] = None
    to_score.loc[2, "region"] = "jeju"
    return train_and_score(tmp_path_factory.mktemp("breast-cancer"), features, to_score)


@pytest.fixture(scope="session")
def panel() -> pd.DataFrame:
    return logistic_panel()


@pytest.fixture(scope="session")
def panel_run(tmp_path_factory: pytest.TempPathFactory, panel: pd.DataFrame) -> JobRun:
    """Trained on the synthetic logistic panel, scored on its last year."""
    last = panel[panel["year"] == panel["year"].max()].drop(columns=["label"])
    return train_and_score(tmp_path_factory.mktemp("panel"), panel, last)
