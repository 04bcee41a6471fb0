"""Reads for the operations page and the metrics endpoint.

`scope` is an organization id (an organization admin sees their own tasks and costs) or None
(staff see everything). Tasks belong to an organization through ops.TaskOrigin; a task with no
known organization is visible to staff only.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import CharField, Count, Max, Q, Sum
from django.db.models.functions import Cast, TruncDate
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from citadel.accounts.models import Organization
from citadel.audit.models import PromptLog
from citadel.documents.models import DocumentVersion
from citadel.jobs.models import WorkerHeartbeat
from citadel.ops.models import TaskOrigin

DEFAULT_HEARTBEAT_STALE_SECONDS = 30
LIST_LIMIT = 50


def heartbeat_stale_seconds() -> int:
    return int(settings.CITADEL.get("WORKER_STALE_SECONDS", DEFAULT_HEARTBEAT_STALE_SECONDS))


def heartbeat_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=heartbeat_stale_seconds())


def uses_database_queue() -> bool:
    return isinstance(task_backends["default"], DatabaseBackend)


def queue_names() -> list[str]:
    return list(settings.TASKS["default"].get("QUEUES") or ["default"])


def scoped_tasks(scope: int | None):
    tasks = DBTaskResult.objects.all()
    if scope is None:
        return tasks
    mine = TaskOrigin.objects.filter(organization_id=scope).values("task_id")
    return tasks.annotate(id_text=Cast("id", CharField())).filter(id_text__in=mine)


def queue_depths(*, scope: int | None) -> dict[str, int]:
    """Tasks waiting to run, per queue (every configured queue appears, empty ones as 0)."""
    depths = dict.fromkeys(queue_names(), 0)
    if uses_database_queue():
        rows = scoped_tasks(scope).ready().values("queue_name").annotate(n=Count("pk")).order_by()
        depths.update({row["queue_name"]: row["n"] for row in rows})
    elif scope is None:
        depths.update(_rq_queue_depths())
    return depths


def _rq_queue_depths() -> dict[str, int]:
    import django_rq

    return {name: django_rq.get_queue(name).count for name in queue_names()}


def task_status_counts() -> dict[tuple[str, str], int]:
    """(queue, status) -> number of task rows, for the metrics endpoint."""
    rows = DBTaskResult.objects.values("queue_name", "status").annotate(n=Count("pk")).order_by()
    return {(row["queue_name"], row["status"]): row["n"] for row in rows}


@dataclass(frozen=True)
class TaskRow:
    id: str
    task_path: str
    queue_name: str
    status: str
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str
    exception_class: str
    organization: str
    stuck: bool = False

    @property
    def task_name(self) -> str:
        return self.task_path.rsplit(".", 1)[-1]


def _rows(tasks, *, stuck_ids: frozenset[str] = frozenset()) -> list[TaskRow]:
    tasks = list(tasks[:LIST_LIMIT])
    origins = {
        o.task_id: o.organization.slug if o.organization else ""
        for o in TaskOrigin.objects.filter(task_id__in=[str(t.id) for t in tasks]).select_related("organization")
    }
    return [
        TaskRow(
            id=str(t.id),
            task_path=t.task_path,
            queue_name=t.queue_name,
            status=t.status,
            enqueued_at=t.enqueued_at,
            started_at=t.started_at,
            finished_at=t.finished_at,
            worker_id=t.worker_ids[-1] if t.worker_ids else "",
            exception_class=t.exception_class_path.rsplit(".", 1)[-1],
            organization=origins.get(str(t.id), ""),
            stuck=str(t.id) in stuck_ids,
        )
        for t in tasks
    ]


def running_tasks(*, scope: int | None) -> list[TaskRow]:
    """RUNNING tasks; `stuck` marks those whose worker stopped sending heartbeats."""
    running = scoped_tasks(scope).running().order_by("started_at")
    fresh_workers = set(
        WorkerHeartbeat.objects.filter(last_seen_at__gte=heartbeat_cutoff()).values_list("worker_id", flat=True)
    )
    stuck = frozenset(
        str(pk)
        for pk, workers in running.values_list("pk", "worker_ids")
        if not workers or workers[-1] not in fresh_workers
    )
    return _rows(running, stuck_ids=stuck)


def stuck_task_count() -> int:
    fresh_workers = list(
        WorkerHeartbeat.objects.filter(last_seen_at__gte=heartbeat_cutoff()).values_list("worker_id", flat=True)
    )
    return sum(
        1
        for workers in DBTaskResult.objects.running().values_list("worker_ids", flat=True)
        if not workers or workers[-1] not in fresh_workers
    )


def failed_tasks(*, scope: int | None) -> list[TaskRow]:
    """Failed tasks nobody has retried yet, newest first."""
    retried = TaskOrigin.objects.exclude(retried_as="").values("task_id")
    failed = (
        scoped_tasks(scope)
        .failed()
        .annotate(pk_text=Cast("id", CharField()))
        .exclude(pk_text__in=retried)
        .order_by("-finished_at")
    )
    return _rows(failed)


def worker_heartbeats() -> list[dict]:
    cutoff = heartbeat_cutoff()
    return [
        {
            "worker_id": hb.worker_id,
            "hostname": hb.hostname,
            "pid": hb.pid,
            "queues": hb.queues,
            "started_at": hb.started_at,
            "last_seen_at": hb.last_seen_at,
            "current_task_id": hb.current_task_id,
            "fresh": hb.last_seen_at >= cutoff,
        }
        for hb in WorkerHeartbeat.objects.order_by("hostname", "started_at")
    ]


def heartbeat_counts() -> dict[str, int]:
    cutoff = heartbeat_cutoff()
    counts = WorkerHeartbeat.objects.aggregate(
        fresh=Count("pk", filter=Q(last_seen_at__gte=cutoff)), stale=Count("pk", filter=Q(last_seen_at__lt=cutoff))
    )
    return {"fresh": counts["fresh"], "stale": counts["stale"]}


def newest_heartbeat() -> datetime | None:
    return WorkerHeartbeat.objects.aggregate(newest=Max("last_seen_at"))["newest"]


BREAKER_PREFIX = "citadel:breaker:"
LOCAL_PROVIDERS = {"extractive"}


def provider_status(*, scope: int | None) -> list[dict]:
    """Circuit-breaker state per provider endpoint (citadel.providers.resilience keeps it in the
    cache). Breakers are found from the cache's keys and from the providers organizations use;
    anything unreadable is reported as "unknown", never as "closed"."""
    try:
        from citadel.providers.resilience import CircuitBreaker
    except ImportError:
        return [{"provider": p, "state": "unknown"} for p in _providers_in_use(scope)]
    try:
        cache.get(f"{BREAKER_PREFIX}probe")
    except Exception:  # noqa: BLE001 - a broken cache must not take the operations page down
        return [{"provider": p, "state": "unknown"} for p in _providers_in_use(scope)]
    in_use = _providers_in_use(scope)
    names = {n for n in _breaker_names_in_cache() if scope is None or n.split(":", 1)[0] in in_use}
    rows = [{"provider": name, "state": CircuitBreaker(name).state()} for name in sorted(names)]
    for provider in sorted(in_use):
        if provider in LOCAL_PROVIDERS:
            rows.append({"provider": provider, "state": "local"})
        elif not any(n.split(":", 1)[0] == provider for n in names):
            # No breaker keys: no failure recorded since the last success.
            rows.append({"provider": provider, "state": "closed"})
    return rows


def _providers_in_use(scope: int | None) -> set[str]:
    orgs = Organization.objects.all() if scope is None else Organization.objects.filter(pk=scope)
    return set(orgs.values_list("generation_provider", flat=True).distinct())


def _breaker_names_in_cache() -> set[str]:
    """Breaker names, read from the DatabaseCache table (other cache backends cannot list keys;
    there, only the providers in use are shown)."""
    config = settings.CACHES["default"]
    if config["BACKEND"] != "django.core.cache.backends.db.DatabaseCache":
        return set()
    table = connection.ops.quote_name(config["LOCATION"])
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key FROM {table} WHERE cache_key LIKE %s", [f"%{BREAKER_PREFIX}%"])
            keys = [row[0] for row in cursor.fetchall()]
    except DatabaseError:
        return set()
    return {key.split(BREAKER_PREFIX, 1)[1].rsplit(":", 1)[0] for key in keys}


def cost_per_day(*, scope: int | None, days: int = 30, today: date | None = None) -> dict:
    """{"days": [date, ...], "organizations": [slug, ...], "cost": {(day, slug): Decimal}}."""
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    logs = PromptLog.objects.filter(started_at__date__gte=first, started_at__date__lte=today)
    if scope is not None:
        logs = logs.filter(organization_id=scope)
    rows = (
        logs.annotate(day=TruncDate("started_at"))
        .values("day", "organization__slug")
        .annotate(cost=Sum("cost_usd"))
        .order_by()
    )
    cost: dict[tuple[date, str], Decimal] = {}
    for row in rows:
        cost[(row["day"], row["organization__slug"])] = row["cost"] or Decimal(0)
    return {
        "days": [first + timedelta(days=i) for i in range(days)],
        "organizations": sorted({slug for _, slug in cost}),
        "cost": cost,
    }


def documents_per_state() -> dict[str, int]:
    rows = DocumentVersion.objects.values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)


def model_call_stats() -> list[dict]:
    """Per provider and status: calls, tokens, cost and a latency histogram, from PromptLog."""
    buckets = {f"le_{b}": Count("pk", filter=Q(latency_ms__lte=b)) for b in LATENCY_BUCKETS_MS}
    rows = (
        PromptLog.objects.values("provider", "status")
        .annotate(
            calls=Count("pk"),
            timed=Count("latency_ms"),
            latency_ms_sum=Sum("latency_ms"),
            tokens_in=Sum("tokens_in"),
            tokens_out=Sum("tokens_out"),
            cost_usd=Sum("cost_usd"),
            **buckets,
        )
        .order_by("provider", "status")
    )
    return list(rows)
