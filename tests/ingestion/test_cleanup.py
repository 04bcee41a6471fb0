"""Lifecycle cleanup: past the organization's retention window, a superseded version loses its
chunks, vectors and lexical entries (its row and text stay), a retired embedding model loses its
vectors, in batches, one audited run at a time per organization, and old answers keep their quotes."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citadel.answers.models import Citation, RetrievedPassage
from citadel.answers.services import answer_question
from citadel.audit.models import AuditEvent
from citadel.core.locks import session_unlock, try_session_lock
from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion, EmbeddingModelChange, VersionStatus
from citadel.ingestion.cleanup import CLEANUP_LOCK, versions_cleanup
from citadel.ingestion.tasks import versions_cleanup_task
from citadel.ops.schedule import MAINTENANCE
from citadel.retrieval.services import retrieve
from tests.factories import make_document, make_version

REFUNDS_V1 = "Refunds are paid within 14 days of the returned item arriving at our warehouse."
REFUNDS_V2 = "Refunds are paid within 7 days of the returned item arriving at our warehouse."


def _superseded(version: DocumentVersion, *, days_ago: float) -> None:
    """The version was superseded `days_ago` days ago (make_version supersedes it now)."""
    DocumentVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.SUPERSEDED, status_changed_at=timezone.now() - timedelta(days=days_ago)
    )


def _index(version: DocumentVersion) -> tuple[int, int]:
    return Chunk.objects.filter(version=version).count(), ChunkEmbedding.objects.filter(version=version).count()


@pytest.fixture
def acme(world):
    org = world.org("acme")
    org.review_policy = "none"
    org.save()
    return org


def test_a_version_superseded_past_the_window_loses_its_index_content_and_keeps_its_row(acme, world):
    """Given the default window (30 days), a version superseded 31 days ago and one superseded 29
    days ago, when the cleanup runs, then the older one's chunks, vectors and lexical entries are
    gone while its row, number and text stay; the younger one and the current versions keep
    everything, and the current text is still found by both legs of retrieval."""
    old_doc = make_document(acme, "refunds", [REFUNDS_V1, "Shipping is not refunded."])
    old = old_doc.current_version
    current = make_version(old_doc, [REFUNDS_V2])
    recent_doc = make_document(acme, "parking", ["Parking is free on weekends."])
    recent = recent_doc.current_version
    make_version(recent_doc, ["Parking costs 2 euros an hour on weekends."])
    _superseded(old, days_ago=31)
    _superseded(recent, days_ago=29)

    result = versions_cleanup(organization=acme)

    assert (result.chunks, result.vectors, result.versions) == (2, 2, 1)
    assert _index(old) == (0, 0)
    old.refresh_from_db()
    assert old.status == VersionStatus.SUPERSEDED and old.number == 1 and REFUNDS_V1 in old.text
    assert _index(recent) == (1, 1) and _index(current) == (1, 1)
    hits = retrieve(principal=world.principal("ada", acme), query="How many days until refunds are paid?", k=3)
    assert hits[0].version_id == current.pk and hits[0].dense_rank and hits[0].lexical_rank


def test_each_run_is_one_audit_event_with_its_counts_and_the_window_is_the_organizations(acme):
    """Given an organization keeping superseded versions 60 days, when the cleanup runs, then a
    version superseded 40 days ago stays, and the run records one event with what it deleted; with
    --older-than-days 0 it goes, and the second run's event says so."""
    acme.version_retention_days = 60
    acme.save()
    document = make_document(acme, "refunds", [REFUNDS_V1])
    old = document.current_version
    make_version(document, [REFUNDS_V2])
    _superseded(old, days_ago=40)

    first = versions_cleanup(organization=acme)
    second = versions_cleanup(organization=acme, older_than_days=0)

    assert (first.chunks, second.chunks, second.vectors) == (0, 1, 1)
    events = list(AuditEvent.objects.filter(verb="documents.versions_cleaned").order_by("pk"))
    assert [(e.organization_id, e.metadata["older_than_days"], e.metadata["chunks"]) for e in events] == [
        (acme.pk, 60, 0),
        (acme.pk, 0, 1),
    ]
    assert events[1].metadata["vectors"] == 1 and events[1].metadata["error"] == ""


def test_a_big_version_is_deleted_in_batches_of_the_configured_size(acme, settings):
    """Given batches of 2 rows, a superseded version of 5 chunks and another of 1, when the cleanup
    runs, then the big one goes in 3 transactions (ordinals 0-1, 2-3, 4) and the small one in a 4th,
    and every chunk and vector is gone."""
    settings.CITADEL = {**settings.CITADEL, "VERSIONS_CLEANUP_BATCH": 2}
    big = make_document(acme, "handbook", [f"Rule {n} of the handbook says something else." for n in range(5)])
    small = make_document(acme, "parking", ["Parking is free on weekends."])
    old = [big.current_version, small.current_version]
    make_version(big, ["The handbook was rewritten."])
    make_version(small, ["Parking costs 2 euros an hour."])
    for version in old:
        _superseded(version, days_ago=31)

    result = versions_cleanup(organization=acme)

    assert (result.chunks, result.vectors, result.batches) == (6, 6, 4)
    assert [_index(v) for v in old] == [(0, 0), (0, 0)]


