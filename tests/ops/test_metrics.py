"""/metrics: Prometheus text with requests, queues, tasks, documents, model calls and retrieval."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from citadel.audit.prompt_logs import prompt_log_record
from citadel.core.metrics import RETRIEVAL_LATENCY
from citadel.ops.tasks import canary


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_served_without_login_and_count_requests(client, db):
    before = value(scrape(client), "citadel_http_requests_total", view="healthz", method="GET", status="200")
    client.get("/healthz")
    client.get("/healthz")

    samples = scrape(client)

    assert value(samples, "citadel_http_requests_total", view="healthz", method="GET", status="200") == before + 2
    assert value(samples, "citadel_metrics_database_up") == 1


def test_queue_depth_is_read_from_the_task_table(client, db_queue):
    for i in range(3):
        canary.enqueue(f"k{i}")

    samples = scrape(client)

    assert value(samples, "citadel_task_queue_depth", queue="maintenance") == 3
    assert value(samples, "citadel_task_queue_depth", queue="ingestion") == 0
    assert value(samples, "citadel_tasks", queue="maintenance", status="ready") == 3


def test_task_durations_and_outcomes_are_counted(client, db):
    before = value(
        scrape(client), "citadel_tasks_finished_total", task="canary", queue="maintenance", status="successful"
    )
    canary.enqueue("ran-in-process")

    samples = scrape(client)

    assert (
        value(samples, "citadel_tasks_finished_total", task="canary", queue="maintenance", status="successful")
        == before + 1
    )
    assert value(samples, "citadel_task_duration_seconds_count", task="canary", queue="maintenance") >= 1


def test_model_calls_tokens_cost_and_latency_per_provider(client, world):
    org = world.org("acme")
    start = timezone.now()
    for latency_ms, cost in ((80, "0.010000"), (1200, "0.020000")):
        prompt_log_record(
            organization=org,
            user_id=None,
            feature="answer",
            provider="openai",
            model="gpt-4o-mini",
            started_at=start,
            finished_at=start + timedelta(milliseconds=latency_ms),
            status="ok",
            tokens_in=100,
            tokens_out=20,
            cost_usd=Decimal(cost),
        )

    samples = scrape(client)

    assert value(samples, "citadel_model_calls_total", provider="openai", status="ok") == 2
    assert value(samples, "citadel_model_tokens_total", provider="openai", direction="in") == 200
    assert value(samples, "citadel_model_tokens_total", provider="openai", direction="out") == 40
    assert value(samples, "citadel_model_cost_usd_total", provider="openai") == pytest.approx(0.03)
    assert value(samples, "citadel_model_call_duration_seconds_bucket", provider="openai", status="ok", le="0.1") == 1
    assert value(samples, "citadel_model_call_duration_seconds_bucket", provider="openai", status="ok", le="+Inf") == 2
    assert value(samples, "citadel_model_call_duration_seconds_sum", provider="openai", status="ok") == pytest.approx(
        1.28
    )


def test_retrieval_latency_is_a_histogram_other_code_observes(client, db):
    before = value(scrape(client), "citadel_retrieval_duration_seconds_count")

    with RETRIEVAL_LATENCY.time():
        pass

    assert value(scrape(client), "citadel_retrieval_duration_seconds_count") == before + 1


def test_worker_heartbeats_are_counted(client, fresh_worker):
    assert value(scrape(client), "citadel_workers", state="fresh") == 1


def test_a_metrics_token_is_required_when_configured(client, db, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-scrape")

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape")


def test_documents_per_state_and_their_ingestion_queue(client, world, db_queue, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from citadel.documents.services import document_upload
    from citadel.ops.models import TaskOrigin

    # Given an upload whose ingestion task waits in the queue (enqueued outside any request)
    principal = world.principal("ada", "acme", role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        document_upload(
            principal=principal, file=ContentFile(b"# Leave\n\nTen days.", name="leave.md"), filename="leave.md"
        )

    samples = scrape(client)

    assert value(samples, "citadel_document_versions", state="uploaded") == 1
    assert value(samples, "citadel_task_queue_depth", queue="ingestion") == 1
    # And the task is known to belong to acme, from its version id
    assert TaskOrigin.objects.get(queue_name="ingestion").organization_id == principal.organization_id
