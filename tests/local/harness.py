"""One emulation server per test session, shared by tests/local and tests/ingest.

The server runs as the detached process `exportintel local up` starts, not in the pytest
process: moto keeps its data in module globals, and any `mock_aws` elsewhere in the session
would reset an in-process server's lake under these tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from exportintel.local.emulation import EmulatedAws
from exportintel.local.server import start_detached, stop_detached
from exportintel.local.state import STATE_FOLDER, load_or_create_key
from exportintel.settings import LOCAL, EnvironmentSettings


@dataclass
class RunningEmulation:
    home: Path  # what EXPORTINTEL_HOME points at
    state: Path
    endpoint_url: str
    aws: EmulatedAws  # the LOCAL environment, provisioned

    def environment(self, name: str, **overrides: Any) -> EmulatedAws:
        """Another environment on the same server: its own buckets, stream and tables."""
        aws = EmulatedAws(self.endpoint_url, EnvironmentSettings(name=name, **overrides))
        aws.provision(load_or_create_key(self.state))
        return aws


_shared: RunningEmulation | None = None


def shared_emulation(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory
) -> RunningEmulation:
    global _shared
    if _shared is None:
        home = factory.mktemp("exportintel-home")
        state = home / STATE_FOLDER
        server, _ = start_detached(state)

        def stop() -> None:
            global _shared
            stop_detached(state)
            _shared = None

        request.addfinalizer(stop)
        aws = EmulatedAws(server.endpoint_url, LOCAL)
        aws.provision(load_or_create_key(state))
        _shared = RunningEmulation(home, state, server.endpoint_url, aws)
    return _shared
