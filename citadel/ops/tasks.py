from django.tasks import task

from citadel.ops.reaper import reap_stale as reap
from citadel.ops.services import canary_run_record


@task(queue_name="maintenance")
def canary(key: str) -> int:
    return canary_run_record(key=key)


@task(queue_name="maintenance")
def reap_stale() -> dict:
    """For task backends whose workers are not `manage.py worker` (RQ): cron can enqueue this."""
    return reap()
