from django.tasks import task

from citadel.documents.services import review_digests_send


@task(queue_name="maintenance")
def review_digests_task() -> int:
    """Scheduled by `manage.py worker` (citadel.ops.schedule); returns how many digests went out."""
    return review_digests_send()
