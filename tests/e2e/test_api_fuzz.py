"""Schemathesis against the served OpenAPI document, as each kind of user.

A real server (werkzeug, threaded) on a free port serves the app on a SQLite
database seeded with the demo office and a few instances, so some generated
ids hit real rows. The OpenAPI document is fetched from the server itself
(GET /api/v1/openapi.json), and for every operation schemathesis generates
requests that fit the schema (positive) and requests that do not (negative),
a bounded number of each, sent with the bearer token of each kind of user and
with none. Every response must not be a 500, must carry a status the document
lists for that operation, and must match the document's schema for that
status, error bodies included.

Generation is derandomized so a run is reproducible; EXAMPLES bounds the
time (about 30 s on 2 cores for everything).
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from engine import bootstrap, services
from engine.clock import ManualClock
from engine.config import Settings
from engine.runtime import Runtime
from tests.conftest import MONDAY_MORNING, fresh_database
from tests.live import serve, token_for
from web.app import create_app

KEY = "monev_kegiatan_bidang"
# One user of each kind; None is anonymous (no Authorization header at all).
USERS = (None, "aptika.implementasi", "ikp.teknis", "sekretaris", "kepala.aptika", "kadis", "pemilik.proses",
         "admin")
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    config = Settings.from_env(database_url=fresh_database("sqlite", directory), data_dir=directory / "data")
    rt = Runtime(config, clock=ManualClock(MONDAY_MORNING))
    bootstrap.init(rt, demo=True)
    for bidang in ("aptika", "ikp"):
        instance_id = services.start(rt, KEY, bidang, f"Kegiatan {bidang}", "sekretaris", "2026-Q1")
        [task] = services.show(rt, instance_id)["current_steps"]
        services.claim(rt, task["id"], f"{bidang}.implementasi")
    with serve(create_app(runtime=rt)) as url:
        yield rt, url, schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    rt.dispose()


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("login", USERS, ids=lambda login: login or "anonymous")
def test_every_operation_answers_as_documented(live, login):
    rt, url, schema = live
    headers = {"Authorization": f"Bearer {token_for(rt, login)}"} if login else {}
    session = requests.Session()
    sent = 0
    for operation in operations(schema):
        for mode, examples in EXAMPLES.items():
            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal sent
                response = case.call(base_url=f"{url}/api/v1", session=session, headers=headers, timeout=30)
                sent += 1
                case.validate_response(response, checks=CHECKS, headers=headers)
            run()
    print(f"{login or 'anonymous'}: {sent} requests over {len(operations(schema))} operations")
    # Every operation was tried in both modes (a schema that lost its operations would pass vacuously).
    assert len(operations(schema)) >= 20
    assert sent >= len(operations(schema)) * 2
