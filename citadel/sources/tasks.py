"""Background tasks. Thin: they take ids and call services."""

from django.tasks import task

from citadel.sources import services


@task(queue_name="default")
def source_sync_run(sync_id: int) -> dict:
    result = services.source_sync_run(sync_id=sync_id)
    return {"sync_id": sync_id, "status": result.sync.status if result else "missing"}
