"""The pipeline end to end on real PostgreSQL: hostile files fail alone, tasks are idempotent,
versions switch atomically and reuse unchanged vectors."""

import pytest
from django.db import OperationalError
from django.db.models import Count

from citadel.audit.models import AuditEvent
from citadel.documents.access import readable_chunks
from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion
from citadel.ingestion import services
from citadel.ingestion.services import version_run
from citadel.providers.embeddings import MINILM, get_embedder
from tests.files import ELF_EXECUTABLE, docx_bytes, pdf_bytes, zip_bomb_docx

GOOD_MD = (
    b"# Parking\n\nStaff park on level 4. Visitors park on level 3.\n\n## Bikes\n\nBike racks are by the north door.\n"
)


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def test_hostile_files_fail_with_their_reason_while_a_good_file_beside_them_is_ready(admin, ingest, settings):
    settings.CITADEL = {**settings.CITADEL, "MAX_PDF_PAGES": 3}

    results = {
        "corrupt": ingest(admin, "corrupt.pdf", b"%PDF-1.7\n1 0 obj << /Pages 9 0 R >> nonsense"),
        "bomb": ingest(admin, "bomb.docx", zip_bomb_docx()),
        "long": ingest(admin, "long.pdf", pdf_bytes([f"Page {n}" for n in range(5)])),
        "empty": ingest(admin, "empty.txt", b""),
        "program": ingest(admin, "report.pdf", ELF_EXECUTABLE),
        "good": ingest(admin, "parking.md", GOOD_MD),
    }

    outcome = {name: (v.status, v.error_class) for name, v in results.items()}
    assert outcome == {
        "corrupt": ("failed", "corrupt_file"),
        "bomb": ("failed", "zip_bomb"),
        "long": ("failed", "too_many_pages"),
        "empty": ("failed", "empty"),
        "program": ("failed", "unsupported_type"),
        "good": ("ready", ""),
    }
    assert "limit is 3" in results["long"].error_message
    assert "program" in results["program"].error_message
    assert not Chunk.objects.exclude(version=results["good"]).exists()
    assert AuditEvent.objects.filter(verb="documents.version_failed").count() == 5


def test_ready_version_records_chunks_with_structure_offsets_and_vectors(admin, ingest):
    data = docx_bytes([(1, "Leave", ["Annual leave is 25 days."]), (2, "Sick leave", ["Call your manager by 9am."])])

    version = ingest(admin, "leave.docx", data)

    assert version.status == "ready" and version.ready_at is not None
    assert version.document.current_version_id == version.pk
    chunks = list(version.chunks.order_by("ordinal"))
    assert version.chunks_total == version.chunks_done == len(chunks) >= 2
    for chunk in chunks:
        assert version.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.token_count <= get_embedder(MINILM).max_tokens
        assert chunk.search_vector is not None and chunk.lexeme_count > 0
        assert chunk.embeddings.get().dimensions == 384
    sick = next(c for c in chunks if "9am" in c.text)
    assert sick.heading_path == ["Leave", "Sick leave"]


def test_pdf_chunks_know_their_page(admin, ingest):
    version = ingest(admin, "guide.pdf", pdf_bytes(["Badges are blue.", "Lockers are on floor two."]))

    pages = {c.page: c.text for c in version.chunks.all()}

    assert "blue" in pages[1] and "Lockers" in pages[2]


def test_long_sections_are_split_within_the_token_budget_with_overlap(admin, ingest):
    sentences = " ".join(f"Rule {n} says the kitchen closes at {n} pm on weekdays." for n in range(200))

    version = ingest(admin, "rules.txt", sentences.encode())

    chunks = list(version.chunks.order_by("ordinal"))
    assert len(chunks) > 3
    assert all(c.token_count <= 200 for c in chunks)
    assert all(chunks[i + 1].char_start < chunks[i].char_end for i in range(len(chunks) - 1))


def test_running_the_task_twice_leaves_one_chunk_set(admin, ingest):
    version = ingest(admin, "parking.md", GOOD_MD)
    chunk_ids = set(version.chunks.values_list("pk", flat=True))

    version_run(version_id=version.pk)
    DocumentVersion.objects.filter(pk=version.pk).update(status="embedding", lease_expires_at=None)
    version_run(version_id=version.pk)

    version.refresh_from_db()
    assert version.status == "ready"
    per_ordinal = Chunk.objects.filter(version=version).values("ordinal").annotate(n=Count("pk"))
    assert {row["n"] for row in per_ordinal} == {1}
    assert set(version.chunks.values_list("pk", flat=True)) == chunk_ids
    assert ChunkEmbedding.objects.filter(version=version).count() == len(chunk_ids)


def test_same_file_again_adds_nothing(admin, ingest):
    first = ingest(admin, "parking.md", GOOD_MD)

    again = ingest(admin, "parking.md", GOOD_MD)

    assert again.pk == first.pk
    assert first.document.versions.count() == 1


