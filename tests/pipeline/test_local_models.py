"""The local runner reaches every model of the graph: its train and score steps and the job
arguments the CDK app takes from the same module."""

from __future__ import annotations

import pytest

from exportintel.pipeline.graph import MODELS
from exportintel.pipeline.local import model_module
from exportintel.settings import DEV


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_its_local_steps_and_job_arguments(model: str) -> None:
    module = model_module(model)
    assert model == module.MODEL
    assert callable(module.train) and callable(module.score)
    for arguments in (module.training_arguments(DEV), module.scoring_arguments(DEV)):
        assert all(isinstance(a, str) for a in arguments)


def test_an_unknown_model_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no model 'pricing'; models: continuity, matching"):
        model_module("pricing")
