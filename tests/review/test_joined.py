"""One review per question and evidence: the same question asked again on the same sources while
an item waits joins it, and the decision made on it answers every asker."""

import pytest

from citadel.answers.models import Answer, AnswerStatus
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidTransition
from citadel.review.models import ReviewItem, ReviewState
from citadel.review.selectors import review_item_detail, review_queue
from citadel.review.services import review_approve, review_assign, review_edit, review_gate, review_reject
from tests.factories import make_document
from tests.review.helpers import make_answer


def _ask(acme, asker, question="How long do refunds take?", documents=None, **kwargs) -> ReviewItem:
    acme.set_policy("all")
    answer = make_answer(
        acme.org, asker, question=question, documents=[acme.handbook()] if documents is None else documents, **kwargs
    )
    return review_gate(answer=answer)


def test_the_same_question_on_the_same_sources_joins_the_waiting_item(acme):
    first = _ask(acme, acme.asker)
    # Case and punctuation aside, it is the same question.
    second = _ask(acme, acme.mo, question="how long do REFUNDS take")

    assert second.joined_to_id == first.pk
    assert second.assigned_to_id is None
    assert list(review_queue(acme.principal("rita")).values_list("pk", flat=True)) == [first.pk]
    assert AuditEvent.objects.filter(verb="review.joined", target_id=str(second.pk)).exists()
    assert review_item_detail(acme.principal("rita"), first)["also_asked_by"] == ["mo"]


def test_other_questions_or_other_sources_open_their_own_items(acme):
    first = _ask(acme, acme.asker)
    other_question = _ask(acme, acme.mo, question="How long do returns take?")
    memo = make_document(acme.org, "memo", ["Refunds take a week for members."], title="Memo")
    other_sources = _ask(acme, acme.mo, documents=[memo])

    assert other_question.joined_to_id is None
    assert other_sources.joined_to_id is None
    assert set(review_queue(acme.principal("rita")).values_list("pk", flat=True)) == {
        first.pk,
        other_question.pk,
        other_sources.pk,
    }


def test_approving_publishes_the_approved_text_to_every_asker(acme):
    first = _ask(acme, acme.asker)
    second = _ask(acme, acme.mo, text="Refunds take fourteen days [1].")
    review_edit(principal=acme.principal("rita"), item_id=first.pk, text="Refunds take 14 calendar days [1].")

    review_approve(principal=acme.principal("rita"), item_id=first.pk)

    for item in (first, second):
        item.refresh_from_db()
        answer = Answer.objects.get(pk=item.answer_id)
        assert item.state == ReviewState.APPROVED
        assert item.decided_by_id == acme.rita.pk
        assert answer.status == AnswerStatus.ANSWERED
        assert answer.text == "Refunds take 14 calendar days [1]."
    # The second asker's model wording stays on record as its original.
    assert Answer.objects.get(pk=second.answer_id).original_text == "Refunds take fourteen days [1]."
    assert AuditEvent.objects.filter(verb="review.approved", target_id=str(second.pk)).get().metadata["joined_to"] == (
        first.pk
    )


def test_rejecting_tells_every_asker_why(acme, django_capture_on_commit_callbacks):
    first = _ask(acme, acme.asker)
    second = _ask(acme, acme.mo)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        review_reject(principal=acme.principal("rita"), item_id=first.pk, reason="The policy changed in May.")

    second.refresh_from_db()
    assert second.state == ReviewState.REJECTED
    assert second.decision_reason == "The policy changed in May."
    assert Answer.objects.get(pk=second.answer_id).status == AnswerStatus.REJECTED
    # One notification task per decided item: each asker is told.
    assert len(callbacks) == 2


@pytest.mark.parametrize("decide", ["approve", "reject", "edit"])
def test_a_joined_item_is_decided_only_through_the_item_it_joined(acme, decide):
    _ask(acme, acme.asker)
    second = _ask(acme, acme.mo)
    rita = acme.principal("rita")

    with pytest.raises(InvalidTransition, match="waits on review item"):
        if decide == "approve":
            review_approve(principal=rita, item_id=second.pk)
        elif decide == "reject":
            review_reject(principal=rita, item_id=second.pk, reason="no")
        else:
            review_edit(principal=rita, item_id=second.pk, text="Other words [1].")


def test_a_reviewer_never_decides_their_own_question_through_a_joined_item(acme):
    first = _ask(acme, acme.asker)
    review_assign(principal=acme.principal("boss"), item_id=first.pk, assignee_id=acme.rob.pk)
    own = _ask(acme, acme.rita)
    assert own.joined_to_id == first.pk

    review_approve(principal=acme.principal("rita"), item_id=first.pk)

    own.refresh_from_db()
    assert own.state == ReviewState.PENDING
    assert own.joined_to_id is None
    assert own.assigned_to_id not in (None, acme.rita.pk)
    assert own.pk in review_queue(acme.principal("rob")).values_list("pk", flat=True)


def test_a_question_is_not_joined_to_an_item_its_asker_is_to_review(acme):
    first = _ask(acme, acme.asker)
    assignee = first.assigned_to

    again = _ask(acme, assignee)

    assert again.joined_to_id is None


def test_a_decided_item_is_not_joined(acme):
    first = _ask(acme, acme.asker)
    review_approve(principal=acme.principal("rita"), item_id=first.pk)

    again = _ask(acme, acme.mo)

    assert again.joined_to_id is None
    assert again.pk in review_queue(acme.principal("rita")).values_list("pk", flat=True)
