"""The labels section's own address (/labels/, where people type it) leads to its page."""

from django.urls import reverse


def test_labels_leads_a_reviewer_to_the_labels_page(world, login):
    client = login(world.user("rita", "acme", role="reviewer"))

    response = client.get("/labels/")

    assert response.status_code == 302 and response["Location"] == reverse("classification:review")
    assert client.get(response["Location"]).status_code == 200


def test_labels_leads_a_member_to_the_same_refusal_as_the_labels_page(world, login):
    response = login(world.user("max", "acme")).get("/labels/", follow=True)

    assert response.redirect_chain == [(reverse("classification:review"), 302)]
    assert response.status_code == 403


def test_labels_sends_a_visitor_who_is_not_logged_in_to_log_in(client):
    response = client.get("/labels/", follow=True)

    assert response.status_code == 200 and reverse("login") in response.redirect_chain[-1][0]
