from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.serving.world import World, serving_world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with serving_world(monkeypatch) as loaded:
        yield loaded
