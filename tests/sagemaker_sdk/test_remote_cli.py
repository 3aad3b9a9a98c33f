"""`exportintel train <model> --on sagemaker` through `train_remote`, against moto."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from exportintel.cli.remote import INSTALL_HINT, add_arguments, train_remote
from exportintel.cloud.sagemaker_train import bundle_output_key, role_output_key
from tests.sagemaker_sdk.conftest import BUNDLE_URI, ROLE_ARN


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    outputs = {
        "ArtifactsBucket": "exportintel-dev-artifacts",
        "CuratedBucket": "exportintel-dev-curated",
        role_output_key("continuity"): ROLE_ARN,
        bundle_output_key("continuity"): BUNDLE_URI,
    }
    path.write_text(json.dumps({"Dev-Platform": outputs}), encoding="utf-8")
    return path


def test_the_job_starts_from_the_stack_outputs(
    aws: Any, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = train_remote(parse("continuity", "--stack-outputs", str(outputs_file), "--no-wait"))
    assert code == 0
    printed = capsys.readouterr().out
    assert "continuity continuity-" in printed and "InProgress" in printed
    [job] = aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    described = aws.client("sagemaker").describe_training_job(
        TrainingJobName=job["TrainingJobName"]
    )
    assert json.loads(described["HyperParameters"]["sagemaker_submit_directory"]) == BUNDLE_URI


def test_without_the_sdk_the_command_says_what_to_install(
    outputs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sagemaker.core", None)  # import fails as if absent
    assert train_remote(parse("continuity", "--stack-outputs", str(outputs_file))) == 2
    assert INSTALL_HINT in capsys.readouterr().err


def test_missing_outputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"Dev-Platform": {"ArtifactsBucket": "a"}}), encoding="utf-8")
    assert train_remote(parse("matching", "--stack-outputs", str(path))) == 2
    assert "MatchingSagemakerRoleArn" in capsys.readouterr().err
