"""`manage.py ingest ... [--owner USERNAME | --owner-team NAME] [--review-by YYYY-MM-DD]`."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from citadel.documents.models import Document

pytestmark = pytest.mark.django_db


def run_ingest(*args) -> tuple[int, list[dict]]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *args, "--json", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, [json.loads(out.getvalue())]
    return 0, [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def policy(tmp_path, world):
    world.user("ada", "acme", role="admin")
    world.user("hal", "acme", teams=["HR"])
    path = tmp_path / "leave.md"
    path.write_text("# Leave\n\nNext review: March 2031\n\nTwenty-five days a year.\n")
    return path


def test_owner_and_review_date_are_set_and_printed(policy):
    # When a document is ingested naming its owner and its review date
    code, [row] = run_ingest(str(policy), "--as", "ada", "--owner", "hal", "--review-by", "2030-06-30", "--sync")

    # Then both are the document's and printed; the date in the text does not replace the one given
    assert (code, row["status"], row["owner"], row["review_by"]) == (0, "ready", "hal", "2030-06-30")
    document = Document.objects.get(external_id="leave")
    assert (document.owner_user.username, document.review_by, document.review_by_source) == (
        "hal",
        date(2030, 6, 30),
        "person",
    )


def test_a_team_owns_and_without_a_date_the_texts_is_taken(policy):
    code, [row] = run_ingest(str(policy), "--as", "ada", "--owner-team", "HR", "--sync")

    assert (code, row["owner"], row["review_by"]) == (0, "HR", "2031-03-01")
    assert Document.objects.get(external_id="leave").review_by_source == "text"


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        (["--owner", "nobody"], "not_found", "No member named 'nobody'"),
        (["--owner-team", "Nope"], "not_found", "No team named 'Nope'"),
        (["--review-by", "1 March 2026"], "invalid", "--review-by takes a date as YYYY-MM-DD"),
        (["--review-by", "2026-02-30"], "invalid", "not '2026-02-30'"),
    ],
)
def test_unknown_owners_and_bad_dates_are_clean_errors_that_store_nothing(policy, options, code, says):
    exit_code, [error] = run_ingest(str(policy), "--as", "ada", *options)

    assert exit_code != 0 and error["code"] == code and says in error["error"]
    assert not Document.objects.exists()


def test_a_member_outside_the_organization_cannot_own(policy, world):
    world.user("zed", "globex")

    _, [error] = run_ingest(str(policy), "--as", "ada", "--owner", "zed")

    assert error["code"] == "not_found" and not Document.objects.exists()


def test_owner_and_owner_team_together_are_refused_by_the_parser(policy):
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("ingest", str(policy), "--as", "ada", "--owner", "hal", "--owner-team", "HR")
