"""schemathesis over our own OpenAPI document: no 5xx, and responses match the schema.

15 examples an operation in `make test`; OCSEA_FUZZ_EXAMPLES=100 (or more) for the opt-in deep run
(`make fuzz`)."""

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from ocsea.service.access import create_api_key  # noqa: E402
from ocsea.service.app import create_app  # noqa: E402
from ocsea.store.db import make_engine  # noqa: E402
from ocsea.text.detector import Detector  # noqa: E402

ENGINE = make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='ocsea-fuzz-')) / 'f.db'}")
_, KEY = create_api_key(ENGINE, "fuzz", "admin", [], timedelta(hours=1))
APP = create_app(ENGINE, Detector.load(), rate_per_second=1e6, burst=10**6)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("OCSEA_FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_fails_and_matches_its_schema(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {KEY}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
