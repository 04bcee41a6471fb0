"""CI quality gate: the demo corpus, ingested with the real MiniLM model, must keep its golden
set's recall@10 and nDCG@10 at or above the floors committed in evaluation_floors.json.

A change that lowers retrieval quality (chunking, fusion, the lexical ranker, parsing) fails here
instead of in front of users. Raise the floors when quality rises for good; never lower them to
make a change pass without saying why in the commit.
"""

import json
from pathlib import Path

import pytest
from django.core.files import File

from citadel.documents.models import VersionStatus
from citadel.documents.services import document_upload
from citadel.evaluation.services import eval_run_start, eval_set_create, golden_questions_import
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run
from citadel.providers.embeddings import MINILM, embedder_cache_clear

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "demo" / "corpus"
GOLDEN = ROOT / "demo" / "golden.jsonl"
FLOORS = ROOT / "evaluation_floors.json"


@pytest.fixture
def minilm(settings, tmp_path):
    """The real embedder for this test only; stored files go to a throwaway directory."""
    settings.CITADEL = {**settings.CITADEL, "EMBEDDER": "local"}
    settings.MEDIA_ROOT = tmp_path
    embedder_cache_clear()
    yield
    embedder_cache_clear()


@pytest.mark.model
def test_demo_golden_set_stays_above_the_committed_floors(world, minilm, django_capture_on_commit_callbacks):
    floors = json.loads(FLOORS.read_text())
    org = world.org("demo-floor")
    assert org.embedding_model == MINILM
    admin = world.principal("floor-admin", org, role="admin")

    for path in sorted(CORPUS.iterdir()):
        with path.open("rb") as handle:
            upload = document_upload(
                principal=admin, file=File(handle, name=path.name), filename=path.name, enqueue=False
            )
        version_run(version_id=upload.version.pk)
        upload.version.refresh_from_db()
        assert upload.version.status == VersionStatus.READY, (path.name, upload.version.error_message)
        for attachment in pending_attachment_versions(document=upload.document):
            version_run(version_id=attachment.pk)
            attachment.refresh_from_db()
            assert attachment.status == VersionStatus.READY, (path.name, attachment.error_message)

    eval_set = eval_set_create(principal=admin, name="Demo golden set")
    golden_questions_import(principal=admin, eval_set_id=eval_set.pk, text=GOLDEN.read_text())
    with django_capture_on_commit_callbacks(execute=True):
        run = eval_run_start(principal=admin, eval_set_id=eval_set.pk, k=10)
    run.refresh_from_db()

    assert run.status == "done", run.error
    measured = {"recall@10": run.metrics["recall@k"], "ndcg@10": run.metrics["ndcg@10"], "mrr": run.metrics["mrr"]}
    print(f"demo golden set ({run.metrics['questions']} questions): {measured}")
    for name, floor in floors.items():
        assert measured[name] >= floor, f"{name} fell to {measured[name]:.4f}, below the floor {floor}"
