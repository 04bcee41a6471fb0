"""An organization's admin sees and edits only their organization's rows; superusers see all."""

import pytest
from django.contrib.auth import get_user_model

from citadel.accounts.models import Membership, Team


@pytest.fixture
def two_tenants(world):
    acme_admin = world.user("acme-admin", "acme", role="admin", teams=["Legal"])
    globex_admin = world.user("globex-admin", "globex", role="admin", teams=["Sales"])
    return acme_admin, globex_admin


def test_globex_admin_lists_only_globex_rows(login, two_tenants):
    """The changelists list the own organization's rows and no row of another organization. The
    admin's own username is in every page's header, so presence is checked on the listed rows
    (their change links), and absence on what only an Acme row would put on the page."""
    _, globex_admin = two_tenants
    sales, legal = Team.objects.get(name="Sales"), Team.objects.get(name="Legal")
    own_membership = Membership.objects.get(user__username="globex-admin")
    acme_membership = Membership.objects.get(user__username="acme-admin")
    client = login(globex_admin)

    teams = client.get("/admin/accounts/team/")
    memberships = client.get("/admin/accounts/membership/")

    assert teams.status_code == 200 and memberships.status_code == 200
    assert list(teams.context["cl"].result_list) == [sales]
    assert list(memberships.context["cl"].result_list) == [own_membership]
    assert f"/admin/accounts/team/{sales.pk}/change/".encode() in teams.content
    assert f"/admin/accounts/team/{legal.pk}/change/".encode() not in teams.content
    assert b"Legal" not in teams.content and b"acme" not in teams.content
    assert f"/admin/accounts/membership/{own_membership.pk}/change/".encode() in memberships.content
    assert f"/admin/accounts/membership/{acme_membership.pk}/change/".encode() not in memberships.content
    assert b"acme-admin" not in memberships.content and b"acme" not in memberships.content


def test_globex_admin_gets_404_for_acme_rows(login, two_tenants, world):
    """Opening an Acme row's change page by its URL shows no form: the admin is sent back to the
    index, told the row doesn't exist, and nothing of the Acme row reaches the page."""
    _, globex_admin = two_tenants
    client = login(globex_admin)
    acme_team = Team.objects.get(name="Legal")
    acme_membership = Membership.objects.get(user__username="acme-admin")
    acme_org = world.org("acme")

    for url in (
        f"/admin/accounts/team/{acme_team.pk}/change/",
        f"/admin/accounts/membership/{acme_membership.pk}/change/",
        f"/admin/accounts/organization/{acme_org.pk}/change/",
    ):
        response = client.get(url, follow=True)
        # Django admin answers a row outside get_queryset with a redirect to the index and a
        # "doesn't exist" message; never the row's change form.
        assert response.redirect_chain == [("/admin/", 302)], url
        assert "doesn’t exist".encode() in response.content, url
        assert b"Legal" not in response.content and b"acme" not in response.content, url


def test_globex_admin_cannot_post_changes_to_acme_rows(login, two_tenants):
    _, globex_admin = two_tenants
    acme_team = Team.objects.get(name="Legal")

    login(globex_admin).post(f"/admin/accounts/team/{acme_team.pk}/change/", {"name": "Hijacked"})

    acme_team.refresh_from_db()
    assert acme_team.name == "Legal"


def test_members_cannot_enter_admin(login, world):
    member = world.user("mo", "acme", role="member")
    response = login(member).get("/admin/")
    assert response.status_code == 302


def test_superuser_sees_all(login, two_tenants):
    root = get_user_model().objects.create_superuser("root", password="x")
    content = login(root).get("/admin/accounts/team/").content
    assert b"Sales" in content and b"Legal" in content