def test_an_old_answer_keeps_its_quotes_on_its_receipt_and_card_after_cleanup(acme, world, login):
    """Given an answer quoting version 1, a version 2 since, and version 1 past the window, when the
    cleanup removes version 1's chunks, then the answer's citation keeps its quote and version, its
    passages only lose the link to the chunk, its receipt still shows the quote and its card still
    opens, saying the source changed since."""
    ann = world.user("ann", acme)
    document = make_document(acme, "refunds", [REFUNDS_V1])
    answer = answer_question(principal=world.principal("ann", acme), text="How many days until refunds are paid?")
    quote = Citation.objects.get(answer=answer).quote
    assert "14 days" in quote
    old = document.current_version
    make_version(document, [REFUNDS_V2])
    _superseded(old, days_ago=31)

    assert versions_cleanup(organization=acme).chunks == 1

    passage = RetrievedPassage.objects.get(answer=answer)
    assert passage.chunk_id is None and passage.version_id == old.pk
    assert Citation.objects.get(answer=answer).quote == quote
    client = login(ann)
    receipt = client.get(reverse("answers:receipt", args=[answer.pk])).content.decode()
    assert quote in receipt
    card = client.get(reverse("answers:detail", args=[answer.pk]))
    assert card.status_code == 200 and "a cited document has a newer version" in card.content.decode()


def test_a_retired_models_vectors_go_after_the_window_and_the_serving_ones_stay(acme):
    """Given an organization that switched from "old-model" 31 days ago and from "older-model" 29
    days ago, with vectors of both beside the serving ones, when the cleanup runs, then only
    "old-model"'s vectors go; a model an open change moves to is never touched."""
    document = make_document(acme, "refunds", [REFUNDS_V1, "Shipping is not refunded."])
    serving = list(ChunkEmbedding.objects.filter(version=document.current_version))
    for model in ("old-model", "older-model", "next-model"):
        ChunkEmbedding.objects.bulk_create(
            ChunkEmbedding(
                chunk_id=e.chunk_id,
                version_id=e.version_id,
                organization=acme,
                model=model,
                dimensions=e.dimensions,
                embedding=e.embedding,
            )
            for e in serving
        )
    now = timezone.now()
    for from_model, days_ago in (("old-model", 31), ("older-model", 29), ("next-model", 40)):
        EmbeddingModelChange.objects.create(
            organization=acme,
            from_model=from_model,
            to_model=acme.embedding_model,
            status="done",
            finished_at=now - timedelta(days=days_ago),
        )
    # Switching back to next-model now: its vectors are being built and must stay.
    EmbeddingModelChange.objects.create(organization=acme, from_model=acme.embedding_model, to_model="next-model")

    result = versions_cleanup(organization=acme)

    assert (result.retired_models, result.retired_model_vectors, result.vectors) == (["old-model"], 2, 2)
    remaining = ChunkEmbedding.objects.filter(organization=acme).values_list("model", flat=True)
    assert sorted(set(remaining)) == sorted({acme.embedding_model, "older-model", "next-model"})
    assert len(remaining) == 6


def test_a_run_while_another_holds_the_organization_does_nothing(acme):
    """Given a cleanup of the organization already running (its lock held), when another starts,
    then it deletes nothing and records nothing."""
    document = make_document(acme, "refunds", [REFUNDS_V1])
    old = document.current_version
    make_version(document, [REFUNDS_V2])
    _superseded(old, days_ago=31)
    assert try_session_lock(CLEANUP_LOCK, acme.pk)
    try:
        result = versions_cleanup(organization=acme)
    finally:
        session_unlock(CLEANUP_LOCK, acme.pk)

    assert result.skipped and _index(old) == (1, 1)
    assert not AuditEvent.objects.filter(verb="documents.versions_cleaned").exists()


def test_the_command_prints_what_it_deleted(acme):
    document = make_document(acme, "refunds", [REFUNDS_V1])
    old = document.current_version
    make_version(document, [REFUNDS_V2])
    out = StringIO()

    call_command("versions_cleanup", "--org", "acme", "--older-than-days", "0", "--json", stdout=out)

    printed = json.loads(out.getvalue())
    assert (printed["chunks"], printed["vectors"], printed["versions"]) == (1, 1, 1)
    assert _index(old) == (0, 0)


def test_the_schedule_runs_the_cleanup_for_every_organization_in_its_own_window(acme, world):
    """Given two organizations, one keeping superseded versions 7 days, each with a version
    superseded 10 days ago, when the scheduled task runs, then only the short-window
    organization's version loses its index content, and each organization has its own event."""
    globex = world.org("globex")
    globex.version_retention_days = 7
    globex.save()
    versions = {}
    for org in (acme, globex):
        document = make_document(org, "refunds", [REFUNDS_V1])
        versions[org.slug] = document.current_version
        make_version(document, [REFUNDS_V2])
        _superseded(versions[org.slug], days_ago=10)

    result = versions_cleanup_task.call()

    assert result["acme"]["chunks"] == 0 and result["globex"]["chunks"] == 1
    assert _index(versions["acme"]) == (1, 1) and _index(versions["globex"]) == (0, 0)
    events = AuditEvent.objects.filter(verb="documents.versions_cleaned")
    assert sorted(events.values_list("organization__slug", flat=True)) == ["acme", "globex"]


def test_the_cleanup_and_the_abandoned_answer_sweep_are_on_the_maintenance_schedule():
    tasks = {entry.task for entry in MAINTENANCE}
    assert "citadel.ingestion.tasks.versions_cleanup_task" in tasks
    assert "citadel.answers.tasks.answers_close_abandoned" in tasks
