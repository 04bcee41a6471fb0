"""The pipeline end to end on real PostgreSQL: hostile files fail alone, tasks are idempotent,
versions switch atomically and reuse unchanged vectors."""

import io
import zipfile

import pytest
from django.db import OperationalError
from django.db.models import Count

from citadel.audit.models import AuditEvent
from citadel.documents.access import readable_chunks
from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion
from citadel.documents.services import version_retry
from citadel.ingestion import services
from citadel.ingestion.services import version_run
from citadel.notifications.models import Notification
from citadel.providers.embeddings import MINILM, get_embedder
from citadel.retrieval.services import retrieve
from tests.files import ELF_EXECUTABLE, docx_bytes, office_with_parts, pdf_bytes, zip_bomb_docx

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


def test_a_failed_upload_tells_its_uploader_once_with_the_reason(
    admin, ingest, monkeypatch, django_capture_on_commit_callbacks
):
    # Given an upload that fails after three attempts
    def down(texts):
        raise TimeoutError("the embedding service is down")

    monkeypatch.setattr(get_embedder(MINILM), "embed", down)
    with django_capture_on_commit_callbacks(execute=True):
        version = ingest(admin, "parking.md", GOOD_MD)

    # Then its uploader is told once, under the bell, with a link to the document
    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.organization_id) == (admin.user_id, admin.organization_id)
    assert notification.kind == "document_failed" and notification.url == f"/documents/{version.document_id}/"
    assert notification.title == f"Document “{version.document.title}”, version 1: failed"


def test_a_ready_upload_tells_nobody(admin, ingest):
    ingest(admin, "parking.md", GOOD_MD)

    assert not Notification.objects.exists()


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


def _pdf(content: bytes, title: str) -> bytes:
    """A one-page PDF showing `content` (a PDF string, escapes allowed) with `title` in its
    document information, written with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 72 720 Td (" + content + b") Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_with_nul_in_its_text_and_title_is_ready_without_them_and_found_by_search(admin, ingest):
    """Given a PDF whose text and title hold NUL and other control characters (PostgreSQL text
    cannot hold NUL), when it is ingested, then it is ready, none of them is stored, the offsets
    of its passages still point into its text, and a search finds it."""
    data = _pdf(b"Ref\\000unds take fourteen\\001 days from the arrival of the parcel.", "Refund\x00 policy\x07")

    version = ingest(admin, "refunds.pdf", data)

    assert version.status == "ready", version.error_message
    assert version.text == "Refunds take fourteen days from the arrival of the parcel."
    assert version.metadata["title"] == "Refund policy" and version.document.title == "Refund policy"
    for chunk in version.chunks.all():
        assert version.text[chunk.char_start : chunk.char_end] == chunk.text
    hits = retrieve(principal=admin, query="how many days do refunds take", k=3)
    assert [hit.document_id for hit in hits] == [version.document_id]


# A stray NUL or two in a page of text (more than one byte in a hundred reads as binary data).
SENTENCE = (
    b"Refunds take fourteen days\x00 from the day the parcel arrives at our door, and the money is back by the "
    b"next statement. Exchanges are free within thirty days, and a gift card never expires. Parcels that arrive "
    b"damaged are replaced at once, without the need to send anything back to us."
)


@pytest.mark.parametrize("filename", ["refunds.txt", "refunds.md"])
def test_a_text_file_with_stray_nul_bytes_is_ready_without_them(admin, ingest, filename):
    """Given a text or Markdown file with a stray NUL in its first line (its title) and in its
    text, when it is ingested, then it is ready and none is stored (Markdown, as CommonMark says,
    reads NUL as the replacement character)."""
    heading = b"# " if filename.endswith(".md") else b""

    version = ingest(admin, filename, heading + b"Refunds\x00\n\n" + SENTENCE)

    assert version.status == "ready", version.error_message
    assert version.text.replace("\ufffd", "") == "Refunds\n\n" + SENTENCE.decode().replace("\x00", "")
    assert version.document.title.rstrip("\ufffd") == "Refunds"


def test_an_office_file_listing_20000_parts_fails_unlisted_by_the_worker_and_can_be_retried(admin, ingest, monkeypatch):
    """Given a .docx listing 20,000 parts (the limit is 10,000) beside a good one, when both are
    ingested while the worker itself cannot open a ZIP archive, then the first fails saying why and
    can be retried, and the good one is ready: Office files are listed in the sandbox's child."""
    many = office_with_parts(20_000)
    good = docx_bytes([(1, "Leave", ["Annual leave is 25 days."])])

    def opened_in_the_worker(*args, **kwargs):
        raise AssertionError("the worker opened a ZIP archive")

    monkeypatch.setattr(zipfile, "ZipFile", opened_in_the_worker)
    failed = ingest(admin, "many.docx", many)
    ready = ingest(admin, "leave.docx", good)

    assert (failed.status, failed.error_class) == ("failed", "zip_bomb")
    assert failed.error_message.startswith("This Office file lists more than 10,000 parts (20,001)")
    assert ready.status == "ready", ready.error_message
    assert version_retry(principal=admin, version=failed, enqueue=False).status == "uploaded"
