"""Several real workers on one database queue: every task runs exactly once, none is lost."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.backends.signals import connection_created
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from citadel.ops.models import CanaryRun
from citadel.ops.tasks import canary
from tests.ops.conftest import QUEUES

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
TASKS = 200
WORKERS = 4


@pytest.mark.slow
def test_four_workers_run_each_task_exactly_once(child_env):
    # Given 200 canaries in the database queue (each records its key under a unique constraint,
    # so a second run of any of them would fail and show up as a FAILED task)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}}):
        ids = {str(canary.enqueue(f"canary-{i}").id) for i in range(TASKS)}

    # When four worker processes drain the maintenance queue at once
    workers = [
        subprocess.Popen(
            [sys.executable, str(MANAGE), "worker", "--queue-name", "maintenance", "--batch", "--interval", "0.05"],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=180)[0])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [w.returncode for w in workers] == [0] * WORKERS, outputs

    # Then every task succeeded once: none failed (no double run), none is left behind (none lost)
    rows = DBTaskResult.objects.filter(pk__in=ids)
    assert rows.filter(status="SUCCESSFUL").count() == TASKS
    assert CanaryRun.objects.count() == TASKS
    assert set(CanaryRun.objects.values_list("key", flat=True)) == {f"canary-{i}" for i in range(TASKS)}
    # And the work really was shared between processes
    assert len({tuple(ids) for ids in rows.values_list("worker_ids", flat=True)}) > 1
    assert len(set(CanaryRun.objects.values_list("worker_pid", flat=True))) > 1


@pytest.mark.parametrize(("args", "expected"), [([], [19]), (["--nice", "3"], [3]), (["--nice", "0"], [])])
def test_workers_yield_the_cpu_to_web_requests(transactional_db, monkeypatch, args, expected):
    """Given the default worker niceness (19), when a worker starts, then it lowers its own CPU
    priority by that much, or by --nice; --nice 0 leaves it as it is."""
    calls = []
    monkeypatch.setattr("citadel.ops.management.commands.worker.os.nice", calls.append)
    # This process is the test run: it must not leave its session (tested in a child below).
    monkeypatch.setattr("citadel.ops.management.commands.worker._nice_own_session", lambda niceness: None)

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}}):
        # The ingestion queue: a maintenance worker would also start the prompt-log purge thread.
        call_command("worker", "--queue-name", "ingestion", "--batch", "--no-startup-delay", *args)

    assert calls == expected
    connection_created.disconnect(dispatch_uid="citadel-worker-nice")


NICE_OWN_SESSION = """
import os, sys
from pathlib import Path
import django
django.setup()
from citadel.ops.management.commands.worker import _nice_own_session
parent_session = os.getsid(0)
_nice_own_session(6)
autogroup = Path("/proc/self/autogroup")
print(parent_session != os.getsid(0), os.getsid(0) == os.getpid(), autogroup.read_text().split()[-1] if autogroup.exists() else "none")
"""


def test_a_niced_worker_leads_its_own_session_and_nices_its_scheduling_group(child_env):
    """Given a worker process started from another program's session, when it nices itself, then
    it leads a session of its own and, where the kernel groups scheduling by session (autogroup),
    that group gets the worker's niceness: nice alone ranks it only inside its session."""
    has_autogroup = Path("/proc/self/autogroup").exists()

    out = subprocess.run(
        [sys.executable, "-c", NICE_OWN_SESSION],
        env=child_env,
        cwd=MANAGE.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()

    assert out == (["True", "True", "6"] if has_autogroup else ["False", "False", "none"])


def test_a_niced_worker_nices_its_local_database_sessions_too(db, monkeypatch):
    """Given a worker at niceness 7 and the embedded server on this machine (a Unix socket), when
    it opens a database session, then the server process serving it gets niceness 7 as well."""
    from django.db import connection

    from citadel.ops.management.commands import worker

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    calls = []
    real_getpriority = os.getpriority
    monkeypatch.setattr(worker.os, "getpriority", lambda which, who: 7 if who == 0 else real_getpriority(which, who))
    monkeypatch.setattr(worker.os, "setpriority", lambda which, who, value: calls.append((who, value)))

    worker._nice_database_session(sender=None, connection=connection)

    assert calls == [(backend, 7)]
