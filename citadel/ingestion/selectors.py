"""Reading what ingestion stored: the page a citation came from, drawn with its quote lit, and
the attachments an email left to process."""

from collections.abc import Iterator

from django.conf import settings

from citadel.documents.models import Document, DocumentVersion, ReadMethod, VersionPage, VersionStatus
from citadel.ingestion.detection import CONTENT_TYPES, IMAGES, PDF
from citadel.ingestion.originals import page_png
from citadel.ingestion.page_images import page_image
from citadel.ingestion.sandbox import run_sandboxed
from citadel.ingestion.storage import local_copy

_KINDS = {content_type: kind for kind, content_type in CONTENT_TYPES.items()}
# Drawing one page is quick; a file that makes it slow is stopped long before a reader gives up.
RENDER_SECONDS = 20


def pending_attachment_versions(*, document: Document) -> Iterator[DocumentVersion]:
    """Versions of the document's attachments not yet processed, and then those of their own
    attachments (attached emails): what `--sync` runs after an email so it returns complete."""
    pending = list(DocumentVersion.objects.filter(document__parent=document, status=VersionStatus.UPLOADED))
    while pending:
        version = pending.pop(0)
        yield version
        pending += list(
            DocumentVersion.objects.filter(document__parent_id=version.document_id, status=VersionStatus.UPLOADED)
        )


def version_kind(version: DocumentVersion) -> str:
    """The detected kind of a version's file ("pdf", "png", "xlsx" ...), "" before detection."""
    return _KINDS.get(version.content_type, "")


def version_has_page_images(version: DocumentVersion) -> bool:
    return version_kind(version) in (PDF, *IMAGES)


def version_page_png(*, version: DocumentVersion, number: int, quote: str) -> bytes:
    """Page `number` of the version's original as a PNG with `quote` highlighted. Callers check
    that the reader may read the version; this draws in the sandbox (the file is untrusted) once,
    later opens read the drawing kept (citadel.ingestion.page_images), and raises IngestionError
    when the page cannot be drawn."""
    return page_image(version=version, number=number, quote=quote, draw=lambda: _page_draw(version, number, quote))


def _page_draw(version: DocumentVersion, number: int, quote: str) -> bytes:
    limits = settings.CITADEL
    page = VersionPage.objects.filter(version=version, number=number).first()
    words = page.words if page is not None and page.method == ReadMethod.OCR else []
    kind = version_kind(version)
    with local_copy(version) as path:
        return run_sandboxed(
            page_png,
            path,
            kind,
            number,
            quote,
            words,
            limits["MAX_IMAGE_PIXELS"],
            kind=kind,
            seconds=RENDER_SECONDS,
            memory_bytes=limits["PARSE_MEMORY_BYTES"],
        )
