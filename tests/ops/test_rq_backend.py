"""The RQ backend (django-tasks-rq) against the Redis server on this machine."""

import uuid

import pytest
from django.test import override_settings

from citadel.core import context
from citadel.ops.models import CanaryRun, TaskOrigin
from citadel.ops.tasks import canary
from tests.ops.conftest import QUEUES

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return client


@pytest.fixture
def rq_backend(db):
    redis_or_skip()
    # A queue name of its own, so a developer's real queues on the same Redis are never touched.
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [*QUEUES, queue]}},
        RQ_QUEUES={name: {"URL": REDIS_URL} for name in [*QUEUES, queue]},
        RQ={"JOB_CLASS": "django_tasks_rq.Job"},
    ):
        import django_rq

        yield queue
        django_rq.get_queue(queue).delete(delete_jobs=True)


def test_a_task_round_trips_through_redis(rq_backend, world):
    import django_rq
    from rq import SimpleWorker

    # Given a canary enqueued on the RQ backend for acme
    org = world.org("acme")
    with context.bind(organization_id=org.pk):
        result = canary.using(queue_name=rq_backend).enqueue("through-redis")
    assert result.status == "READY"
    assert django_rq.get_queue(rq_backend).count == 1
    assert TaskOrigin.objects.get(task_id=str(result.id)).organization == org

    # When an RQ worker drains the queue (in this process, so it shares the test transaction)
    worker = django_rq.get_worker(rq_backend, worker_class=SimpleWorker)
    worker.work(burst=True)

    # Then the task ran once and its result is readable through Django's task API
    assert CanaryRun.objects.filter(key="through-redis").count() == 1
    fetched = canary.get_result(result.id)
    assert fetched.status == "SUCCESSFUL"
    assert fetched.return_value == CanaryRun.objects.get(key="through-redis").pk
    assert django_rq.get_queue(rq_backend).count == 0
