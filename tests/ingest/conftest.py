"""The session's emulation server (see tests/local/harness.py)."""

from __future__ import annotations

import pytest

from tests.local.harness import RunningEmulation, shared_emulation


@pytest.fixture(scope="session")
def emulation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> RunningEmulation:
    return shared_emulation(request, tmp_path_factory)
