import pytest
from django.core.files.base import ContentFile

from citadel.documents.services import document_upload
from citadel.ingestion.services import version_run


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def ingest():
    """Upload bytes as a document and run the pipeline in this process; returns the version."""

    def _ingest(principal, filename: str, data: bytes, *, run: bool = True, **kwargs):
        result = document_upload(
            principal=principal, file=ContentFile(data, name=filename), filename=filename, enqueue=False, **kwargs
        )
        if run and result.created:
            version_run(version_id=result.version.pk)
        result.version.refresh_from_db()
        return result.version

    return _ingest
