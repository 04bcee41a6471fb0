"""The organization's review policy decides which fresh answers wait for a human."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.review.models import ReviewItem
from citadel.review.services import review_gate
from tests.factories import make_document
from tests.review.helpers import make_answer


def test_policy_all_holds_an_unflagged_answer(acme):
    acme.set_policy("all")
    answer = make_answer(acme.org, acme.asker, flags=[])

    item = review_gate(answer=answer)

    assert item is not None and item.state == "pending" and item.reason == "policy_all"
    assert AuditEvent.objects.filter(verb="review.opened", target_id=str(item.pk)).exists()
    assert item.history.get().action == "opened"


def test_policy_flagged_lets_a_clean_answer_through(acme):
    acme.set_policy("flagged")
    answer = make_answer(acme.org, acme.asker, flags=[])

    assert review_gate(answer=answer) is None
    assert not ReviewItem.objects.exists()


@pytest.mark.parametrize("flag", ["abstained", "unsupported_sentences", "low_scores"])
def test_policy_flagged_holds_a_flagged_answer(acme, flag):
    acme.set_policy("flagged")
    answer = make_answer(acme.org, acme.asker, flags=[flag])

    item = review_gate(answer=answer)

    assert item.reason == "flagged" and item.flags == [flag]


def test_policy_flagged_holds_an_answer_mentioning_a_watch_word(acme):
    acme.set_policy("flagged", watch_words=["Lawsuit"])
    answer = make_answer(acme.org, acme.asker, question="Is the lawsuit settled?", flags=[])

    item = review_gate(answer=answer)

    answer.refresh_from_db()
    assert item.flags == ["watch_word"] and answer.flags == ["watch_word"]


def test_watch_words_match_whole_words_only(acme):
    acme.set_policy("flagged", watch_words=["sue"])
    answer = make_answer(acme.org, acme.asker, question="Which issue is open?", text="The issue is open.", flags=[])

    assert review_gate(answer=answer) is None


def test_policy_flagged_holds_an_answer_drawing_on_a_sensitive_document(acme):
    acme.set_policy("flagged")
    payroll = make_document(acme.org, "payroll", ["Salaries are paid on the 25th."])
    payroll.sensitive = True
    payroll.save(update_fields=["sensitive"])
    answer = make_answer(acme.org, acme.asker, flags=[], documents=[payroll])

    item = review_gate(answer=answer)

    assert item.flags == ["sensitive_document"]


def test_policy_none_publishes_even_flagged_answers(acme):
    acme.set_policy("none")
    answer = make_answer(acme.org, acme.asker, flags=["unsupported_sentences", "low_scores"])

    assert review_gate(answer=answer) is None


def test_new_item_is_due_later_and_goes_to_the_least_loaded_reviewer(acme, settings):
    settings.CITADEL = {**settings.CITADEL, "REVIEW_DUE_HOURS": 8}
    first = acme.pending_item()
    before = timezone.now()

    second = acme.pending_item(question="Second question?")

    assert {first.assigned_to.username, second.assigned_to.username} == {"rita", "rob"}
    assert before + timedelta(hours=7, minutes=59) < second.due_at <= timezone.now() + timedelta(hours=8)


def test_the_asker_is_never_assigned_their_own_question(acme):
    acme.set_policy("all")
    answer = make_answer(acme.org, acme.rita, flags=[])

    item = review_gate(answer=answer)

    assert item.assigned_to == acme.rob


def test_the_assigned_reviewer_is_emailed_on_commit(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = acme.pending_item()

    assert [m.to for m in mail.outbox] == [[item.assigned_to.email]]
    assert f"/review/items/{item.pk}/" in mail.outbox[0].body


def test_gating_the_same_answer_twice_keeps_one_open_item(acme):
    item = acme.pending_item()

    assert review_gate(answer=item.answer) == item
    assert ReviewItem.objects.count() == 1
