"""Background tasks. Thin: they take ids and call services."""

from django.tasks import task

from citadel.classification import services


@task(queue_name="default")
def classify_ready_version(version_id: int) -> dict:
    labels = services.labels_for_ready_version(version_id=version_id)
    return {"version_id": version_id, "labels": len(labels)}


@task(queue_name="default")
def labelling_run_execute(run_id: int) -> dict:
    run = services.labelling_run_execute(run_id=run_id)
    return {"run_id": run_id, "status": run.status if run else "missing"}
