"""The ask page, answer card, receipt, source view, streaming endpoint and the ask command."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citadel.answers.models import Answer, AnswerStatus
from citadel.answers.services import answer_question
from citadel.audit.models import PromptLog
from citadel.review.services import review_reject
from tests.factories import make_document
from tests.llm_server import Reply

QUESTION = "How many days until refunds are paid?"


@pytest.fixture
def acme(world):
    org = world.org("acme")
    org.review_policy = "none"
    org.save()
    make_document(
        org,
        "refund-policy",
        ["Refunds are paid within 14 days of the returned item arriving at our warehouse. Shipping is not refunded."],
    )
    return org


@pytest.fixture
def ann(world, acme):
    return world.user("ann", acme)


def test_the_answer_card_never_reads_the_whole_text_of_the_cited_versions(login, ann, acme):
    """Given an answer citing a passage of a document, when its card is shown, then the version's
    extracted text (a whole document: megabytes for a long PDF) is not read, only its number."""
    client = login(ann)
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("answers:detail", args=[answer.pk]))

    assert response.status_code == 200 and "14 days" in response.content.decode()
    versions_read = [q["sql"] for q in captured.captured_queries if '"documents_documentversion"' in q["sql"]]
    assert versions_read and not any('"documents_documentversion"."text"' in sql for sql in versions_read)


def test_home_is_the_ask_page_with_my_history(login, ann, acme):
    client = login(ann)
    answer_question(principal=_principal(ann, acme), text=QUESTION)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert b"Ask the documents of acme" in response.content
    assert QUESTION.encode() in response.content and b"badge-answered" in response.content


def test_asking_through_htmx_returns_the_answer_card_with_citation_links(login, ann):
    client = login(ann)

    response = client.post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    answer = Answer.objects.get()
    body = response.content.decode()
    assert "badge-answered" in body and "14 days" in body
    assert reverse("answers:source", args=[answer.pk, 1]) + "#cited" in body
    assert reverse("answers:receipt", args=[answer.pk]) in body


def test_asking_without_js_redirects_to_the_answer(login, ann):
    response = login(ann).post(reverse("answers:ask"), {"question": QUESTION})
    assert response.status_code == 302
    assert response.url == reverse("answers:detail", args=[Answer.objects.get().pk])


def test_an_empty_question_is_a_400_with_a_message(login, ann):
    response = login(ann).post(reverse("answers:ask"), {"question": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"required" in response.content


def test_the_budget_cap_answers_429_with_a_clear_message(login, ann, acme):
    acme.monthly_budget_usd = Decimal("0.50")
    acme.save()
    PromptLog.objects.create(
        organization=acme,
        feature="answer",
        provider="openai",
        model="gpt-4o",
        started_at=timezone.now(),
        status="ok",
        content_mode="none",
        cost_usd=Decimal("0.75"),
    )

    response = login(ann).post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")

    assert response.status_code == 429
    assert b"monthly answer budget" in response.content
    assert int(response["Retry-After"]) > 0
    assert not Answer.objects.exists()


def test_a_citation_opens_the_passage_highlighted_in_its_document(login, ann, acme):
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)

    response = login(ann).get(reverse("answers:source", args=[answer.pk, 1]))

    assert response.status_code == 200
    body = response.content.decode()
    citation = answer.citations.get(n=1)
    assert f"<mark>{citation.quote}</mark>" in body
    assert 'id="cited"' in body


def test_the_receipt_shows_passages_scores_and_ranks(login, ann, acme):
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    response = login(ann).get(reverse("answers:receipt", args=[answer.pk]))
    assert response.status_code == 200
    assert b"Refund Policy" in response.content and b"Lexical rank" in response.content


def test_a_receipt_of_one_organization_is_404_for_another_organizations_member(login, world, ann, acme):
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    outsider = world.user("gil", "globex")
    client = login(outsider)

    for name, args in [
        ("answers:receipt", [answer.pk]),
        ("answers:detail", [answer.pk]),
        ("answers:source", [answer.pk, 1]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404


def test_another_member_cannot_read_my_answer_but_a_reviewer_can(login, world, ann, acme):
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    assert login(world.user("bob", acme)).get(reverse("answers:detail", args=[answer.pk])).status_code == 404
    assert (
        login(world.user("rita", acme, role="reviewer")).get(reverse("answers:detail", args=[answer.pk])).status_code
        == 200
    )


def test_the_answer_page_shows_source_changed_since(login, ann, acme):
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    acme.documents.update(archived_at=timezone.now())

    response = login(ann).get(reverse("answers:detail", args=[answer.pk]))

    assert b"Source changed since" in response.content


def test_a_pending_answer_is_hidden_from_the_asker(login, ann, acme):
    acme.review_policy = "all"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    assert answer.status == AnswerStatus.PENDING_REVIEW

    response = login(ann).get(reverse("answers:detail", args=[answer.pk]))

    assert b"Waiting for review" in response.content
    assert b"14 days" not in response.content
    assert login(ann).get(reverse("answers:source", args=[answer.pk, 1])).status_code == 404


def test_a_rejected_answer_is_withheld_from_its_asker_with_the_reviewers_reason(login, world, ann, acme):
    """Given an answer a reviewer rejected, when its asker opens it on the web, then its text, its
    sources and its receipt stay closed (as in the API) and the reviewer's reason is shown; the
    reviewer still reads all of it."""
    acme.review_policy = "all"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    rita = world.user("rita", acme, role="reviewer")
    review_reject(principal=_principal(rita, acme), item_id=answer.review_items.get().pk, reason="Ask HR directly.")

    page = login(ann).get(reverse("answers:detail", args=[answer.pk]))
    assert page.status_code == 200
    assert b"Ask HR directly." in page.content and b"14 days" not in page.content
    assert login(ann).get(reverse("answers:source", args=[answer.pk, 1])).status_code == 404
    assert login(ann).get(reverse("answers:receipt", args=[answer.pk])).status_code == 403

    assert b"14 days" in login(rita).get(reverse("answers:detail", args=[answer.pk])).content
    assert login(rita).get(reverse("answers:receipt", args=[answer.pk])).status_code == 200


def test_with_a_model_provider_the_answer_streams_over_server_sent_events(login, ann, acme, openai_env):
    acme.generation_provider = "openai"
    acme.generation_model = "gpt-4o-mini"
    acme.save()
    openai_env.responder = lambda body: Reply(text="Refunds are paid within 14 days [1].")
    client = login(ann)

    card = client.post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and b"data-stream-url" in card.content
    question_id = card.context["question"].pk

    response = client.get(reverse("answers:stream", args=[question_id]))
    assert response["Content-Type"] == "text/event-stream"
    events = b"".join(response.streaming_content).decode()

    deltas = [json.loads(line[6:]) for line in events.splitlines() if line.startswith("data: ") and '"url"' not in line]
    assert "".join(deltas) == "Refunds are paid within 14 days [1]."
    answer = Answer.objects.get(question_id=question_id)
    assert f'"url": "{reverse("answers:detail", args=[answer.pk])}"' in events
    assert answer.status == AnswerStatus.ANSWERED and answer.provider == "openai"


def test_the_ask_command_prints_the_contract_json(ann, acme):
    out = StringIO()
    call_command("ask", QUESTION, "--as", "ann", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert set(result) >= {"answer_id", "status", "text", "citations", "receipt_url"}
    assert result["status"] == "answered" and "14 days" in result["text"]
    [citation] = result["citations"]
    assert set(citation) == {
        "n",
        "chunk_id",
        "document_id",
        "external_id",
        "title",
        "version",
        "page",
        "locator",
        "quote",
    }
    assert citation["external_id"] == "refund-policy" and citation["version"] == 1
    assert result["receipt_url"].endswith(reverse("answers:receipt", args=[result["answer_id"]]))


def test_an_abstention_waiting_for_review_still_shows_what_came_closest(login, ann, acme):
    """Given the flagged policy, when the answer abstains it waits for review; there is no model
    text to hide, so the asker still sees what was searched and the closest passages."""
    acme.review_policy = "flagged"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text="Who is the chief executive of the company?")
    assert answer.status == AnswerStatus.PENDING_REVIEW and "abstained" in answer.flags

    content = login(ann).get(reverse("answers:detail", args=[answer.pk])).content.decode()

    assert "Waiting for review" in content
    assert "What came closest" in content and "Refunds are paid within 14 days" in content
    assert "appear here once a reviewer approves it" not in content


def test_the_ask_command_reports_abstention(ann, acme):
    out = StringIO()
    call_command("ask", "Who is the chief executive of the company?", "--as", "ann", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "insufficient_evidence" and result["citations"] == []
    assert result["review"] == "none" and result["support"] < 0.45


def test_the_ask_command_and_the_card_say_what_a_partial_answer_leaves_out(ann, acme, login):
    out = StringIO()
    call_command("ask", "How many days until refunds from Japan are paid?", "--as", "ann", "--json", stdout=out)
    result = json.loads(out.getvalue())

    assert (result["status"], result["uncovered"]) == ("partial", ["Japan"])
    assert "14 days" in result["text"]
    content = login(ann).get(reverse("answers:detail", args=[result["answer_id"]])).content.decode()
    assert "Partly answered" in content and "<q>Japan</q>" in content
    receipt = login(ann).get(reverse("answers:receipt", args=[result["answer_id"]])).content.decode()
    assert "the question asks about <q>Japan</q>" in receipt


def test_the_ask_command_tells_an_abstention_from_an_answer_waiting_for_review(ann, acme):
    """Given every answer reviewed, an abstention is still insufficient_evidence (review pending),
    and an answer is pending_review with its text withheld; both carry their evidence score."""
    acme.review_policy = "all"
    acme.save()

    def ask(question):
        out = StringIO()
        call_command("ask", question, "--as", "ann", "--json", stdout=out)
        return json.loads(out.getvalue())

    abstention = ask("Who is the chief executive of the company?")
    answer = ask(QUESTION)

    assert (abstention["status"], abstention["review"], abstention["text"]) == ("insufficient_evidence", "pending", "")
    assert (answer["status"], answer["review"], answer["text"]) == ("pending_review", "pending", "")
    assert isinstance(answer["support"], float) and answer["support"] > abstention["support"]


def _principal(user, org):
    from citadel.accounts.selectors import principal_for

    return principal_for(user=user, organization=org)
