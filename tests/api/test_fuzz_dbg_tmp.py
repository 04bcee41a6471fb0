"""Schemathesis fuzzes every operation of /api/v1/openapi.json in-process (the Django WSGI app,
the test database), with a valid bearer token, in both generation modes (valid inputs and
inputs that break the schema): no input may cause a 5xx, and every response must match what
the schema documents for its status. Bounded: a few examples per operation and mode, no
shrinking, and a wall-clock budget after which no further requests are sent."""

import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import make_document

BUDGET_SECONDS = 35
STATS = []
EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI app, minus the per-request connection cleanup that would close the test's
    connection mid-transaction (Django's test client switches it off the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_input_causes_a_server_error_or_a_schema_violation(wsgi_app, world, token_for):
    # Given two organizations with documents, and an acme admin's token
    acme = world.org("acme")
    world.user("bob", acme, teams=["support"])
    make_document(acme, "handbook", ["Refunds take 14 days.", "Shipping is free within the EU."])
    make_document(world.org("globex"), "globex-secret", ["Globex launch codes."])
    headers = {"Authorization": f"Bearer {token_for('ann', 'acme', role='admin')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    stop_at = time.monotonic() + BUDGET_SECONDS
    failures: list[str] = []
    calls = 0

    # When every operation is called with generated inputs
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case):
                nonlocal calls
                if time.monotonic() > stop_at:
                    return
                calls += 1
                try:
                    r = case.call_and_validate(headers=headers, checks=CHECKS); STATS.append((case.method, case.path, mode.value, r.status_code))
                except AssertionError as exc:
                    failures.append(f"{case.method} {case.formatted_path} ({mode.value}): {exc}"[:2000])

            call()

    # Then nothing failed, and the budget still left room for real coverage
    import collections; print(collections.Counter(STATS).most_common()); print(len(STATS), calls)
    assert not failures, "\n\n".join(failures[:10])
    assert calls >= len(list(schema.get_all_operations()))
