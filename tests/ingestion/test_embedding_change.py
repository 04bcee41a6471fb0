"""Changing the organization's embedding model: new vectors are built beside the old ones,
which keep serving, then the organization switches at once."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput
from citadel.documents.models import ChunkEmbedding
from citadel.ingestion.embedding import open_embedding_change
from citadel.ingestion.reembedding import embedding_model_change_request, embedding_model_change_run, stale_chunks
from citadel.providers.embeddings import FAKE, MINILM, embedder_cache_clear

TEXT = b"# Canteen\n\nThe canteen serves soup on Mondays.\n\n## Drinks\n\nCoffee is free.\n"


def test_reembedding_builds_new_vectors_then_switches(world, ingest, django_capture_on_commit_callbacks):
    admin = world.principal("ada", "acme", role="admin")
    org = world.org("acme")
    version = ingest(admin, "canteen.md", TEXT)
    chunks = version.chunks.count()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        change = embedding_model_change_request(organization=org, model_name=FAKE)
    org.refresh_from_db()
    assert org.embedding_model == MINILM  # old vectors still serve
    assert change.chunks_total == chunks == stale_chunks(organization_id=org.pk, model=FAKE).count()
    assert len(queued) == 1

    embedding_model_change_run(change_id=change.pk)

    org.refresh_from_db()
    change.refresh_from_db()
    assert org.embedding_model == FAKE and change.status == "done" and change.chunks_done == chunks
    assert set(ChunkEmbedding.objects.filter(version=version).values_list("model", flat=True)) == {MINILM, FAKE}
    assert open_embedding_change(organization_id=org.pk) is None
    assert AuditEvent.objects.filter(verb="organizations.embedding_model_changed").exists()


def test_versions_ingested_during_a_change_get_both_vectors(world, ingest, django_capture_on_commit_callbacks):
    admin = world.principal("ada", "acme", role="admin")
    org = world.org("acme")
    with django_capture_on_commit_callbacks(execute=False):
        embedding_model_change_request(organization=org, model_name=FAKE)

    version = ingest(admin, "canteen.md", TEXT)

    models = set(ChunkEmbedding.objects.filter(version=version).values_list("model", flat=True))
    assert models == {MINILM, FAKE}


def test_one_change_at_a_time_and_not_to_the_same_model(world):
    org = world.org("acme")
    with pytest.raises(InvalidInput):
        embedding_model_change_request(organization=org, model_name=MINILM)
    embedding_model_change_request(organization=org, model_name=FAKE)
    with pytest.raises(InvalidInput, match="already in progress"):
        embedding_model_change_request(organization=org, model_name="openai:text-embedding-3-small@1536")


def test_the_command_switches_an_organization_and_says_how_it_went(world, ingest):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT)
    out = StringIO()

    call_command("embedding_model_set", FAKE, "--org", "acme", "--sync", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["from_model"] == MINILM and result["to_model"] == FAKE and result["status"] == "done"
    assert result["chunks_total"] == result["chunks_done"] == version.chunks.count()
    world.org("acme").refresh_from_db()
    assert world.org("acme").embedding_model == FAKE


def test_the_command_refuses_a_model_it_does_not_know(world, settings):
    world.org("acme")
    settings.CITADEL = {**settings.CITADEL, "EMBEDDER": "local"}  # the fake embedder takes every name
    embedder_cache_clear()
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("embedding_model_set", "no-such-model", "--org", "acme", "--json", stdout=out, stderr=StringIO())

    assert "Unknown embedding model" in json.loads(out.getvalue())["error"]
