"""The load step's processing job runs in the XGBoost container, which has no Spark or Java:
its imports must not reach them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exportintel.pipeline.load_job import parse_args, risk_changes_key


def test_the_load_job_imports_without_spark() -> None:
    code = (
        "import sys\n"
        "import exportintel.pipeline.load_job, exportintel.pipeline.load\n"
        "import exportintel.continuity.alerts, exportintel.continuity.index\n"
        "import exportintel.serving.load, exportintel.matching.scoring\n"
        # The training arguments come from these (the CDK app and `train --on sagemaker`).
        "import exportintel.continuity.local, exportintel.matching.local\n"
        "import exportintel.markets.local, exportintel.serving.markets\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_arguments_are_all_required_but_the_paths() -> None:
    args = parse_args(
        ["--model-version", "v1", "--run-id", "r1", "--environment", "dev",
         "--curated-bucket", "c", "--artifacts-bucket", "a", "--firms-table", "f",
         "--matches-table", "m", "--continuity-table", "t", "--markets-table", "k"]
    )  # fmt: skip
    assert args.scores == "/opt/ml/processing/input/scores"
    assert args.markets_table == "k"
    with pytest.raises(SystemExit):
        parse_args(["--model-version", "v1"])
    assert risk_changes_key("r1") == "pipeline-runs/r1/risk-changes.json"


def test_an_unknown_model_has_no_load_step() -> None:
    from exportintel.pipeline.load_job import load

    args = parse_args(
        ["--model-version", "v1", "--run-id", "r1", "--environment", "dev",
         "--curated-bucket", "c", "--artifacts-bucket", "a", "--firms-table", "f",
         "--matches-table", "m", "--continuity-table", "t", "--markets-table", "k",
         "--workdir", "/nonexistent"]
    )  # fmt: skip
    with pytest.raises(ValueError, match="no load step for model 'pricing'"):
        load("pricing", args)