def test_new_version_replaces_the_old_and_reuses_unchanged_vectors(admin, ingest, monkeypatch):
    pages = [f"Section {n}. The office on floor {n} has {n} meeting rooms." for n in range(1, 9)]
    v1 = ingest(admin, "offices.pdf", pdf_bytes(pages))
    member = admin
    embedded: list[str] = []
    embedder = get_embedder(MINILM)
    original = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: embedded.extend(texts) or original(texts))

    pages[3] = "Section 4. The office on floor 4 was turned into a gym."
    v2 = ingest(admin, "offices.pdf", pdf_bytes(pages))

    v1.refresh_from_db()
    assert (v1.status, v2.status, v2.number) == ("superseded", "ready", 2)
    assert v2.document.current_version_id == v2.pk
    # Only the changed page is embedded (with no header: the title is only the file's name).
    assert embedded == [c.text for c in v2.chunks.filter(page=4)]
    readable = readable_chunks(member)
    assert set(readable.values_list("version_id", flat=True)) == {v2.pk}
    assert readable.filter(text__contains="gym").exists()
    old_vector = ChunkEmbedding.objects.get(chunk__version=v1, chunk__page=1).embedding
    new_vector = ChunkEmbedding.objects.get(chunk__version=v2, chunk__page=1).embedding
    assert list(old_vector) == list(new_vector)


def test_old_version_keeps_serving_until_the_new_one_is_ready(admin, ingest, monkeypatch):
    v1 = ingest(admin, "parking.md", GOOD_MD)
    seen_during_embedding: list[set] = []
    original = services._embed

    def spy(version, organization):
        seen_during_embedding.append(set(readable_chunks(admin).values_list("version_id", flat=True)))
        return original(version, organization)

    monkeypatch.setattr(services, "_embed", spy)

    v2 = ingest(admin, "parking.md", GOOD_MD + b"\nMotorbikes park in bay 7.\n")

    assert seen_during_embedding == [{v1.pk}]
    assert set(readable_chunks(admin).values_list("version_id", flat=True)) == {v2.pk}


def test_failed_new_version_leaves_the_old_one_serving(admin, ingest):
    v1 = ingest(admin, "parking.md", GOOD_MD)

    v2 = ingest(admin, "parking.md", b"")

    assert v2.status == "failed"
    v1.refresh_from_db()
    assert v1.status == "ready" and v1.document.current_version_id == v1.pk


def test_a_transient_error_retries_then_succeeds(admin, ingest, monkeypatch, django_capture_on_commit_callbacks):
    calls = {"n": 0}
    embedder = get_embedder(MINILM)
    original = embedder.embed

    def flaky(texts):
        calls["n"] += 1
        if calls["n"] == 1:
            raise TimeoutError("provider timed out")
        return original(texts)

    monkeypatch.setattr(embedder, "embed", flaky)

    with django_capture_on_commit_callbacks(execute=True):
        version = ingest(admin, "parking.md", GOOD_MD)

    version.refresh_from_db()
    assert version.status == "ready"
    assert version.attempts == 2


def test_a_transient_error_that_persists_fails_after_three_attempts(
    admin, ingest, monkeypatch, django_capture_on_commit_callbacks
):
    def down(texts):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(get_embedder(MINILM), "embed", down)

    with django_capture_on_commit_callbacks(execute=True):
        version = ingest(admin, "parking.md", GOOD_MD)

    version.refresh_from_db()
    assert (version.status, version.error_class, version.attempts) == ("failed", "transient", 3)
    assert "3 times" in version.error_message


def test_a_permanent_error_fails_at_once(admin, ingest):
    version = ingest(admin, "bad.pdf", b"%PDF-1.4 broken")

    assert (version.status, version.attempts) == ("failed", 1)


def test_an_attempt_that_lost_its_lease_writes_nothing(admin, ingest, monkeypatch):
    version = ingest(admin, "parking.md", GOOD_MD, run=False)
    original = services._write_chunks

    def overtaken(v, specs, pages):
        # Meanwhile the reaper gave the version to another attempt.
        DocumentVersion.objects.filter(pk=v.pk).update(attempts=v.attempts + 1)
        return original(v, specs, pages)

    monkeypatch.setattr(services, "_write_chunks", overtaken)

    version_run(version_id=version.pk)

    version.refresh_from_db()
    assert version.status == "chunking" and not version.chunks.exists()


def test_a_passage_is_embedded_under_its_documents_title_and_cited_alone(admin, ingest, monkeypatch):
    """Given a Markdown handbook whose leave rules sit in a section of their own, when it is
    ingested, then that section's passage is embedded under the handbook's title, and the chunk
    (what citations quote) holds the passage alone."""
    embedded: list[str] = []
    embedder = get_embedder(MINILM)
    original = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: embedded.extend(texts) or original(texts))
    handbook = "# Staff handbook\n\nWelcome to the company.\n\n## Leave\n\nEmployees get 25 days of leave a year.\n"

    version = ingest(admin, "handbook.md", handbook.encode())

    chunk = version.chunks.get(text__contains="25 days")
    assert not chunk.text.startswith("Staff handbook")
    assert f"Staff handbook\n{chunk.text}" in embedded
