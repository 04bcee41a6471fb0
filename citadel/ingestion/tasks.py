"""Background tasks. Thin: they take ids and call services."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from citadel.ingestion import cleanup, reembedding, services
from citadel.ingestion.errors import TransientIngestionError


@task(queue_name="ingestion")
def ingest_version(version_id: int) -> dict:
    return services.version_run(version_id=version_id)


@task(queue_name="ingestion")
def reembed_organization(change_id: int) -> dict:
    try:
        change = reembedding.embedding_model_change_run(change_id=change_id)
    except TransientIngestionError:
        if reembed_organization.get_backend().supports_defer:
            reembed_organization.using(run_after=timezone.now() + timedelta(seconds=30)).enqueue(change_id)
        raise
    return {"change_id": change_id, "status": change.status if change else "missing"}


@task(queue_name="maintenance")
def versions_cleanup_task() -> dict:
    """Scheduled (citadel.ops.schedule): every organization's lifecycle cleanup; per slug, what it deleted."""
    return cleanup.versions_cleanup_all()
