"""Shared fixtures: organizations, users with roles, and their principals, on real PostgreSQL."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from citadel.accounts.models import Organization
from citadel.accounts.selectors import principal_for
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.documents.services import document_upload
from citadel.ingestion.services import version_run
from tests.imap_server import DovecotServer
from tests.llm_server import FakeLLMServer
from tests.required import missing

PASSWORD = "correct-horse-battery"


class World:
    """Builds tenants for a test: world.org("acme"), world.user("ann", "acme", role="admin")."""

    def org(self, slug: str) -> Organization:
        return Organization.objects.filter(slug=slug).first() or organization_create(slug=slug, name=slug.title())

    def user(self, username: str, org: str | Organization, role: str = "member", teams: list[str] | None = None):
        organization = org if isinstance(org, Organization) else self.org(org)
        user, _ = user_create_or_join(
            username=username, organization=organization, role=role, password=PASSWORD, teams=teams or []
        )
        return user

    def principal(self, username: str, org: str | Organization, role: str = "member", teams: list[str] | None = None):
        organization = org if isinstance(org, Organization) else self.org(org)
        user = self.user(username, organization, role, teams)
        return principal_for(user=user, organization=organization)


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests (live servers, threads, worker processes) end with a flush, which
    TRUNCATEs every table; the audit table's append-only guard would refuse it. In the throwaway
    test database only, the TRUNCATE guard is off; the UPDATE/DELETE guards stay on, and
    tests/audit/test_append_only.py switches the TRUNCATE guard back on to test it."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate")


# A local HTTP server speaking the OpenAI and Anthropic protocols, for the provider adapters.
@pytest.fixture
def llm_server():
    server = FakeLLMServer()
    yield server
    server.stop()


@pytest.fixture
def fast_retries(settings):
    settings.CITADEL = {
        **settings.CITADEL,
        "PROVIDER_RETRIES": 2,
        "PROVIDER_RETRY_BASE_SECONDS": 0.01,
        "PROVIDER_RETRY_MAX_SECONDS": 0.05,
        "PROVIDER_TIMEOUT_SECONDS": 1,
        "BREAKER_FAILURES": 3,
        "BREAKER_COOLDOWN_SECONDS": 60,
    }
    return settings


@pytest.fixture
def openai_env(llm_server, monkeypatch, fast_retries):
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("CITADEL_PROVIDER_TIMEOUT", raising=False)
    return llm_server


@pytest.fixture
def anthropic_env(llm_server, monkeypatch, fast_retries):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", llm_server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.delenv("CITADEL_PROVIDER_TIMEOUT", raising=False)
    return llm_server


# Each test starts with no plan estimates kept from another test's documents.
@pytest.fixture(autouse=True)
def fresh_plan_estimates(monkeypatch):
    monkeypatch.setattr("citadel.retrieval.dense._estimates", {})


# Stored originals go to a throwaway directory, never into the data dir.
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


# `manage.py` child processes (workers, commands) on the test database.
def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the test database, so child processes work on the same data."""
    from urllib.parse import quote

    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host, port = settings_dict["HOST"] or "", settings_dict["PORT"] or ""
    if host.startswith("/"):
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgresql://{user}{password}@/{settings_dict['NAME']}{query}"
    return f"postgresql://{user}{password}@{host}{f':{port}' if port else ''}/{settings_dict['NAME']}"


@pytest.fixture
def minilm(settings):
    """The real all-MiniLM-L6-v2 for one test (tests marked `model`); loaded on first use, so a
    test may change its settings first."""
    from citadel.providers.embeddings import embedder_cache_clear

    settings.CITADEL = {**settings.CITADEL, "EMBEDDER": "local"}
    embedder_cache_clear()
    yield
    embedder_cache_clear()


@pytest.fixture
def reader(settings):
    """The reader trained here (citadel/reading/reader.py) for one test (tests marked `model`)."""
    from citadel.reading.reader import get_reader, reader_cache_clear

    settings.CITADEL = {**settings.CITADEL, "READER": "local"}
    reader_cache_clear()
    yield get_reader()
    reader_cache_clear()


@pytest.fixture
def child_env(transactional_db):
    """Environment for `manage.py` child processes: production settings, the test database."""
    import os

    from django.db import connection

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(connection.settings_dict),
        CITADEL_EMBEDDER="fake",
        CITADEL_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


# A real S3 server (moto's server mode on 127.0.0.1) for object storage and S3 sources.
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("moto_server exited") from None
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


# A real IMAP server (Debian's Dovecot on 127.0.0.1) for mailbox sources.
@pytest.fixture(scope="session")
def imap_server():
    if shutil.which("dovecot") is None:
        missing("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(_free_port())
    yield server
    server.stop()


@pytest.fixture
def as_worker():
    """This process runs tasks as the named worker (as `manage.py worker` names itself)."""
    from citadel.jobs.workers import worker_id_set

    yield worker_id_set
    worker_id_set(None)


@pytest.fixture
def embedding(monkeypatch):
    """The fake embedding model, counting its calls: `embedding.on(n, what)` has `what` happen
    while it embeds for the n-th time from then (a worker killed mid-run, a run cancelled)."""
    from citadel.providers.embeddings import FakeEmbedder
    from tests.workers import CallCounter

    counter = CallCounter()
    real = FakeEmbedder.embed

    def embed(self, texts):
        counter.called()
        return real(self, texts)

    monkeypatch.setattr(FakeEmbedder, "embed", embed)
    return counter
