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
    """Upload bytes as a document and run the real pipeline in this process; returns the version."""

    def _ingest(principal, filename: str, data: bytes, **kwargs):
        result = document_upload(
            principal=principal, file=ContentFile(data, name=filename), filename=filename, enqueue=False, **kwargs
        )
        if result.created:
            version_run(version_id=result.version.pk)
        result.version.refresh_from_db()
        return result.version

    return _ingest


@pytest.fixture
def rate_limits(settings):
    """Set some rate-limit rules for one test: rate_limits(ask_user=(2, 60))."""

    def _set(**rules):
        settings.CITADEL = {
            **settings.CITADEL,
            "RATE_LIMITS": {name: {"limit": limit, "window": window} for name, (limit, window) in rules.items()},
        }

    return _set


@pytest.fixture
def llm(monkeypatch, settings):
    """A local OpenAI-compatible "model" (tests/llm_server.py); the org must pick provider openai."""
    from tests.llm_server import FakeLLMServer

    server = FakeLLMServer()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    settings.CITADEL = {**settings.CITADEL, "PROVIDER_RETRIES": 0, "PROVIDER_TIMEOUT_SECONDS": 5}
    yield server
    server.stop()
