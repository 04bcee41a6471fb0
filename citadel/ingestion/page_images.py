"""Original pages drawn once: the PNG of a cited page (originals.page_png, in the sandbox) is kept
in the stored files' storage, so the next open of the same citation reads it instead of drawing.

A version's file never changes, so a drawing is named by what it shows: the version, the page,
the width it was drawn at and the quote lit on it. It is written whole before anyone can read it
(a temporary file renamed into place; an object store writes objects whole), so two requests
drawing the same page at once each serve a complete image. Deleting a document deletes its
versions' drawings with their files (citadel.documents.services.document_delete). Callers check
who may see the page first: this module only keeps and finds drawings."""

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.core.files.base import ContentFile

from citadel.documents.models import DocumentVersion, version_page_images_dir
from citadel.ingestion.originals import PAGE_WIDTH_PIXELS

logger = logging.getLogger(__name__)


def _storage():
    # Where the originals are: the data dir's files, or the object store that holds them.
    return DocumentVersion._meta.get_field("file").storage


def page_image_name(*, version: DocumentVersion, number: int, quote: str) -> str:
    digest = hashlib.sha256(quote.encode()).hexdigest()[:32]
    folder = version_page_images_dir(organization_id=version.document.organization_id, version_id=version.pk)
    return f"{folder}/{number}-{PAGE_WIDTH_PIXELS}-{digest}.png"


def page_image(*, version: DocumentVersion, number: int, quote: str, draw: Callable[[], bytes]) -> bytes:
    """The page's PNG with `quote` lit: the kept drawing, or `draw()`'s, kept for the next open."""
    storage = _storage()
    name = page_image_name(version=version, number=number, quote=quote)
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    png = draw()
    try:
        _keep(storage, name, png)
    except Exception:  # noqa: BLE001 - a drawing not kept is drawn again next time; the reader still gets it
        logger.warning("The drawing of page %s of version %s could not be kept.", number, version.pk, exc_info=True)
    return png


def _keep(storage, name: str, png: bytes) -> None:
    try:
        path = Path(storage.path(name))
    except NotImplementedError:
        storage.save(name, ContentFile(png))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".drawing-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(png)
        if storage.file_permissions_mode is not None:
            os.chmod(temporary, storage.file_permissions_mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
