"""The review queue in Django admin: scoped to the organization, decisions through the services."""

from datetime import timedelta

from django.utils import timezone

from citadel.review.models import ReviewItem

LIST = "/admin/review/reviewitem/"


def test_reviewers_see_their_organizations_queue(acme, login):
    item = acme.pending_item(question="Where is the refund form?")

    response = login(acme.rita).get(LIST)

    assert response.status_code == 200 and b"Where is the refund form?" in response.content
    assert list(response.context["cl"].result_list) == [item]


def test_another_organizations_reviewer_sees_an_empty_list_and_no_item(acme, login):
    item = acme.pending_item(question="Where is the refund form?")
    client = login(acme.globex_reviewer)

    listing = client.get(LIST)
    change = client.get(f"{LIST}{item.pk}/change/", follow=True)
    decide = client.post(f"{LIST}{item.pk}/decide/approve/")

    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []
    assert b"Where is the refund form?" not in change.content
    assert decide.status_code == 404
    item.refresh_from_db()
    assert item.state == "pending"


def test_members_cannot_open_the_queue(acme, login):
    acme.pending_item()

    assert login(acme.mo).get(LIST).status_code == 302


def test_the_change_page_shows_everything_needed_to_decide(acme, login):
    item = acme.pending_item(flags=["unsupported_sentences"])

    html = login(acme.rita).get(f"{LIST}{item.pk}/change/").content.decode()

    for expected in (
        "How long do refunds take?",  # question
        "Refunds take 14 days.",  # retrieved source
        "Refunds take 14 days [1].",  # model output
        "0.9000",  # retrieval score
        "some sentences are not supported",  # support signal
        f"{LIST}{item.pk}/decide/approve/",
        f"{LIST}{item.pk}/decide/reject/",
        f"{LIST}{item.pk}/decide/escalate/",
        f"{LIST}{item.pk}/decide/edit/",
        "History",
    ):
        assert expected in html, expected


def test_the_change_page_withholds_an_edit_from_a_reviewer_who_may_not_read_the_sources(acme, login):
    """Given an answer built from a Legal-only memo and edited by a Legal reviewer, when an admin
    outside Legal opens the item in Django admin, then the history says an edit was made and how
    large it was, and shows neither the diff nor the text; the Legal reviewer sees the diff."""
    item = acme.legal_edit()

    outside = login(acme.boss).get(f"{LIST}{item.pk}/change/").content.decode()
    legal = login(acme.lena).get(f"{LIST}{item.pk}/change/").content.decode()

    assert "1 line added, 1 removed; the change is withheld: built from documents you may not read." in outside
    assert "12 million" not in outside and "13 million" not in outside
    assert "+The settlement is 13 million [1]." in legal


def test_buttons_decide_through_the_services(acme, login):
    item = acme.pending_item()
    client = login(acme.rita)

    client.post(f"{LIST}{item.pk}/decide/edit/", {"text": "Refunds take 14 working days [1]."})
    client.post(f"{LIST}{item.pk}/decide/escalate/", {"assignee": str(acme.rob.pk), "note": "Check"})
    response = login(acme.rob).post(f"{LIST}{item.pk}/decide/approve/")

    item.refresh_from_db()
    item.answer.refresh_from_db()
    assert response.status_code == 302
    assert item.state == "approved" and item.decided_by == acme.rob
    assert item.answer.text == "Refunds take 14 working days [1]."
    assert [e.action for e in item.history.all()] == ["opened", "edited", "escalated", "approved"]


def test_the_asker_cannot_decide_from_admin(acme, login):
    item = acme.pending_item(asker=acme.boss)

    response = login(acme.boss).post(f"{LIST}{item.pk}/decide/approve/", follow=True)

    item.refresh_from_db()
    assert item.state == "pending" and b"Nobody reviews their own question" in response.content


def test_rows_cannot_be_edited_or_added_directly(acme, login):
    item = acme.pending_item()
    client = login(acme.boss)

    client.post(f"{LIST}{item.pk}/change/", {"state": "approved"})

    item.refresh_from_db()
    assert item.state == "pending"
    assert client.get(f"{LIST}add/").status_code == 403


def test_bulk_approve_and_reject(acme, login):
    first = acme.pending_item(question="One?")
    second = acme.pending_item(question="Two?")
    third = acme.pending_item(question="Three?")
    client = login(acme.rita)

    client.post(LIST, {"action": "approve_selected", "_selected_action": [first.pk, second.pk]})
    ask = client.post(LIST, {"action": "reject_selected", "_selected_action": [third.pk]})
    client.post(
        LIST, {"action": "reject_selected", "_selected_action": [third.pk], "confirm": "1", "reason": "Duplicate."}
    )

    assert b"Reason" in ask.content
    states = dict(ReviewItem.objects.values_list("pk", "state"))
    assert states == {first.pk: "approved", second.pk: "approved", third.pk: "rejected"}
    assert ReviewItem.objects.get(pk=third.pk).decision_reason == "Duplicate."


def test_filters_by_state_flag_age_and_assignee(acme, login):
    old = acme.pending_item(question="Old?", flags=["low_scores"])
    ReviewItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3), assigned_to=acme.rita)
    fresh = acme.pending_item(question="Fresh?")
    ReviewItem.objects.filter(pk=fresh.pk).update(assigned_to=acme.rob)
    client = login(acme.rita)

    def listed(query: str) -> set[int]:
        return {i.pk for i in client.get(f"{LIST}?{query}").context["cl"].result_list}

    assert listed("flag=low_scores") == {old.pk}
    assert listed("age=old") == {old.pk}
    assert listed("age=1h") == {fresh.pk}
    assert listed("assignee=me") == {old.pk}
    assert listed(f"assignee={acme.rob.pk}") == {fresh.pk}
    assert listed("state__exact=pending") == {old.pk, fresh.pk}
    assert listed("state__exact=approved") == set()
