"""Stored originals as local files: the sandboxed child processes read a path."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from citadel.documents.models import DocumentVersion


@contextmanager
def local_copy(version: DocumentVersion) -> Iterator[str]:
    """A local path of the stored original. File-system storage gives its own path; other
    storages (S3) are copied to a temporary file that is removed afterwards."""
    try:
        path = version.file.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="citadel-", suffix=".upload") as tmp:
        with version.file.open("rb") as source:
            shutil.copyfileobj(source, tmp, 1024 * 1024)
        tmp.flush()
        yield tmp.name
