import pytest
from django.core.management import call_command
from django.db import IntegrityError

from citadel.accounts.models import Membership
from citadel.accounts.selectors import principal_for, principal_for_username
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.principal import Role


def test_a_user_in_two_organizations_has_one_membership_in_each(world):
    world.user("sam", "acme", role="reviewer", teams=["Support"])
    world.user("sam", "globex", role="member")

    memberships = Membership.objects.filter(user__username="sam").order_by("organization__slug")

    assert [(m.organization.slug, m.role) for m in memberships] == [("acme", "reviewer"), ("globex", "member")]


def test_principal_carries_role_and_teams_of_that_organization_only(world):
    user = world.user("sam", "acme", role="reviewer", teams=["Support"])
    world.user("sam", "globex", role="member", teams=["Sales"])

    acme = principal_for(user=user, organization=world.org("acme"))
    globex = principal_for(user=user, organization=world.org("globex"))

    assert acme.role == Role.REVIEWER and acme.is_reviewer and not acme.is_admin
    assert globex.role == Role.MEMBER and not globex.is_reviewer
    assert acme.team_ids.isdisjoint(globex.team_ids)


def test_principal_for_a_non_member_is_not_found(world):
    user = world.user("sam", "acme")
    world.org("globex")

    with pytest.raises(NotFound):
        principal_for(user=user, organization=world.org("globex"))


def test_username_resolution_needs_org_only_when_ambiguous(world):
    world.user("sam", "acme")
    assert principal_for_username(username="sam").organization_slug == "acme"

    world.user("sam", "globex")
    with pytest.raises(InvalidInput):
        principal_for_username(username="sam")
    assert principal_for_username(username="sam", org_slug="globex").organization_slug == "globex"


def test_membership_is_unique_per_user_and_organization(world):
    user = world.user("sam", "acme")
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=user, organization=world.org("acme"), role="member")


def test_roles_are_checked_by_the_database(world):
    user = world.user("sam", "acme")
    with pytest.raises(IntegrityError):
        Membership.objects.filter(user=user).update(role="owner")


def test_user_create_command_adds_membership_and_teams(db, capsys):
    call_command("org_create", "acme", "--name", "Acme", "--json")
    call_command("org_create", "globex", "--json")
    call_command("user_create", "ann", "--org", "acme", "--role", "admin", "--team", "Legal", "--json")
    call_command("user_create", "ann", "--org", "globex", "--role", "member", "--json")

    out = capsys.readouterr().out.strip().splitlines()
    assert '"teams": ["Legal"]' in out[2]
    assert Membership.objects.filter(user__username="ann").count() == 2


def test_token_is_stored_hashed_and_printed_once(world, capsys):
    world.user("ann", "acme")
    call_command("token_create", "ann")
    token = capsys.readouterr().out.strip().splitlines()[-1]

    from citadel.accounts.models import ApiToken
    from citadel.accounts.services import hash_token

    stored = ApiToken.objects.get(user__username="ann")
    assert token.startswith("cit_")
    assert stored.key_hash == hash_token(token)
    assert token not in (stored.key_hash, stored.prefix)


def test_unknown_org_fails_cleanly(db):
    with pytest.raises(SystemExit) as exc:
        call_command("user_create", "ann", "--org", "nope", "--role", "member")
    assert exc.value.code == 1
