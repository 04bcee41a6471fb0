"""Background tasks. Thin: they take ids and call services."""

from django.tasks import task

from citadel.extraction import services


@task(queue_name="default")
def extraction_execute(extraction_id: int) -> dict:
    extraction = services.extraction_execute(extraction_id=extraction_id)
    return {"extraction_id": extraction_id, "status": extraction.status if extraction else "missing"}
