"""Lifecycle cleanup: the index stops growing with every edit.

A superseded version keeps its chunks, vectors and lexical entries for the organization's
retention window (`Organization.version_retention_days`, counted from the moment a later version
became current: the superseded version's `status_changed_at`, which nothing moves afterwards),
then they go; the version row, its extracted text and its file stay, for history. After a change
of embedding model the retired model's vectors go the same way, a window after the switch, so a
switch back within it finds them.

Deleted in batches of CITADEL["VERSIONS_CLEANUP_BATCH"] rows, each its own short transaction:
the rows deleted are ones no question reads (a superseded version is never retrieved, a retired
model never searched), so asking never waits on them, and a run stopped halfway has committed
what it did and the next run goes on. Answers keep what they cited: their citations and receipts
hold the quotes; a passage's link to its chunk becomes empty (on_delete SET_NULL).

One run at a time per organization (a session lock: the schedule's workers and the
`versions_cleanup` command may start it together); each run records one audit event with its
counts, also when it stopped on an error after committing some batches."""

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.audit.services import audit_record
from citadel.core.locks import session_lock
from citadel.documents.models import (
    Chunk,
    ChunkEmbedding,
    DocumentVersion,
    EmbeddingChangeStatus,
    EmbeddingModelChange,
    VersionStatus,
)
from citadel.ingestion.embedding import open_embedding_change, serving_model_share_locked

CLEANUP_LOCK = "citadel.versions_cleanup"


@dataclass
class CleanupResult:
    organization: str
    older_than_days: int
    cutoff: datetime
    chunks: int = 0
    # Every vector deleted: those of the superseded chunks and those of retired models.
    vectors: int = 0
    versions: int = 0
    retired_model_vectors: int = 0
    retired_models: list[str] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0
    # Another run held the organization's lock: this one did nothing.
    skipped: bool = False

    def as_dict(self) -> dict:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}


def _batch_size() -> int:
    return max(1, int(settings.CITADEL["VERSIONS_CLEANUP_BATCH"]))


def expired_versions(*, organization_id: int, cutoff: datetime):
    """The organization's superseded versions superseded before `cutoff` that still hold chunks."""
    return DocumentVersion.objects.filter(
        Exists(Chunk.objects.filter(version_id=OuterRef("pk"))),
        document__organization_id=organization_id,
        status=VersionStatus.SUPERSEDED,
        status_changed_at__lt=cutoff,
    )


def retired_models(*, organization: Organization, cutoff: datetime) -> list[str]:
    """Models the organization switched away from before `cutoff` and does not serve or move to
    now. A model retired twice counts from its latest retirement."""
    retired: dict[str, datetime] = {}
    done = EmbeddingModelChange.objects.filter(
        organization=organization, status=EmbeddingChangeStatus.DONE, finished_at__isnull=False
    ).order_by("finished_at", "pk")
    for from_model, finished_at in done.values_list("from_model", "finished_at"):
        retired[from_model] = finished_at
    in_use = _models_in_use(organization.pk)
    return sorted(m for m, at in retired.items() if at < cutoff and m not in in_use)


def _models_in_use(organization_id: int) -> set[str]:
    in_use = {Organization.objects.values_list("embedding_model", flat=True).get(pk=organization_id)}
    change = open_embedding_change(organization_id=organization_id)
    if change is not None:
        in_use |= {change.from_model, change.to_model}
    return in_use


def _spans(rows: list[dict], batch: int) -> list[list[tuple[int, int | None, int | None]]]:
    """Pack (version_id, n rows, lowest key, highest key) into batches of at most `batch` rows:
    whole versions together (low and high None), a bigger version cut into ranges of its key (a
    chunk's ordinal, a vector's chunk id) `batch` wide, inclusive."""
    batches: list[list[tuple[int, int | None, int | None]]] = []
    current: list[tuple[int, int | None, int | None]] = []
    room = batch
    for row in rows:
        if row["n"] > batch:
            batches.extend(
                [(row["version_id"], start, start + batch - 1)] for start in range(row["low"], row["high"] + 1, batch)
            )
            continue
        if row["n"] > room:
            batches.append(current)
            current, room = [], batch
        current.append((row["version_id"], None, None))
        room -= row["n"]
    if current:
        batches.append(current)
    return batches


