from django.tasks import task

from citadel.gaps.services import gaps_refresh_all


@task(queue_name="maintenance")
def gaps_refresh_task() -> int:
    """Scheduled by `manage.py worker`; returns how many organizations' gaps were recomputed."""
    return gaps_refresh_all()
