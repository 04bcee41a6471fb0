"""pending -> approved | rejected | escalated; escalated -> approved | rejected; nothing else."""

import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.audit.services import content_digest
from citadel.core.errors import InvalidInput, InvalidTransition
from citadel.review.models import TRANSITIONS, ReviewItem, ReviewState
from citadel.review.services import review_approve, review_edit, review_escalate, review_gate, review_reject
from tests.review.helpers import make_answer

ALLOWED = {
    ("pending", "approved"),
    ("pending", "rejected"),
    ("pending", "escalated"),
    ("escalated", "approved"),
    ("escalated", "rejected"),
}


@pytest.mark.parametrize("source", [s.value for s in ReviewState])
@pytest.mark.parametrize("target", [s.value for s in ReviewState])
def test_the_state_machine_allows_exactly_the_documented_moves(source, target):
    item = ReviewItem(state=source)

    if (source, target) in ALLOWED:
        assert item.move_to(target) == source and item.state == target
    else:
        with pytest.raises(InvalidTransition):
            item.move_to(target)
        assert item.state == source
    assert set(TRANSITIONS[source]) == {t for s, t in ALLOWED if s == source}


def test_approving_publishes_the_answer(acme):
    item = acme.pending_item()

    review_approve(principal=acme.principal("rita"), item_id=item.pk, note="Checked against the handbook.")

    item.refresh_from_db()
    answer = item.answer
    answer.refresh_from_db()
    assert item.state == "approved" and item.decided_by == acme.rita and item.decided_at is not None
    assert answer.status == "answered" and answer.finalized_at is not None
    assert answer.text == answer.original_text == "Refunds take 14 days [1]."
    event = item.history.last()
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "approved",
        "pending",
        "approved",
        acme.rita,
    )
    audit = AuditEvent.objects.get(verb="review.approved")
    assert audit.actor_id == acme.rita.pk and audit.target_id == str(item.pk)


def test_approving_an_abstention_publishes_it_as_insufficient_evidence(acme):
    item = acme.pending_item(flags=["abstained"], text="I could not find enough evidence.")

    review_approve(principal=acme.principal("rita"), item_id=item.pk)

    item.answer.refresh_from_db()
    assert item.answer.status == "insufficient_evidence"


def test_an_abstention_held_for_review_is_still_an_abstention_when_approved(acme):
    acme.set_policy("all")
    answer = make_answer(acme.org, acme.asker, status="insufficient_evidence", flags=[])
    item = review_gate(answer=answer)
    answer.status = "pending_review"
    answer.save(update_fields=["status"])

    review_approve(principal=acme.principal("rita"), item_id=item.pk)

    answer.refresh_from_db()
    assert answer.status == "insufficient_evidence" and "abstained" in answer.flags


def test_rejecting_withholds_the_answer_and_keeps_the_reason_for_the_asker(acme):
    item = acme.pending_item()

    review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="The handbook changed in March.")

    item.refresh_from_db()
    item.answer.refresh_from_db()
    assert item.state == "rejected" and item.decision_reason == "The handbook changed in March."
    assert item.answer.status == "rejected" and item.answer.finalized_at is not None
    assert AuditEvent.objects.filter(verb="review.rejected", metadata__reason="The handbook changed in March.").exists()


def test_rejecting_needs_a_reason(acme):
    item = acme.pending_item()

    with pytest.raises(InvalidInput):
        review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="  ")

    item.refresh_from_db()
    assert item.state == "pending"


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_an_escalated_item_can_still_be_decided(acme, decide):
    item = acme.pending_item()
    review_escalate(principal=acme.principal("rita"), item_id=item.pk, note="Legal should look.")

    boss = acme.principal("boss")
    if decide == "approve":
        review_approve(principal=boss, item_id=item.pk)
    else:
        review_reject(principal=boss, item_id=item.pk, reason="Not for publication.")

    item.refresh_from_db()
    assert item.state == {"approve": "approved", "reject": "rejected"}[decide]
    assert [e.action for e in item.history.all()] == ["opened", "escalated", item.state]
    assert AuditEvent.objects.filter(verb="review.escalated", target_id=str(item.pk)).exists()


def _decide(acme, item, how):
    rita = acme.principal("rita")
    match how:
        case "approve":
            review_approve(principal=rita, item_id=item.pk)
        case "reject":
            review_reject(principal=rita, item_id=item.pk, reason="No.")
        case "escalate":
            review_escalate(principal=rita, item_id=item.pk)
        case "edit":
            review_edit(principal=rita, item_id=item.pk, text="Changed.")


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("approve", "approve"),
        ("approve", "reject"),
        ("approve", "escalate"),
        ("approve", "edit"),
        ("reject", "approve"),
        ("reject", "escalate"),
        ("reject", "edit"),
        ("escalate", "escalate"),
    ],
)
def test_refused_transitions_change_nothing(acme, first, then):
    item = acme.pending_item()
    _decide(acme, item, first)
    item.refresh_from_db()
    state, history = item.state, item.history.count()
    audits = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition):
        _decide(acme, item, then)

    item.refresh_from_db()
    assert item.state == state and item.history.count() == history and AuditEvent.objects.count() == audits


def test_the_database_refuses_unknown_states_and_unrecorded_decisions(acme):
    item = acme.pending_item()

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.filter(pk=item.pk).update(state="maybe")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.filter(pk=item.pk).update(state="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.filter(pk=item.pk).update(decided_at=timezone.now())


def test_edits_keep_the_original_and_record_a_diff(acme):
    item = acme.pending_item()
    rita = acme.principal("rita")

    review_edit(principal=rita, item_id=item.pk, text="Refunds take 14 calendar days [1].", note="Precision.")
    review_edit(principal=rita, item_id=item.pk, text="Refunds take 14 calendar days from receipt [1].")
    review_approve(principal=rita, item_id=item.pk)

    item.refresh_from_db()
    item.answer.refresh_from_db()
    assert item.answer.text == "Refunds take 14 calendar days from receipt [1]."
    assert item.answer.original_text == "Refunds take 14 days [1]."
    edits = list(item.history.filter(action="edited"))
    assert len(edits) == 2
    assert "-Refunds take 14 days [1]." in edits[0].diff and "+Refunds take 14 calendar days [1]." in edits[0].diff
    assert "-Refunds take 14 calendar days [1]." in edits[1].diff
    assert AuditEvent.objects.filter(verb="review.edited").count() == 2


def test_an_edit_is_audited_by_digests_and_sizes_not_by_its_text(acme):
    """Given a pending answer, when a reviewer edits it, then the audit event points at the item's
    history entry and keeps digests and sizes of the text before and after, not the text: the
    answer's words are shown only to those who may read its sources, and every admin reads the trail."""
    item = acme.pending_item()

    review_edit(principal=acme.principal("rita"), item_id=item.pk, text="Refunds take 14 calendar days [1].")

    event = AuditEvent.objects.get(verb="review.edited")
    edit = item.history.get(action="edited")
    assert event.metadata == {
        "answer_id": item.answer_id,
        "review_event_id": edit.pk,
        "before_digest": content_digest("Refunds take 14 days [1]."),
        "after_digest": content_digest("Refunds take 14 calendar days [1]."),
        "chars_before": 25,
        "chars_after": 34,
    }
    assert "Refunds" not in json.dumps(event.metadata)


def test_an_edit_that_changes_nothing_records_nothing(acme):
    item = acme.pending_item()

    review_edit(principal=acme.principal("rita"), item_id=item.pk, text=item.answer.text)

    assert not item.history.filter(action="edited").exists()
