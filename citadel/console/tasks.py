from django.tasks import task

from citadel.console.selectors import organizations_to_refresh
from citadel.console.services import console_refresh


@task(queue_name="maintenance")
def console_refresh_task() -> int:
    """Scheduled by `manage.py worker`; returns how many organizations' rollups were refreshed."""
    organizations = organizations_to_refresh()
    for organization in organizations:
        console_refresh(organization=organization)
    return len(organizations)
