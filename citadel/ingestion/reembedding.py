"""A change of an organization's embedding model: new vectors are built beside the old ones,
which keep serving until the organization switches in one transaction."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import (
    Chunk,
    Document,
    EmbeddingChangeStatus,
    EmbeddingModelChange,
)
from citadel.ingestion.embedding import embed_missing, open_embedding_change
from citadel.ingestion.errors import TransientIngestionError
from citadel.ingestion.retries import MAX_ATTEMPTS
from citadel.providers.embeddings import get_embedder


def stale_chunks(*, organization_id: int, model: str):
    """Chunks of the organization's live versions that have no vector under `model` yet."""
    live = Document.objects.filter(organization_id=organization_id, current_version__isnull=False).values(
        "current_version_id"
    )
    return Chunk.objects.filter(organization_id=organization_id, version_id__in=live).exclude(embeddings__model=model)


def embedding_model_change_request(*, organization, model_name: str, actor=None) -> EmbeddingModelChange:
    """Mark the organization's chunks stale for `model_name` and queue the re-embedding. The old
    vectors keep serving until the re-embed switches the organization in one transaction."""
    from citadel.core.errors import InvalidInput

    model_name = (model_name or "").strip()
    if not model_name:
        raise InvalidInput("Name the embedding model to switch to.")
    if model_name == organization.embedding_model:
        raise InvalidInput(f"The organization already uses {model_name}.")
    try:
        get_embedder(model_name)
    except (ValueError, ImportError) as exc:
        raise InvalidInput(f"Unknown embedding model {model_name!r}.") from exc
    with transaction.atomic():
        if open_embedding_change(organization_id=organization.pk) is not None:
            raise InvalidInput("A change of embedding model is already in progress for this organization.")
        change = EmbeddingModelChange.objects.create(
            organization=organization,
            from_model=organization.embedding_model,
            to_model=model_name,
            requested_by=actor,
            chunks_total=stale_chunks(organization_id=organization.pk, model=model_name).count(),
        )
        audit_record(
            verb="organizations.embedding_model_change_requested",
            organization=organization,
            actor=actor,
            target=change,
            metadata={"from": change.from_model, "to": model_name, "stale_chunks": change.chunks_total},
        )
        enqueue_on_commit("citadel.ingestion.tasks.reembed_organization", change.pk)
    return change


def embedding_model_change_run(*, change_id: int) -> EmbeddingModelChange | None:
    """Build vectors for the new model beside the old, then switch the organization at once."""
    from citadel.accounts.models import Organization

    with transaction.atomic():
        change = EmbeddingModelChange.objects.select_for_update().filter(pk=change_id).first()
        if change is None or change.status not in (EmbeddingChangeStatus.PENDING, EmbeddingChangeStatus.RUNNING):
            return change
        change.status = EmbeddingChangeStatus.RUNNING
        change.save(update_fields=["status"])
    organization_id = change.organization_id

    def progress(n: int) -> None:
        EmbeddingModelChange.objects.filter(pk=change_id).update(chunks_done=F("chunks_done") + n)

    for _ in range(MAX_ATTEMPTS + 2):
        pending = (
            stale_chunks(organization_id=organization_id, model=change.to_model)
            .values_list("version_id", flat=True)
            .distinct()
        )
        for version_id in list(pending):
            embed_missing(
                version_id=version_id, organization_id=organization_id, model=change.to_model, on_batch=progress
            )
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=organization_id)
            if stale_chunks(organization_id=organization_id, model=change.to_model).exists():
                continue
            organization.embedding_model = change.to_model
            organization.save(update_fields=["embedding_model"])
            change.status = EmbeddingChangeStatus.DONE
            change.finished_at = timezone.now()
            change.save(update_fields=["status", "finished_at"])
            audit_record(
                verb="organizations.embedding_model_changed",
                organization=organization,
                actor=change.requested_by,
                target=change,
                metadata={"from": change.from_model, "to": change.to_model},
            )
            return change
    raise TransientIngestionError("New versions kept arriving without vectors for the new model; will retry.")
