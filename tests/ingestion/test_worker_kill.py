"""Kill a real worker (SIGKILL) in the middle of ingesting a document: the reaper notices, the
version is re-queued, a second worker finishes it, and exactly one chunk set exists."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from citadel.documents.models import Chunk, DocumentVersion

ROOT = Path(settings.BASE_DIR)
IN_FLIGHT = {"scanning", "parsing", "chunking", "embedding", "indexing"}


def _env(tmp_path) -> dict:
    db = connection.settings_dict
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgresql://{auth}@/{db['NAME']}?host={quote(str(db['HOST']))}&port={db['PORT']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "CITADEL_DATA_DIR": str(tmp_path / "data"),
        "CITADEL_EMBEDDER": "fake",
        "CITADEL_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "CITADEL_INGEST_STEP_DELAY_SECONDS": "0.7",
        "CITADEL_TASK_LEASE_SECONDS": "2",
        "CITADEL_WORKER_STALE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }


def _manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _worker(env, tmp_path, name: str) -> subprocess.Popen:
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.2", "--no-startup-delay", "--worker-id", name],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_reaped_and_the_version_finishes_once(world, tmp_path):
    world.user("ada", "acme", role="admin")
    env = _env(tmp_path)
    document = tmp_path / "handbook.md"
    document.write_text(
        "\n\n".join(f"## Rule {n}\n\nRule {n}: the printer on floor {n} needs a badge." for n in range(150))
    )
    first = _worker(env, tmp_path, "worker-a")
    second = None
    try:
        uploaded = _manage(env, "ingest", str(document), "--as", "ada", "--json")
        assert uploaded.returncode == 0, uploaded.stderr
        version_id = DocumentVersion.objects.get(document_id=json.loads(uploaded.stdout)["id"]).pk

        _wait_for(lambda: DocumentVersion.objects.get(pk=version_id).status in {"embedding"}, 60, "the worker to embed")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        task = DBTaskResult.objects.get(task_path="citadel.ingestion.tasks.ingest_version")
        assert task.status == "RUNNING"
        assert DocumentVersion.objects.get(pk=version_id).status in IN_FLIGHT

        time.sleep(2.5)  # the lease and the heartbeat go stale
        reaped = _manage(env, "reap_stale", "--json")
        assert reaped.returncode == 0, reaped.stderr
        report = json.loads(reaped.stdout)
        assert report["tasks_failed"] == [str(task.pk)]
        assert report["versions_requeued"] == [version_id]

        second = _worker(env, tmp_path, "worker-b")
        _wait_for(lambda: DocumentVersion.objects.get(pk=version_id).status == "ready", 90, "the second worker")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
        shutil.rmtree(tmp_path / "data", ignore_errors=True)

    version = DocumentVersion.objects.get(pk=version_id)
    task.refresh_from_db()
    assert task.status == "FAILED" and task.exception_class_path == "citadel.ops.WorkerLost"
    assert version.attempts == 2 and version.chunks_done == version.chunks_total > 0
    per_ordinal = Chunk.objects.filter(version=version).values("ordinal").annotate(n=Count("pk"))
    assert {row["n"] for row in per_ordinal} == {1}
    assert version.document.current_version_id == version.pk
