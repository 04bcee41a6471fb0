"""Workers as the tests of background runs see them: a heartbeat written at a chosen time, a worker
process killed on the way, and a fake model that lets something happen during its n-th call."""

import contextvars
from datetime import timedelta

import pytest
from django.utils import timezone

from citadel.jobs.models import WorkerHeartbeat


class WorkerKilled(KeyboardInterrupt):
    """The worker's process dies (SIGKILL, its machine going away): nothing after it runs, not even
    an `except Exception`."""


def killed(call, *args, **kwargs) -> None:
    """Run `call` in a worker process that is killed on the way (WorkerKilled): what it bound for
    its log lines dies with it, as with a real process."""
    with pytest.raises(WorkerKilled):
        contextvars.copy_context().run(call, *args, **kwargs)


def heartbeat(worker_id: str, *, seconds_ago: int = 0) -> WorkerHeartbeat:
    """`manage.py worker` named `worker_id` beat `seconds_ago`."""
    now = timezone.now()
    return WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": "host",
            "pid": 1,
            "queues": "*",
            "started_at": now - timedelta(hours=3),
            "last_seen_at": now - timedelta(seconds=seconds_ago),
        },
    )[0]


class CallCounter:
    """Counts a fake model's calls; `on(n, what)` has `what` happen during the n-th call from now."""

    def __init__(self) -> None:
        self.calls = 0
        self.meanwhile: dict = {}

    def on(self, call: int, what) -> None:
        self.meanwhile[self.calls + call] = what

    def called(self) -> None:
        self.calls += 1
        what = self.meanwhile.pop(self.calls, None)
        if what is not None:
            what()
