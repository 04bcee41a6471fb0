"""`seed_demo` starts evaluation with the demo's golden set, loaded once, and a first run of it:
queued behind the documents, or run with --sync once they are ready; --no-documents runs nothing."""

import json
import shutil
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from citadel.documents.models import Document
from citadel.evaluation.models import EvalRun, EvalSet
from citadel.ops.management.commands import seed_demo

GOLDEN = seed_demo.DEMO_DIR / "golden.jsonl"
DOCUMENTS = ("travel-expenses-policy.pdf", "paid-leave-holidays.txt")


def _seed(*args) -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def small_demo(monkeypatch, tmp_path):
    """The demo with two of its documents and the golden questions that ask about them."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in DOCUMENTS:
        shutil.copy(seed_demo.DEMO_DIR / "corpus" / name, corpus / name)
    stems = {name.rsplit(".", 1)[0] for name in DOCUMENTS}
    lines = [line for line in GOLDEN.read_text().splitlines() if set(json.loads(line)["expected"]) <= stems]
    golden = tmp_path / "golden.jsonl"
    golden.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(seed_demo, "DEMO_DOCUMENTS", [("acme", "acme-admin", corpus, [])])
    monkeypatch.setattr(seed_demo, "DEMO_GOLDEN_SETS", [("acme", "acme-admin", golden, "Demo golden set")])
    monkeypatch.setattr(seed_demo, "DEMO_OVERDUE", {"paid-leave-holidays.txt": ("acme-admin", date(2026, 9, 1))})
    return len(lines)


@pytest.mark.django_db
def test_without_documents_the_golden_set_is_loaded_once_and_nothing_runs():
    # Given a fresh install, when the demo is seeded twice without its documents
    first = _seed("--no-documents")
    second = _seed("--no-documents")

    # Then acme has one golden set holding every question of demo/golden.jsonl, and no run
    questions = len([line for line in GOLDEN.read_text().splitlines() if line.strip()])
    eval_set = EvalSet.objects.get()
    assert (eval_set.organization.slug, eval_set.name, eval_set.questions.count()) == (
        "acme",
        "Demo golden set",
        questions,
    )
    assert (
        first["golden_sets"]
        == second["golden_sets"]
        == [{"organization": "acme", "name": "Demo golden set", "questions": questions}]
    )
    assert first["evaluation_runs"] == [] and not EvalRun.objects.exists()


@pytest.mark.django_db
def test_with_sync_the_golden_set_is_measured_over_the_ingested_documents_once(small_demo):
    # When the demo is seeded with --sync, twice
    first = _seed("--sync")
    second = _seed("--sync")

    # Then one run of the set measured every question over the ready documents, run by acme's admin
    run = EvalRun.objects.get()
    assert all(d["status"] == "ready" for d in first["documents"])
    assert (run.status, run.done, run.total, run.started_by.username) == ("done", small_demo, small_demo, "acme-admin")
    assert run.metrics["recall@k"] == 1.0
    assert (
        first["evaluation_runs"]
        == second["evaluation_runs"]
        == [{"organization": "acme", "golden_set": "Demo golden set", "run_id": run.pk, "status": "done"}]
    )
    assert EvalSet.objects.count() == 1
    # And the policy the demo marks overdue is owned by the admin and due since September
    overdue = Document.objects.get(external_id="paid-leave-holidays")
    assert (overdue.owner_user.username, overdue.review_by) == ("acme-admin", date(2026, 9, 1))


def test_without_sync_the_run_is_queued_behind_the_documents(small_demo, db_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = _seed()

    # The worker takes tasks in the order they were queued: the documents first, then the run
    queued = list(DBTaskResult.objects.order_by("enqueued_at", "id").values_list("task_path", "args_kwargs"))
    run = EvalRun.objects.get()
    assert run.status == "queued" and result["evaluation_runs"][0]["status"] == "queued"
    assert [path for path, _ in queued[: len(DOCUMENTS)]] == ["citadel.ingestion.tasks.ingest_version"] * len(DOCUMENTS)
    assert queued[-1] == ("citadel.evaluation.tasks.eval_run_task", {"args": [run.pk], "kwargs": {}})
