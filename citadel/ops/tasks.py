from django.tasks import task

from citadel.ops.services import canary_run_record


@task(queue_name="maintenance")
def canary(key: str) -> int:
    return canary_run_record(key=key)
