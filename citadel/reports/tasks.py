"""Background tasks. Thin: they take ids and call services."""

from django.tasks import task

from citadel.reports import services


@task(queue_name="default")
def report_execute(report_id: int) -> dict:
    report = services.report_execute(report_id=report_id)
    return {"report_id": report_id, "status": report.status if report else "missing"}