def _where(spans: list[tuple[int, int | None, int | None]], key: str) -> Q:
    where = Q(version_id__in=[version_id for version_id, low, _ in spans if low is None])
    for version_id, low, high in spans:
        if low is not None:
            where |= Q(version_id=version_id, **{f"{key}__gte": low, f"{key}__lte": high})
    return where


def _superseded_delete(result: CleanupResult, *, organization_id: int, cutoff: datetime, batch: int) -> None:
    versions = expired_versions(organization_id=organization_id, cutoff=cutoff)
    rows = list(
        Chunk.objects.filter(version_id__in=versions.values("pk"))
        .values("version_id")
        .annotate(n=Count("pk"), low=Min("ordinal"), high=Max("ordinal"))
        .order_by("version_id")
    )
    result.versions = len(rows)
    # The version must still be superseded when its batch runs: nothing makes one current again
    # today, and should something ever do, its chunks are no longer ours to delete.
    still = Q(version__status=VersionStatus.SUPERSEDED, version__status_changed_at__lt=cutoff)
    for spans in _spans(rows, batch):
        with transaction.atomic():
            # Django runs the cascade: the chunks' vectors in one DELETE by chunk id, and the
            # passages and extraction values citing them (their quotes are their own) lose the link.
            _, deleted = Chunk.objects.filter(_where(spans, "ordinal"), still).only("pk").delete()
        result.chunks += deleted.get("documents.Chunk", 0)
        result.vectors += deleted.get("documents.ChunkEmbedding", 0)
        result.batches += 1


def _retired_delete(result: CleanupResult, *, organization: Organization, cutoff: datetime, batch: int) -> None:
    result.retired_models = retired_models(organization=organization, cutoff=cutoff)
    for model in result.retired_models:
        rows = list(
            ChunkEmbedding.objects.filter(organization_id=organization.pk, model=model)
            .values("version_id")
            .annotate(n=Count("pk"), low=Min("chunk_id"), high=Max("chunk_id"))
            .order_by("version_id")
        )
        for spans in _spans(rows, batch):
            with transaction.atomic():
                # The organization row share-locked: a switch to this model (FOR UPDATE) waits for
                # the batch, and one requested meanwhile stops the deleting of its model here.
                serving_model_share_locked(organization_id=organization.pk)
                if model in _models_in_use(organization.pk):
                    break
                count, _ = ChunkEmbedding.objects.filter(_where(spans, "chunk_id"), model=model).delete()
            result.retired_model_vectors += count
            result.vectors += count
            result.batches += 1


def versions_cleanup(*, organization: Organization, older_than_days: int | None = None, actor=None) -> CleanupResult:
    """Delete the index content of the organization's versions superseded more than
    `older_than_days` ago (default: its retention window) and the vectors of models it retired as
    long ago. Returns what was deleted; `skipped` when another run holds the organization."""
    days = organization.version_retention_days if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    result = CleanupResult(organization=organization.slug, older_than_days=days, cutoff=cutoff)
    with session_lock(CLEANUP_LOCK, organization.pk) as acquired:
        if not acquired:
            result.skipped = True
            return result
        batch = _batch_size()
        error = ""
        started = time.monotonic()
        try:
            _superseded_delete(result, organization_id=organization.pk, cutoff=cutoff, batch=batch)
            _retired_delete(result, organization=organization, cutoff=cutoff, batch=batch)
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            result.seconds = round(time.monotonic() - started, 3)
            with transaction.atomic():
                audit_record(
                    verb="documents.versions_cleaned",
                    organization=organization,
                    actor=actor,
                    target=organization,
                    metadata={**result.as_dict(), "error": error},
                )
    return result


def versions_cleanup_all() -> dict[str, dict]:
    """The scheduled run: every organization, each within its own retention window."""
    results = {}
    for organization in Organization.objects.order_by("pk"):
        result = versions_cleanup(organization=organization)
        results[organization.slug] = {"chunks": result.chunks, "vectors": result.vectors, "skipped": result.skipped}
    return results
