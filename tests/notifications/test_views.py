"""The bell in every page's top bar, the notifications page, marking read and the e-mail choice."""

import re

import pytest
from django.urls import reverse

from citadel.notifications.models import Notification
from citadel.notifications.selectors import email_wanted


def test_every_page_has_a_bell_that_polls_its_count(people, login):
    response = login(people.ann).get(reverse("documents:list"))

    html = response.content.decode()
    slot = re.search(r'<div class="bell-slot"[^>]*>', html)[0]
    assert f'hx-get="{reverse("notifications:bell")}"' in slot and 'hx-trigger="load, every 10s' in slot
    # Without JavaScript it is a plain link to the page
    assert f'href="{reverse("notifications:index")}"' in html and 'aria-label="Notifications"' in html


def test_the_bell_counts_what_is_unread_in_this_organization(people, login):
    people.tell(people.ann)
    people.tell(people.ann)
    people.tell(people.ann, people.globex)
    people.tell(people.bob)

    response = login(people.ann).get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert (
        'aria-label="Notifications, 2 unread"' in html
        and '<span class="bell-count" aria-hidden="true">2</span>' in html
    )
    # The partial is the link alone: it carries no trigger that would poll twice
    assert "hx-trigger" not in html


def test_the_bell_with_nothing_unread(people, login):
    html = login(people.bob).get(reverse("notifications:bell")).content.decode()

    assert 'aria-label="Notifications, none unread"' in html and "bell-count" not in html


def test_a_signed_out_bell_stops_polling(client):
    response = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")

    assert response.status_code == 286 and response.content == b""


def test_a_signed_out_bell_opened_by_hand_asks_to_log_in(client):
    response = client.get(reverse("notifications:bell"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_lists_ones_own_notifications_unread_styled(people, login):
    read = people.tell(people.ann, title="Report “Refunds”: published", url="/reports/1/")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    people.tell(people.ann, title="Answer to “Refunds?”: rejected", url="/answers/1/")
    people.tell(people.ann, people.globex, title="GLOBEX ONLY")
    people.tell(people.bob, title="BOB ONLY")

    response = login(people.ann).get(reverse("notifications:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 unread." in html and "Mark all read" in html
    assert html.index("Answer to “Refunds?”: rejected") < html.index("Report “Refunds”: published")
    assert html.count('class="notification unread"') == 1 and html.count("Mark as read") == 1
    assert "GLOBEX ONLY" not in html and "BOB ONLY" not in html
    assert "<time datetime=" in html


def test_following_a_notification_marks_it_read_and_opens_its_page(people, login):
    notification = people.tell(people.ann, url="/answers/12/")

    response = login(people.ann).get(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302 and response["Location"] == "/answers/12/"
    notification.refresh_from_db()
    assert notification.read


def test_mark_as_read_without_javascript_goes_back_to_the_page(people, login):
    notification = people.tell(people.ann)

    response = login(people.ann).post(reverse("notifications:read", args=[notification.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("notifications:index")
    assert Notification.objects.get(pk=notification.pk).read


def test_mark_as_read_with_htmx_swaps_the_item_and_recounts_the_bell(people, login):
    notification = people.tell(people.ann, title="Approved thing")

    response = login(people.ann).post(reverse("notifications:read", args=[notification.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response["HX-Trigger"] == "notifications-changed"
    assert (
        html.strip().startswith('<li class="notification"') and "Approved thing" in html and "Mark as read" not in html
    )


def test_mark_all_read(people, login):
    people.tell(people.ann)
    globex = people.tell(people.ann, people.globex)

    response = login(people.ann).post(reverse("notifications:read_all"))

    assert response.status_code == 302
    assert list(Notification.objects.filter(read_at__isnull=True)) == [globex]


def test_the_e_mail_choice_is_a_checkbox_on_the_page(people, login):
    client = login(people.ann)
    assert 'name="email" checked' in client.get(reverse("notifications:index")).content.decode()

    response = client.post(reverse("notifications:preferences"), {})

    assert response.status_code == 302 and email_wanted(user_id=people.ann.pk) is False
    html = client.get(reverse("notifications:index")).content.decode()
    assert 'name="email" checked' not in html and "no longer e-mail you" in html
    client.post(reverse("notifications:preferences"), {"email": "on"})
    assert email_wanted(user_id=people.ann.pk) is True


@pytest.mark.parametrize("whose", ["another person's", "another organization's"])
@pytest.mark.parametrize("action", ["open", "read"])
def test_someone_elses_notification_is_not_found_and_stays_unread(people, login, whose, action):
    other = people.tell(people.bob) if whose == "another person's" else people.tell(people.ann, people.globex)
    client = login(people.ann)
    url = reverse(f"notifications:{action}", args=[other.pk])

    response = client.get(url) if action == "open" else client.post(url)

    assert response.status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_the_page_writes_no_inline_script_or_style(people, login):
    people.tell(people.ann)

    html = login(people.ann).get(reverse("notifications:index")).content.decode()

    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert all("nonce=" in tag for tag in re.findall(r"<script[^>]*>", html))
