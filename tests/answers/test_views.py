"""The ask page, answer card, receipt, source view, streaming endpoint and the ask command."""

import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citadel.answers.models import Answer, AnswerStatus
from citadel.answers.services import answer_build, answer_question, question_create
from citadel.audit.models import PromptLog
from citadel.documents.models import Label
from citadel.review.services import review_approve, review_reject
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


def test_my_questions_follow_as_i_ask(login, ann, acme):
    """Given a member who has asked nothing, when they ask through htmx, then the response tells
    the page a question was asked, and the history the page then fetches lists it with its state."""
    client = login(ann)
    page = client.get(reverse("answers:ask")).content.decode()
    assert "You have not asked anything yet." in page
    assert f'hx-get="{reverse("answers:history")}" hx-trigger="question-asked from:body"' in page

    response = client.post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")
    history = client.get(reverse("answers:history"), HTTP_HX_REQUEST="true").content.decode()

    assert "question-asked" in json.loads(response["HX-Trigger"])
    assert history.lstrip().startswith('<section class="card" id="question-history"')
    assert QUESTION in history and ">Answered</span>" in history and "You have not asked" not in history


def test_a_refused_question_does_not_refresh_the_history(login, ann):
    response = login(ann).post(reverse("answers:ask"), {"question": ""}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400 and "HX-Trigger" not in response


def test_asking_through_htmx_returns_the_answer_card_with_citation_links(login, ann):
    client = login(ann)

    response = client.post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    answer = Answer.objects.get()
    body = response.content.decode()
    assert "badge-answered" in body and "14 days" in body
    citation = answer.citations.get()
    assert reverse("answers:source", args=[answer.pk, 1]) + f"?citation={citation.pk}#cited" in body
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


# Two sentences of the refund policy, both from passage 1, written as the extractive answerer writes them.
TWO_QUOTES = (
    "Refunds are paid within 14 days of the returned item arriving at our warehouse. [1] Shipping is not refunded. [1]"
)


@pytest.fixture
def quoted_twice(ann, acme, openai_env):
    """An answer quoting passage 1 twice, and its two citations in the order of the text."""
    acme.generation_provider = "openai"
    acme.generation_model = "gpt-4o-mini"
    acme.save()
    openai_env.responder = lambda body: Reply(text=TWO_QUOTES)
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    first, second = answer.citations.order_by("pk")
    assert answer.text == TWO_QUOTES and (first.n, second.n) == (1, 1)
    assert first.quote.startswith("Refunds are paid") and second.quote == "Shipping is not refunded."
    return answer, first, second


def _source_url(citation) -> str:
    return reverse("answers:source", args=[citation.answer_id, citation.n]) + f"?citation={citation.pk}"


def test_two_quotes_of_one_passage_have_their_own_markers_and_links(login, ann, quoted_twice):
    """Given an answer whose stored text marks two quotes of passage 1 both [1], when its card is
    shown, then the text marks them [1a] and [1b], and each marker and each "Open in document" link
    opens its own quote."""
    answer, first, second = quoted_twice

    card = login(ann).get(reverse("answers:detail", args=[answer.pk])).content.decode()

    assert f'<a class="cite" href="{_source_url(first)}#cited" title="Open source 1a">[1a]</a>' in card
    assert f'<a class="cite" href="{_source_url(second)}#cited" title="Open source 1b">[1b]</a>' in card
    assert card.index("[1a]</a>") < card.index("[1b]</a>") and "[1]</a>" not in card
    assert f'<a href="{_source_url(first)}#cited">Open in document</a>' in card
    assert f'<a href="{_source_url(second)}#cited">Open in document</a>' in card


def test_each_quotes_link_highlights_that_quotes_offsets(login, ann, quoted_twice):
    """Given the two quotes of passage 1, when each one's link is opened, then the page highlights
    exactly that quote's span of the passage, under its own label."""
    _, first, second = quoted_twice
    client = login(ann)

    for citation, label in ((first, "1a"), (second, "1b")):
        response = client.get(_source_url(citation))

        assert response.status_code == 200
        source = response.context["source"]
        chunk_text = citation.passage.chunk.text
        assert (source.label, source.citation.pk) == (label, citation.pk)
        assert len(source.chunk_before) == citation.quote_start
        assert source.quote == chunk_text[citation.quote_start : citation.quote_end] == citation.quote
        assert f"<mark>{citation.quote}</mark>" in response.content.decode()


def test_a_source_link_without_a_citation_opens_the_first_quote_and_a_foreign_one_is_404(
    login, ann, acme, quoted_twice
):
    """Given the two quotes of passage 1, when passage 1 is opened as links before quotes had
    markers of their own did (no ?citation=), then the first quote is highlighted; a citation that
    is not one of passage 1's quotes, or no number at all, is 404."""
    answer, first, _ = quoted_twice
    other = answer_question(principal=_principal(ann, acme), text=QUESTION).citations.first()
    client = login(ann)
    url = reverse("answers:source", args=[answer.pk, 1])

    assert client.get(url).context["source"].citation.pk == first.pk
    assert client.get(url, {"citation": other.pk}).status_code == 404
    assert client.get(url, {"citation": "first"}).status_code == 404


def test_the_receipt_labels_two_quotes_of_one_passage_as_the_card_does(login, ann, quoted_twice):
    answer, _, _ = quoted_twice

    receipt = login(ann).get(reverse("answers:receipt", args=[answer.pk])).content.decode()

    assert receipt.index("[1a] Refund Policy") < receipt.index("[1b] Refund Policy")


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
    """Given an answer a reviewer rejected, when its asker opens it on the web, then its text and
    sources stay closed, its receipt tells what was searched without the text, and the reviewer's
    reason is shown; the reviewer still reads all of it."""
    acme.review_policy = "all"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    rita = world.user("rita", acme, role="reviewer")
    review_reject(principal=_principal(rita, acme), item_id=answer.review_items.get().pk, reason="Ask HR directly.")

    page = login(ann).get(reverse("answers:detail", args=[answer.pk]))
    assert page.status_code == 200
    assert b"Ask HR directly." in page.content and b"14 days" not in page.content
    assert login(ann).get(reverse("answers:source", args=[answer.pk, 1])).status_code == 404
    receipt = login(ann).get(reverse("answers:receipt", args=[answer.pk]))
    assert receipt.status_code == 200 and b"14 days" not in receipt.content
    assert b"A reviewer rejected this answer: its text and quotes are not shown." in receipt.content

    assert b"14 days" in login(rita).get(reverse("answers:detail", args=[answer.pk])).content
    assert login(rita).get(reverse("answers:receipt", args=[answer.pk])).status_code == 200


def _status_badges(html: str) -> list[str]:
    """The state badges of the answer card's header (templates/partials/state.html)."""
    header = html[html.index('class="card answer-card"') :]
    header = header[: header.index("</header>")]
    return re.findall(r'<span class="badge state [^"]*"[^>]*>([^<]*)</span>', header)


def test_a_pending_answer_carries_one_status_badge_and_a_receipt_without_its_text(login, ann, acme):
    """Given every answer reviewed, when the asker opens a pending answer, then one badge says it
    waits for review (the review note explains why without a second badge), and its receipt opens
    with what was searched and paid but neither the text nor its quotes."""
    acme.review_policy = "all"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)

    page = login(ann).get(reverse("answers:detail", args=[answer.pk])).content.decode()
    receipt = login(ann).get(reverse("answers:receipt", args=[answer.pk]))

    assert _status_badges(page) == ["Waiting for review"]
    assert page.count("Waiting for review") == 1 and "your organization has a person approve every answer" in page
    assert receipt.status_code == 200
    text = receipt.content.decode()
    assert "14 days" not in text and "The answer's text and quotes are held until a reviewer approves it" in text
    assert "Refund Policy" in text and "review item" in text


