"""`manage.py ingest`: the contract's options and its one-JSON-object-per-line output."""

import io
import json

import pytest
from django.core.management import call_command

from citadel.documents.models import Document
from citadel.documents.models import DocumentVersion as Version


def run_ingest(*args) -> list[dict]:
    out = io.StringIO()
    call_command("ingest", *args, "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "expenses.md").write_text("# Expenses\n\nMeals up to 60 euros a day are reimbursed.\n")
    (tmp_path / "broken.pdf").write_bytes(b"MZ\x90\x00 this is a Windows program")
    return tmp_path


def test_sync_ingest_prints_one_object_per_document(world, files):
    world.user("ada", "acme", role="admin")

    rows = run_ingest(str(files / "expenses.md"), str(files / "broken.pdf"), "--org", "acme", "--as", "ada", "--sync")

    # The contract's fields, and added beside them `attachments` (an email's attachment documents),
    # `notice` (what was left out of the upload), `owner` and `review_by`.
    contract = {"id", "external_id", "title", "status", "version", "chunks", "error"}
    assert [set(r) for r in rows] == [contract | {"attachments", "notice", "owner", "review_by"}] * 2
    good, bad = rows
    assert good == {
        "id": Document.objects.get(external_id="expenses").pk,
        "external_id": "expenses",
        "title": "Expenses",
        "status": "ready",
        "version": 1,
        "chunks": 1,
        "error": None,
        "notice": "",
        "owner": None,
        "review_by": None,
        "attachments": [],
    }
    assert (bad["status"], bad["chunks"]) == ("failed", 0)
    assert "Windows program" in bad["error"]


def test_same_file_again_is_recognised_and_an_edit_adds_a_version(world, files):
    world.user("ada", "acme", role="admin")
    path = files / "expenses.md"
    run_ingest(str(path), "--as", "ada", "--sync", "--external-id", "EXP-1")

    again = run_ingest(str(path), "--as", "ada", "--sync", "--external-id", "EXP-1")
    path.write_text("# Expenses\n\nMeals up to 70 euros a day are reimbursed.\n")
    edited = run_ingest(str(path), "--as", "ada", "--sync", "--external-id", "EXP-1")

    assert (again[0]["version"], edited[0]["version"], edited[0]["status"]) == (1, 2, "ready")
    assert Version.objects.filter(document__external_id="EXP-1").count() == 2


def test_team_and_user_options_restrict_the_new_document(world, files):
    world.user("ada", "acme", role="admin", teams=["Finance"])
    world.user("bob", "acme")

    run_ingest(str(files / "expenses.md"), "--as", "ada", "--team", "Finance", "--user", "bob")

    grants = {(g.scope, g.team.name if g.team else g.user.username) for g in Document.objects.get().grants.all()}
    assert grants == {("team", "Finance"), ("user", "bob")}


def test_without_sync_the_version_is_queued(world, files, django_capture_on_commit_callbacks):
    world.user("ada", "acme", role="admin")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = run_ingest(str(files / "expenses.md"), "--as", "ada")

    assert rows[0]["status"] == "uploaded"
    assert len(callbacks) == 1


def test_unknown_team_is_a_clean_error(world, files):
    world.user("ada", "acme", role="admin")
    out = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("ingest", str(files / "expenses.md"), "--as", "ada", "--team", "Nope", "--json", stdout=out)

    assert json.loads(out.getvalue())["code"] == "not_found"
