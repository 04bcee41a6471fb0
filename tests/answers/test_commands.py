"""The `ask` command's scope: --document, --team and --label narrow the search, never widen it, and
leave the JSON it prints as it was."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from citadel.answers.models import Question
from citadel.documents.models import DocumentLabel, Label, LabelStatus
from tests.factories import make_document

QUESTION = "How many weeks does parental leave last?"
CONTRACT = {
    "answer_id",
    "status",
    "review",
    "support",
    "uncovered",
    "text",
    "citations",
    "receipt_url",
    "notice",
    "flags",
    "thread_id",
    "searched_as",
}


@pytest.fixture
def acme(world):
    org = world.org("acme")
    org.review_policy = "none"
    org.save()
    world.user("ann", org)
    world.user("lea", org, teams=["Legal"])
    make_document(org, "parental-leave", ["Parental leave lasts 16 weeks for every employee."])
    make_document(
        org,
        "legal-leave",
        ["Parental leave lasts 20 weeks for members of the legal team."],
        grants=[org.teams.get(name="Legal")],
    )
    return org


def ask(*args, question=QUESTION):
    out = StringIO()
    call_command("ask", question, *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_ask_within_a_document_cites_only_it_and_prints_the_same_fields(acme):
    """Given two leave policies Lea may read, when she asks within one by its external id, then
    only that one is cited, and the output has exactly the fields it had without a scope."""
    plain = ask("--as", "lea")
    within = ask("--as", "lea", "--document", "parental-leave")

    assert set(within) == set(plain) == CONTRACT
    assert {c["external_id"] for c in within["citations"]} == {"parental-leave"}
    assert "16 weeks" in within["text"]
    assert Question.objects.get(answer__pk=within["answer_id"]).scope == {
        "document_ids": [acme.documents.get(external_id="parental-leave").pk]
    }


def test_ask_within_a_team_cites_only_the_teams_documents(acme):
    result = ask("--as", "lea", "--team", "Legal")

    assert {c["external_id"] for c in result["citations"]} == {"legal-leave"}


def test_ask_within_a_team_the_asker_is_not_in_quotes_nothing_they_could_not_read(acme):
    result = ask("--as", "ann", "--team", "Legal")

    assert result["status"] == "insufficient_evidence" and result["citations"] == []


def test_ask_within_a_label_cites_only_labelled_documents(acme):
    label = Label.objects.create(organization=acme, name="Legal matters")
    DocumentLabel.objects.create(
        document=acme.documents.get(external_id="legal-leave"), label=label, status=LabelStatus.ACCEPTED
    )

    result = ask("--as", "lea", "--label", "Legal matters", "--label", "Legal matters")

    assert {c["external_id"] for c in result["citations"]} == {"legal-leave"}


@pytest.mark.parametrize("external_id", ["legal-leave", "no-such-document"])
def test_a_document_the_asker_may_not_read_is_an_error_like_a_missing_one(acme, external_id):
    """Given Ann outside Legal, when she asks within Legal's policy or a document that does not
    exist, then the command fails alike, naming the id, and nothing is asked."""
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ask", QUESTION, "--as", "ann", "--document", external_id, "--json", stdout=out)

    assert exit_.value.code == 1
    assert json.loads(out.getvalue())["error"] == f"No document {external_id!r} that you may read."
    assert not Question.objects.exists()


def test_ask_in_a_thread_prints_the_thread_and_what_was_searched(acme):
    """Given Lea's question on parental leave, when she follows up with --thread, then the turn is
    in the same thread, searched as the standalone question; --as-written searches it as typed."""
    first = ask("--as", "lea", "--document", "parental-leave")
    follow_up = ask("--as", "lea", "--thread", str(first["thread_id"]), question="and for the legal team?")
    as_written = ask(
        "--as", "lea", "--thread", str(first["thread_id"]), "--as-written", question="and for the legal team?"
    )

    assert first["thread_id"] and first["searched_as"] == QUESTION
    assert set(follow_up) == CONTRACT and follow_up["thread_id"] == first["thread_id"]
    assert follow_up["searched_as"] != "and for the legal team?"
    assert "legal team" in follow_up["searched_as"] and "parental leave" in follow_up["searched_as"].lower()
    assert as_written["thread_id"] == first["thread_id"] and as_written["searched_as"] == "and for the legal team?"


def test_clear_scope_widens_a_threads_next_turns_to_all_the_asker_reads(acme):
    """Given Lea's thread asked within the company policy, when she follows up with --clear-scope,
    then that turn and the next search every document she may read again, Legal's included."""
    thread = str(ask("--as", "lea", "--document", "parental-leave")["thread_id"])
    legal = "How many weeks does parental leave last for members of the legal team?"

    kept = ask("--as", "lea", "--thread", thread, question=legal)
    cleared = ask("--as", "lea", "--thread", thread, "--clear-scope", question=legal)
    after = ask("--as", "lea", "--thread", thread, question=legal)

    assert "legal-leave" not in {c["external_id"] for c in kept["citations"]}
    for result in (cleared, after):
        assert Question.objects.get(answer__pk=result["answer_id"]).scope == {}
        assert "legal-leave" in {c["external_id"] for c in result["citations"]} and "20 weeks" in result["text"]


def test_ask_in_another_persons_thread_is_an_error_like_a_missing_one(acme):
    thread_id = ask("--as", "lea")["thread_id"]
    out = StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("ask", "and abroad?", "--as", "ann", "--thread", str(thread_id), "--json", stdout=out)

    assert exit_.value.code == 1 and json.loads(out.getvalue())["error"] == "Thread not found."
    assert Question.objects.count() == 1
