from __future__ import annotations

from collections.abc import Iterator

import pytest

from exportintel.local.api import LocalApi, serve
from tests.serving.world import World, serving_world

API_TOKEN = "t" * 43


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with serving_world(monkeypatch) as loaded:
        yield loaded


@pytest.fixture
def api(world: World) -> Iterator[LocalApi]:
    """The local HTTP server over the world, on a free loopback port, token `API_TOKEN`."""
    server = serve(API_TOKEN)
    yield server
    server.shutdown()
    server.server_close()
