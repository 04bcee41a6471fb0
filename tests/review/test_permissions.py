"""Only reviewers and admins of the organization review, and never their own questions."""

import pytest

from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.review.services import (
    review_approve,
    review_assign,
    review_edit,
    review_escalate,
    review_note,
    review_reject,
)

ACTIONS = {
    "approve": lambda p, i: review_approve(principal=p, item_id=i),
    "reject": lambda p, i: review_reject(principal=p, item_id=i, reason="No."),
    "escalate": lambda p, i: review_escalate(principal=p, item_id=i),
    "edit": lambda p, i: review_edit(principal=p, item_id=i, text="Other."),
    "note": lambda p, i: review_note(principal=p, item_id=i, note="Hm."),
    "assign": lambda p, i: review_assign(principal=p, item_id=i, assignee_id=None),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_member_cannot_review(acme, action):
    item = acme.pending_item()

    with pytest.raises(PermissionDenied):
        ACTIONS[action](acme.principal("mo"), item.pk)

    item.refresh_from_db()
    assert item.state == "pending" and item.history.count() == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_nobody_reviews_their_own_question(acme, action):
    item = acme.pending_item(asker=acme.boss)

    with pytest.raises(PermissionDenied):
        ACTIONS[action](acme.principal("boss"), item.pk)


@pytest.mark.parametrize("action", ACTIONS)
def test_another_organizations_reviewer_finds_nothing(acme, action):
    item = acme.pending_item()

    with pytest.raises(NotFound):
        ACTIONS[action](acme.principal("gina", "globex"), item.pk)


def test_items_cannot_be_given_to_outsiders_members_or_the_asker(acme):
    item = acme.pending_item()
    rita = acme.principal("rita")

    for assignee in (acme.globex_reviewer, acme.mo, acme.asker):
        with pytest.raises(InvalidInput):
            review_assign(principal=rita, item_id=item.pk, assignee_id=assignee.pk)
        with pytest.raises(InvalidInput):
            review_escalate(principal=rita, item_id=item.pk, assignee_id=assignee.pk)


def test_assignment_is_recorded(acme):
    item = acme.pending_item()

    review_assign(principal=acme.principal("rita"), item_id=item.pk, assignee_id=acme.boss.pk)

    item.refresh_from_db()
    assert item.assigned_to == acme.boss
    assert item.history.last().action == "assigned"


def test_notes_accumulate_and_are_recorded(acme):
    item = acme.pending_item()

    review_note(principal=acme.principal("rita"), item_id=item.pk, note="Asked legal.")
    review_note(principal=acme.principal("rob"), item_id=item.pk, note="Legal agrees.")

    item.refresh_from_db()
    assert "rita: Asked legal." in item.notes and "rob: Legal agrees." in item.notes
    assert [e.note for e in item.history.filter(action="noted")] == ["Asked legal.", "Legal agrees."]
