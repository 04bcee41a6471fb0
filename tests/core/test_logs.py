"""Structured logs: request ids in and out, context on every line, and no user content."""

import json
import logging

import pytest

from citadel.core import context
from citadel.core.logs import JsonFormatter, logging_config, scrub, sentry_before_send
from citadel.ops.models import TaskOrigin
from citadel.ops.tasks import canary

QUESTION = "What is the salary of Bob Example in the 2026 plan?"


def json_lines(caplog, event=None) -> list[dict]:
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records]
    return [line for line in lines if event is None or line["event"] == event]


def test_a_callers_request_id_is_echoed_back(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")

    assert response["X-Request-ID"] == "lb-7f3a.42"


def test_a_request_without_an_id_gets_a_fresh_one_each_time(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32 and first != second


def test_an_unsafe_request_id_is_replaced_not_logged(client, db, caplog):
    caplog.set_level(logging.INFO)

    response = client.get("/healthz", HTTP_X_REQUEST_ID='evil"\n{"level":"critical"}')

    assert response["X-Request-ID"] != 'evil"\n{"level":"critical"}'
    assert all("evil" not in json.dumps(line) for line in json_lines(caplog))


def test_request_log_line_names_request_org_and_user_but_not_the_question(client, db, world, caplog):
    # Given a member of acme
    user = world.user("ann", "acme")
    client.force_login(user)
    caplog.set_level(logging.INFO)

    # When they search with a question in the query string
    response = client.get("/", {"q": QUESTION}, HTTP_X_REQUEST_ID="req-123")

    # Then the request's summary line is JSON with its context and timing
    assert response.status_code == 200
    [line] = json_lines(caplog, "request.finished")
    assert line["request_id"] == "req-123"
    assert line["organization"] == "acme"
    assert line["user_id"] == user.pk
    assert line["status"] == 200 and line["path"] == "/" and line["view"] == "home"
    assert line["duration_ms"] >= 0
    # And no log line carries the question
    assert all("salary" not in json.dumps(line) for line in json_lines(caplog))


def test_lines_logged_inside_a_context_carry_it(caplog):
    caplog.set_level(logging.INFO)

    with context.bind(request_id="r-1", organization="globex", organization_id=7, user_id=3):
        logging.getLogger("citadel.test").info("documents.uploaded", extra={"document_id": 12})

    [line] = json_lines(caplog, "documents.uploaded")
    assert line | {"ts": None} == {
        "ts": None,
        "level": "info",
        "logger": "citadel.test",
        "event": "documents.uploaded",
        "request_id": "r-1",
        "organization": "globex",
        "organization_id": 7,
        "user_id": 3,
        "document_id": 12,
    }


def test_content_keys_are_scrubbed_and_long_strings_cut(caplog):
    caplog.set_level(logging.INFO)

    logging.getLogger("citadel.test").warning(
        "answers.failed", extra={"question": QUESTION, "prompt": "system: ...", "detail": "x" * 5000}
    )

    [line] = json_lines(caplog, "answers.failed")
    assert line["question"] == "[scrubbed]" and line["prompt"] == "[scrubbed]"
    assert len(line["detail"]) < 400


def test_scrub_reaches_into_nested_values():
    cleaned = scrub({"metadata": {"Answer": "Bob earns 1M", "pages": [1, 2]}, "items": [{"text": "secret"}]})

    assert cleaned == {"metadata": {"Answer": "[scrubbed]", "pages": [1, 2]}, "items": [{"text": "[scrubbed]"}]}


def test_task_log_lines_carry_task_id_and_the_organization_it_was_enqueued_for(world, caplog):
    # Given a canary enqueued while acme is the bound organization (as in one of its requests)
    org = world.org("acme")
    caplog.set_level(logging.INFO)

    with context.bind(organization_id=org.pk, organization="acme"):
        result = canary.enqueue("log-context")

    # Then its start and finish lines name the task and the organization, with its timing
    started, finished = json_lines(caplog, "task.started")[0], json_lines(caplog, "task.finished")[0]
    assert started["task_id"] == finished["task_id"] == str(result.id)
    assert finished["organization"] == "acme" and finished["status"] == "successful"
    assert finished["queue"] == "maintenance" and finished["duration_ms"] >= 0
    assert TaskOrigin.objects.get(task_id=str(result.id)).organization == org
    # And the context is gone once the task is over
    assert context.get("task_id") is None


def test_sentry_events_lose_bodies_query_strings_locals_and_content():
    event = {
        "request": {"url": "https://x/search/", "query_string": f"q={QUESTION}", "data": {"question": QUESTION}},
        "extra": {"question": QUESTION, "document_id": 4},
        "exception": {"values": [{"value": "boom", "stacktrace": {"frames": [{"vars": {"text": QUESTION}}]}}]},
        "breadcrumbs": {"values": [{"message": "y" * 2000, "data": {"prompt": QUESTION}}]},
    }

    with context.bind(request_id="r-9"):
        cleaned = sentry_before_send(event, {})

    assert "salary" not in json.dumps(cleaned)
    assert cleaned["extra"] == {"question": "[scrubbed]", "document_id": 4}
    assert cleaned["tags"]["request_id"] == "r-9"


def test_sentry_reports_an_exception_without_the_question():
    import sentry_sdk
    from sentry_sdk.transport import Transport

    from citadel.core.logs import sentry_init

    sent = []

    class Capture(Transport):
        def capture_envelope(self, envelope):
            sent.append(envelope.serialize().decode())

    sentry_init(dsn="https://key@sentry.invalid/1", environment="test", transport=Capture)
    try:
        question = QUESTION  # a local the SDK would attach if it could
        try:
            raise ValueError("no evidence")
        except ValueError:
            sentry_sdk.set_extra("question", question)
            sentry_sdk.capture_exception()
        sentry_sdk.flush()
    finally:
        sentry_sdk.init()  # back to a disabled client

    assert sent and "no evidence" in sent[0]
    assert "salary" not in "".join(sent)


def test_logging_config_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml")


def test_sentry_is_configured_without_pii():
    import sentry_sdk

    from citadel.core.logs import sentry_init

    sentry_init(dsn="https://key@sentry.invalid/1", environment="test")
    try:
        options = sentry_sdk.get_client().options
        assert options["data_collection"]["user_info"] is False
        assert options["include_local_variables"] is False
        assert options["before_send"] is sentry_before_send
    finally:
        sentry_sdk.init()


def test_sql_with_its_parameters_is_never_logged_even_at_debug_level():
    config = logging_config(level="DEBUG")

    assert config["loggers"]["django.db.backends"]["level"] == "INFO"