def test_a_rejected_answer_does_not_promise_to_appear_once_approved(login, world, ann, acme):
    """Given a rejected answer, when its asker opens it, then one badge says a reviewer rejected it
    and nothing says it will appear once approved."""
    acme.review_policy = "all"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    rita = world.user("rita", acme, role="reviewer")
    review_reject(principal=_principal(rita, acme), item_id=answer.review_items.get().pk, reason="Ask HR directly.")

    page = login(ann).get(reverse("answers:detail", args=[answer.pk])).content.decode()

    assert _status_badges(page) == ["Rejected by a reviewer"]
    assert "once a reviewer approves it" not in page and "rita rejected this answer" in page


def test_an_approved_answer_shows_the_reviewers_decision_instead_of_its_flags(login, world, ann, acme):
    """Given an answer flagged as a weak match and approved by a reviewer, when its asker opens it,
    then the flag's badge is gone and the card says who approved it."""
    acme.review_policy = "flagged"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text="Who is the chief executive of the company?")
    Answer.objects.filter(pk=answer.pk).update(flags=[*answer.flags, "low_scores"])
    rita = world.user("rita", acme, role="reviewer")
    review_approve(principal=_principal(rita, acme), item_id=answer.review_items.get().pk)

    page = login(ann).get(reverse("answers:detail", args=[answer.pk])).content.decode()

    assert _status_badges(page) == ["Not enough evidence"]
    assert "Weak match" not in page
    assert re.search(r">Approved</span> by rita, <time ", page)


