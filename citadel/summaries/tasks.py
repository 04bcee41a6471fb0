"""Background tasks. Thin: they take ids and call services."""

from django.tasks import task

from citadel.summaries import services


@task(queue_name="default")
def summarize(summary_id: int) -> dict:
    """Write one summary. The summary is a run (citadel.jobs): a second delivery of this task, or
    one for a summary cancelled meanwhile, finds nothing to claim and does nothing."""
    summary = services.summary_write(summary_id=summary_id)
    return {"summary_id": summary_id, "status": summary.status if summary else "missing"}


@task(queue_name="default")
def summarize_ready_version(version_id: int) -> dict:
    summary = services.summary_for_ready_version(version_id=version_id)
    return {"version_id": version_id, "summary_id": summary.pk if summary else None}
