"""Schemathesis fuzzes every operation of /api/v1/openapi.json in-process (the Django WSGI app,
the test database), with a valid bearer token, in both generation modes (valid inputs and
inputs that break the schema): no input may cause a 5xx or a redirect, and every response must
match what the schema documents for its status. Each generated case is sent twice: at its
operation's schema path, and at the same path with the trailing slash toggled (the API answers
both forms alike). Bounded: a few examples per operation and mode, no shrinking, and a wall-clock
budget after which no further requests are sent."""

import re
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

BUDGET_SECONDS = 80
EXAMPLES = 6
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


def _other_form(path: str) -> str:
    """The path with its trailing slash removed, or added when it has none."""
    return path.removesuffix("/") if path.endswith("/") else f"{path}/"


def _fuzz(strategy, label: str, headers: dict, stop_at: float, failures: list[str]) -> int:
    """Send up to EXAMPLES cases drawn from `strategy`, each at both forms of its path; returns how
    many cases were sent."""
    sent = 0

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case):
        nonlocal sent
        if time.monotonic() > stop_at:
            return
        sent += 1
        for path, form in ((case.operation.path, ""), (_other_form(case.operation.path), " (slash toggled)")):
            case.path = path
            try:
                # Each call in its own savepoint, rolled back: like a request under autocommit, an
                # input the database refuses (a 422) cannot abort the transaction the next call uses.
                with transaction.atomic():
                    response = case.call_and_validate(headers=headers, checks=CHECKS)
                    transaction.set_rollback(True)
                # The API never redirects (scripts do not follow one, and a POST cannot be redirected)
                assert response.status_code // 100 != 3, f"{response.status_code} redirect"
            except AssertionError as exc:
                failures.append(f"{label}{form} {case.formatted_path}: {exc}"[:2000])

    call()
    return sent


def test_no_input_causes_a_server_error_or_a_schema_violation(wsgi_app, scenario, settings, tmp_path):
    # Given two organizations with documents, answers, a review and a run, and an acme admin's token
    settings.MEDIA_ROOT = tmp_path
    headers = {"Authorization": f"Bearer {scenario.ann_token}"}
    known_ids = scenario.path_ids()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    # Deletions last, so the other operations meet the known objects still there
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: (o.method == "delete", o.path))
    stop_at = time.monotonic() + BUDGET_SECONDS
    failures: list[str] = []
    calls = 0

    # When every operation is called with generated inputs: valid ones, ones that break the
    # schema, and valid ones aimed at objects that exist
    for operation in operations:
        names = re.findall(r"{(\w+)}", operation.path)
        passes = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if names:
            passes.append((GenerationMode.POSITIVE, {name: known_ids[name] for name in names}))
        for mode, path_parameters in passes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            label = f"{operation.label} ({mode.value})"
            calls += _fuzz(strategy, label, headers, stop_at, failures)

    # Then nothing failed, and the budget still left room for every operation to be called
    assert not failures, "\n\n".join(failures[:10])
    assert calls >= 2 * len(operations)