def test_the_receipt_says_in_words_why_review_was_not_needed_and_when_things_happened(login, ann, acme):
    """Given the flagged policy and an answer that raised no flag, when its receipt is read, then
    the review line is a sentence, and the times are human dates with the full date on hover."""
    acme.review_policy = "flagged"
    acme.save()
    answer = answer_question(principal=_principal(ann, acme), text=QUESTION)
    assert answer.status == AnswerStatus.ANSWERED

    text = login(ann).get(reverse("answers:receipt", args=[answer.pk])).content.decode()

    assert "Not needed: your organization reviews only flagged answers, and this one raised no flag." in text
    assert "not required (policy" not in text
    assert "<time datetime=" in text and "today " in text
    assert not re.search(r"<dd>[^<]*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+", text)


def test_with_a_model_provider_the_answer_streams_over_server_sent_events(login, ann, acme, openai_env):
    acme.generation_provider = "openai"
    acme.generation_model = "gpt-4o-mini"
    acme.save()
    openai_env.responder = lambda body: Reply(text="Refunds are paid within 14 days [1].")
    client = login(ann)

    card = client.post(reverse("answers:ask"), {"question": QUESTION}, HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and b"data-stream-url" in card.content
    # The history lists the question at once, as answering (citadel.js refreshes it again at the end)
    assert "question-asked" in json.loads(card["HX-Trigger"])
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
        "review_due",
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

    assert "Not enough evidence" in content and "a reviewer checks that too" in content
    assert "What came closest" in content and "Refunds are paid within 14 days" in content
    assert "appear here once a reviewer approves it" not in content
    assert "stays hidden until a reviewer approves it" not in content


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


# -- asking within a scope --------------------------------------------------------------------------


@pytest.fixture
def shipping(acme):
    """A second document that also speaks of refunds."""
    return make_document(acme, "shipping-guide", ["Refunds for shipping are paid within 3 days."], title="Shipping")


def test_the_ask_page_asks_within_the_document_a_link_names(login, ann, acme, shipping):
    """Given two documents about refunds, when Ann follows "Ask about this document" for the
    shipping guide, then the page says it asks within it (with a way to clear it), carries it
    through the form, and the answer cites that document alone."""
    client = login(ann)

    page = client.get(reverse("answers:ask"), {"document": shipping.pk}).content.decode()

    assert '<p class="msg" id="ask-scope">Asking within: <strong>Shipping</strong>' in page
    assert f'<a href="{reverse("answers:ask")}" aria-label="Clear the scope' in page
    assert f'<input type="hidden" name="document" value="{shipping.pk}"' in page

    response = client.post(reverse("answers:ask"), {"question": QUESTION, "document": [shipping.pk]})
    answer = Answer.objects.get()
    assert response.url == reverse("answers:detail", args=[answer.pk])
    assert answer.question.scope == {"document_ids": [shipping.pk]}
    assert {c.passage.document_id for c in answer.citations.all()} == {shipping.pk}


def test_the_receipt_says_what_the_answer_was_searched_within(world, login, ann, acme, shipping):
    """Given an answer asked within the shipping guide and a document only Ben may read, when Ann
    opens its receipt, then it names the shipping guide and only counts the other."""
    secret = make_document(acme, "secret-plan", ["Refunds stop next year."], grants=[world.user("ben", acme)])
    question = question_create(principal=_principal(ann, acme), text=QUESTION, document_ids=[shipping.pk, secret.pk])
    answer = answer_build(principal=_principal(ann, acme), question=question)

    page = login(ann).get(reverse("answers:receipt", args=[answer.pk])).content.decode()

    assert "<dt>Searched within</dt><dd>Shipping; 1 document you may not read</dd>" in page
    assert "Secret Plan" not in page


def test_the_ask_page_shows_no_title_of_a_document_the_asker_may_not_read(world, login, ann, acme):
    """Given a document only Ben may read and one from another organization, when Ann follows a
    link naming them, then neither title shows and the page says the link's documents are left out;
    posting one anyway is refused without asking."""
    secret = make_document(acme, "secret-plan", ["Refunds stop next year."], grants=[world.user("ben", acme)])
    other = make_document(world.org("globex"), "globex-plan", ["Globex refunds."])
    client = login(ann)

    page = client.get(reverse("answers:ask"), {"document": [secret.pk, other.pk, "x"]}).content.decode()

    assert "Secret Plan" not in page and "Globex Plan" not in page and 'id="ask-scope"' not in page
    assert "A document in this link is not one you may read" in page
    response = client.post(reverse("answers:ask"), {"question": QUESTION, "document": [secret.pk]})
    assert response.status_code == 400 and "That document is not one you may read." in response.content.decode()
    assert not Answer.objects.exists()


def test_the_ask_page_asks_within_a_team_and_a_label_from_the_link(world, login, acme):
    """Given a document granted to Legal, when Lea opens the ask page for team Legal and label
    Fees, then the chip names the team, the label is chosen, and the answer only searches Legal's
    documents."""
    lea = world.user("lea", acme, teams=["Legal"])
    legal = make_document(
        acme,
        "legal-refunds",
        ["Refunds for legal fees are paid within 60 days."],
        grants=[acme.teams.get(name="Legal")],
    )
    Label.objects.create(organization=acme, name="Fees")
    client = login(lea)

    page = client.get(reverse("answers:ask"), {"team": "Legal", "label": "Fees"}).content.decode()
    assert "Asking within: the documents of team <strong>Legal</strong>" in page
    assert '<input type="hidden" name="team" value="Legal"' in page
    assert '<option value="Fees" selected>Fees</option>' in page

    client.post(reverse("answers:ask"), {"question": QUESTION, "team": "Legal"})
    answer = Answer.objects.get()
    assert answer.question.scope == {"team": "Legal"}
    assert {c.passage.document_id for c in answer.citations.all()} == {legal.pk}


# -- threads ----------------------------------------------------------------------------------------

MEAL_QUESTION = "What is the daily meal allowance when travelling?"
MEAL_SEARCHED_AS = "What is the daily meal allowance when travelling abroad?"


@pytest.fixture
def meals(acme):
    make_document(acme, "meals-home", ["The daily meal allowance when travelling within the country is 35 euros."])
    return make_document(
        acme, "meals-abroad", ["The daily meal allowance when travelling abroad is 60 euros."], title="Meals abroad"
    )


def test_a_question_asked_under_an_answer_follows_up_in_its_thread(login, ann, acme, meals):
    """Given Ann's answer on the meal allowance, when she asks "and abroad?" on the same page, then
    the form carries the thread the first answer started, and the follow-up's card says what was
    searched, with a way to ask it as written instead."""
    client = login(ann)

    response = client.post(reverse("answers:ask"), {"question": MEAL_QUESTION}, HTTP_HX_REQUEST="true")
    first = response.content.decode()
    thread_id = Answer.objects.get().question.thread_id
    # The page's script sets the form's thread from the event the response triggers.
    assert json.loads(response["HX-Trigger"]) == {"question-asked": None, "thread-continued": thread_id}
    assert "Searched as:" not in first

    card = client.post(
        reverse("answers:ask"), {"question": "and abroad?", "thread": thread_id}, HTTP_HX_REQUEST="true"
    ).content.decode()

    follow_up = Answer.objects.latest("pk")
    assert follow_up.question.thread_id == thread_id and follow_up.question.searched_as == MEAL_SEARCHED_AS
    assert f"Searched as: <em>{MEAL_SEARCHED_AS}</em>" in card and "60 euros" in card
    assert "Ask it as written instead" in card and '<input type="hidden" name="as_written" value="on">' in card
    assert reverse("answers:question", args=[follow_up.question.drew_on_id]) in card


def test_asking_it_as_written_searches_the_words_typed_in_the_same_thread(login, ann, acme, meals):
    first = answer_question(principal=_principal(ann, acme), text=MEAL_QUESTION)
    client = login(ann)

    response = client.post(
        reverse("answers:ask"), {"question": "and abroad?", "thread": first.question.thread_id, "as_written": "on"}
    )

    again = Answer.objects.latest("pk")
    assert response.url == reverse("answers:detail", args=[again.pk])
    assert again.question.thread_id == first.question.thread_id and again.question.searched_as == ""
    assert "Searched as:" not in client.get(response.url).content.decode()


def test_the_ask_page_shows_a_thread_its_turns_and_a_new_thread_action(login, ann, acme, meals):
    """Given Ann's thread of two turns, when she opens it, then the page lists its turns in order
    with what the follow-up was searched as, offers a new thread, and asks within the thread; her
    recent threads list it with its first question and number of turns."""
    principal = _principal(ann, acme)
    first = answer_question(principal=principal, text=MEAL_QUESTION)
    answer_question(principal=principal, text="and abroad?", thread_id=first.question.thread_id)
    thread_id = first.question.thread_id

    page = login(ann).get(reverse("answers:ask"), {"thread": thread_id}).content.decode()

    assert page.index(MEAL_QUESTION) < page.index("and abroad?")
    assert f"Searched as: <em>{MEAL_SEARCHED_AS}</em>" in page
    assert f'<a href="{reverse("answers:ask")}">New thread</a>' in page
    assert f'<input type="hidden" name="thread" value="{thread_id}" id="id_thread">' in page
    assert f'<a href="{reverse("answers:ask")}?thread={thread_id}">{MEAL_QUESTION}</a>' in page
    assert "<td>2</td>" in page


def test_clearing_a_threads_scope_on_the_page_keeps_the_thread_and_widens_its_next_turns(login, ann, acme, meals):
    """Given Ann's thread asked within the abroad document, when she clears the chip on its page and
    asks again, then the question stays in the thread, searches everything she reads, and so does
    the thread from then on."""
    principal = _principal(ann, acme)
    first = answer_question(principal=principal, text=MEAL_QUESTION, document_ids=[meals.pk])
    thread_id = first.question.thread_id
    client = login(ann)
    scoped = client.get(reverse("answers:ask"), {"thread": thread_id}).content.decode()
    clear = f"{reverse('answers:ask')}?thread={thread_id}&amp;scope=clear"
    assert "Asking within: <strong>Meals abroad</strong>" in scoped and clear in scoped

    page = client.get(reverse("answers:ask"), {"thread": thread_id, "scope": "clear"}).content.decode()
    client.post(reverse("answers:ask"), {"question": MEAL_QUESTION, "thread": thread_id, "scope_clear": "on"})

    assert "Asking within" not in page and '<input type="hidden" name="scope_clear" value="True"' in page
    asked = Answer.objects.latest("pk").question
    assert asked.thread_id == thread_id and asked.scope == {}
    asked.thread.refresh_from_db()
    assert asked.thread.scope == {}


def test_someone_elses_thread_is_not_found_on_the_ask_page(world, login, ann, acme, meals):
    thread_id = answer_question(principal=_principal(ann, acme), text=MEAL_QUESTION).question.thread_id
    ben = world.user("ben", acme)

    client = login(ben)

    assert client.get(reverse("answers:ask"), {"thread": thread_id}).status_code == 404
    assert MEAL_QUESTION not in client.get(reverse("answers:ask")).content.decode()
    assert client.post(reverse("answers:ask"), {"question": "and abroad?", "thread": thread_id}).status_code == 404


def test_the_receipt_shows_what_a_follow_up_was_searched_as_and_the_turn_it_drew_on(login, ann, acme, meals):
    principal = _principal(ann, acme)
    first = answer_question(principal=principal, text=MEAL_QUESTION)
    follow_up = answer_question(principal=principal, text="and abroad?", thread_id=first.question.thread_id)

    page = login(ann).get(reverse("answers:receipt", args=[follow_up.pk])).content.decode()

    assert f"<dt>Searched as</dt><dd><em>{MEAL_SEARCHED_AS}</em>" in page
    assert reverse("answers:question", args=[first.question.pk]) in page
