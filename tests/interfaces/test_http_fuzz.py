"""Fuzz every route from the service's own OpenAPI document: no input may cause a 5xx.

Schemathesis generates valid and invalid bodies, paths and query strings
from the schema; an admin key is sent, so the requests reach the handlers
rather than stopping at authentication.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from spimguard.interfaces.http import ServiceConfig, create_app


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """JSON Lines: the schema says 'a string', so send generated strings as they are."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


_DIR = Path(tempfile.mkdtemp(prefix="spimguard-fuzz-"))
APP = create_app(ServiceConfig(data_dir=_DIR, store="memory"))
_, TOKEN = APP.state.service.ledger.create_key("fuzz", ["check", "admin"])
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_input_causes_a_server_error(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
