"""Fuzzing the local API from its own OpenAPI document (schemathesis): valid and invalid
inputs for every operation, with the token, over real HTTP on loopback. Nothing a client
sends may produce a 5xx. Bounded: a fixed number of examples per operation, derandomised."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from exportintel.local.api import LocalApi, openapi_document
from tests.serving.conftest import API_TOKEN

TOKEN = API_TOKEN
EXAMPLES = 25

# The document the local server serves (generated from the handlers, no server needed).
schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error(case: Any, api: LocalApi) -> None:
    response = case.call(base_url=api.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        reply = response.json()
        assert reply.get("message"), (case.method, case.formatted_path, reply)  # says why
