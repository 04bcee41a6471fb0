from django.tasks import task

from citadel.audit.services import prompt_logs_purge


@task(queue_name="maintenance")
def prompt_logs_purge_task() -> int:
    """Scheduled by `manage.py worker`; returns how many logs lost their raw content."""
    return sum(prompt_logs_purge().values())
