"""The reviewer's page, the policy page and the partials the answer pages include."""

import re

from django.template.loader import render_to_string
from django.test import RequestFactory

from citadel.audit.models import AuditEvent
from citadel.review.models import ReviewItem
from citadel.review.services import review_approve, review_edit, review_gate, review_reject
from tests.factories import make_document
from tests.review.helpers import make_answer


def test_the_reviewer_page_opens_the_next_item(acme, login):
    item = acme.pending_item()

    response = login(acme.rita).get("/review/")

    assert response.status_code == 302 and response.url == f"/review/items/{item.pk}/"


def test_a_partial_answer_shows_the_reviewer_what_the_sources_do_not_say(acme, login):
    item = acme.pending_item(question="How long do refunds to Japan take?", flags=["partial"], uncovered=["Japan"])

    html = login(acme.rita).get(f"/review/items/{item.pk}/").content.decode()

    assert "the cited sources do not say part of what was asked: <q>Japan</q>" in html


def test_an_item_shows_question_sources_answer_and_shortcuts(acme, login):
    item = acme.pending_item(flags=["low_scores"])

    response = login(acme.rita).get(f"/review/items/{item.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "How long do refunds take?" in html
    assert "Refunds take 14 days." in html  # the source passage
    assert "Refunds take 14 days [1]." in html  # the answer
    assert "the answerability score is low" in html
    for key in "arex":
        assert f'data-hotkey="{key}"' in html
    script = re.search(r'<script src="[^"]*review\.js" nonce="([^"]+)"', html)
    assert script and script.group(1) == response.context["csp_nonce"]
    assert " onclick=" not in html and " style=" not in html


def test_j_and_k_walk_the_queue(acme, login):
    first = acme.pending_item(question="First?")
    second = acme.pending_item(question="Second?")
    client = login(acme.boss)

    html = client.get(f"/review/items/{first.pk}/").content.decode()
    assert f'href="/review/items/{second.pk}/" data-hotkey="j"' in html
    html = client.get(f"/review/items/{second.pk}/").content.decode()
    assert f'href="/review/items/{first.pk}/" data-hotkey="k"' in html


def test_own_questions_are_skipped_and_shown_without_buttons(acme, login):
    item = acme.pending_item(asker=acme.rita)
    client = login(acme.rita)

    assert client.get("/review/").status_code == 200  # nothing else waits
    html = client.get(f"/review/items/{item.pk}/").content.decode()
    assert "This is your own question" in html and 'data-hotkey="a"' not in html


def test_sources_the_reviewer_may_not_read_stay_hidden(acme, login, world):
    secret = make_document(acme.org, "salaries", ["The CEO earns a lot."], grants=[acme.asker])
    item = acme.pending_item(documents=[secret])

    html = login(acme.rita).get(f"/review/items/{item.pk}/").content.decode()

    assert "The CEO earns a lot." not in html and "restricted source" in html


def test_a_reviewer_who_may_not_read_the_sources_sees_that_an_edit_was_made_but_not_the_change(acme, login):
    """Given an answer built from a Legal-only memo and edited by a Legal reviewer, when a reviewer
    outside Legal opens the item, then its history says who edited it, when and by how much, and
    shows neither the diff nor the edited text."""
    item = acme.legal_edit()

    html = login(acme.rita).get(f"/review/items/{item.pk}/").content.decode()

    assert "<strong>lena</strong> Edited" in html
    assert "1 line added, 1 removed; the change is withheld: built from documents you may not read." in html
    assert "12 million" not in html and "13 million" not in html and 'class="diff"' not in html


def test_a_reviewer_who_may_read_the_sources_sees_the_edit(acme, login, world):
    """Given the same edit, when another Legal reviewer opens the item, then the history shows the diff."""
    item = acme.legal_edit()
    lou = world.user("lou", "acme", role="reviewer", teams=["Legal"])

    html = login(lou).get(f"/review/items/{item.pk}/").content.decode()

    assert "-The settlement is 12 million [1].\n+The settlement is 13 million [1]." in html
    assert "the change is withheld" not in html


def test_approving_from_the_page_moves_on(acme, login):
    item = acme.pending_item()

    response = login(acme.rita).post(f"/review/items/{item.pk}/approve/", {"note": ""})

    item.refresh_from_db()
    assert item.state == "approved" and response.status_code == 302


def test_a_refused_action_on_the_page_explains_instead_of_failing(acme, login):
    item = acme.pending_item()
    client = login(acme.rita)
    client.post(f"/review/items/{item.pk}/approve/")

    response = client.post(f"/review/items/{item.pk}/reject/", {"reason": "late"}, follow=True)

    assert response.status_code == 200 and b"A review that is approved cannot become rejected." in response.content


def test_editing_in_place_returns_the_answer_panel(acme, login):
    item = acme.pending_item()
    client = login(acme.rita)

    editor = client.get(f"/review/items/{item.pk}/edit/", headers={"HX-Request": "true"})
    saved = client.post(
        f"/review/items/{item.pk}/edit/", {"text": "Refunds take two weeks [1]."}, headers={"HX-Request": "true"}
    )

    assert b"<textarea" in editor.content and b"<html" not in editor.content
    assert saved.status_code == 200 and b"Refunds take two weeks [1]." in saved.content
    assert b"The model's original" in saved.content
    item.refresh_from_db()
    assert item.edited_text == "Refunds take two weeks [1]."


def test_a_member_cannot_use_the_reviewer_page(acme, login):
    item = acme.pending_item()
    client = login(acme.mo)

    assert client.get("/review/").status_code == 403
    assert client.post(f"/review/items/{item.pk}/approve/").status_code == 403
    item.refresh_from_db()
    assert item.state == "pending"


def test_another_organizations_reviewer_gets_404_and_an_empty_queue(acme, login):
    item = acme.pending_item()
    client = login(acme.globex_reviewer)

    assert client.get("/review/").status_code == 200
    assert client.get(f"/review/items/{item.pk}/").status_code == 404
    assert client.post(f"/review/items/{item.pk}/approve/").status_code == 404
    assert client.get(f"/review/items/{item.pk}/edit/").status_code == 404
    item.refresh_from_db()
    assert item.state == "pending"


def test_admins_set_the_policy(acme, login):
    response = login(acme.boss).post(
        "/review/policy/", {"review_policy": "all", "watch_words": "lawsuit\nRecall, recall"}
    )

    acme.org.refresh_from_db()
    assert response.status_code == 302
    assert acme.org.review_policy == "all" and acme.org.watch_words == ["lawsuit", "Recall"]
    event = AuditEvent.objects.get(verb="policy.changed")
    assert event.metadata["from"]["review_policy"] == "flagged" and event.metadata["to"]["review_policy"] == "all"


def test_a_bad_policy_is_refused_with_a_message(acme, login):
    response = login(acme.boss).post("/review/policy/", {"review_policy": "sometimes", "watch_words": ""})

    assert response.status_code == 400 and b"Unknown review policy" in response.content


def test_reviewers_and_members_cannot_set_the_policy(acme, login):
    for user in (acme.rita, acme.mo):
        client = login(user)
        assert client.get("/review/policy/").status_code == 403
        assert client.post("/review/policy/", {"review_policy": "none"}).status_code == 403
    acme.org.refresh_from_db()
    assert acme.org.review_policy == "flagged"


def _partials(answer, user) -> str:
    request = RequestFactory().get(f"/answers/{answer.pk}/")
    request.user = user
    answer.refresh_from_db()
    return render_to_string("review/_review_status.html", {"answer": answer}, request) + render_to_string(
        "review/_feedback_form.html", {"answer": answer}, request
    )


def test_the_asker_is_told_why_an_answer_waits(acme):
    acme.set_policy("flagged")
    answer = make_answer(acme.org, acme.asker, flags=["unsupported_sentences", "watch_word"])
    review_gate(answer=answer)

    html = _partials(answer, acme.asker)

    # The card's one badge says "Waiting for review"; the review note says why, without a badge of its own.
    assert "A reviewer must approve this answer before it is shown" in html and 'class="badge' not in html
    assert "some sentences are not supported by the passages they cite and it mentions a word" in html
    assert "Was this answer helpful?" not in html


def test_the_asker_sees_who_reviewed_and_can_give_feedback(acme, login):
    item = acme.pending_item()
    review_edit(principal=acme.principal("rita"), item_id=item.pk, text="Refunds take two weeks [1].")
    review_approve(principal=acme.principal("rita"), item_id=item.pk)

    html = _partials(item.answer, acme.asker)

    assert re.search(r">Approved</span> by rita, <time datetime=", html) and "the reviewer edited the model" in html
    assert f'hx-post="/review/answers/{item.answer_id}/feedback/"' in html


def test_the_asker_sees_why_it_was_rejected(acme):
    item = acme.pending_item()
    review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="Ask HR <directly>.")

    html = _partials(item.answer, acme.asker)

    assert "rita rejected this answer <time" in html and "Ask HR &lt;directly&gt;." in html
    assert "Was this answer helpful?" not in html


def test_reviewers_see_the_review_link(acme, login):
    assert b'href="/review/"' in login(acme.rita).get("/").content
    assert b'href="/review/"' not in login(acme.mo).get("/").content


def test_unknown_actions_are_404(acme, login):
    item = acme.pending_item()

    assert login(acme.rita).post(f"/review/items/{item.pk}/delete/").status_code == 404
    assert ReviewItem.objects.filter(pk=item.pk, state="pending").exists()
