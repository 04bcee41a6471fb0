from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from citadel.accounts.models import Membership, Organization
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.principal import Principal, Role


def principal_for(*, user, organization: Organization | int) -> Principal:
    """The Principal for `user` acting in `organization`; NotFound when they are not a member."""
    org_id = organization if isinstance(organization, int) else organization.pk
    membership = (
        Membership.objects.select_related("organization", "user")
        .prefetch_related("teams")
        .filter(user=user, organization_id=org_id, user__is_active=True)
        .first()
    )
    if membership is None:
        raise NotFound("No such organization.")
    return Principal(
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        role=Role(membership.role),
        team_ids=frozenset(t.pk for t in membership.teams.all()),
        username=membership.user.username,
        organization_slug=membership.organization.slug,
    )


def organization_by_slug(*, slug: str) -> Organization:
    """The organization a command line names; NotFound with its slug otherwise."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(f"No organization {slug!r}.")
    return organization


def memberships_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__slug")


def principal_for_username(*, username: str, org_slug: str | None = None) -> Principal:
    """Resolve the acting principal for a command line: --as USERNAME [--org SLUG].

    --org may be left out only when the user belongs to exactly one organization.
    """
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No active user named {username!r}.")
    memberships = memberships_for_user(user=user)
    if org_slug:
        membership = memberships.filter(organization__slug=org_slug).first()
        if membership is None:
            raise NotFound(f"{username!r} is not a member of {org_slug!r}.")
    else:
        count = memberships.count()
        if count == 0:
            raise NotFound(f"{username!r} belongs to no organization.")
        if count > 1:
            slugs = ", ".join(m.organization.slug for m in memberships)
            raise InvalidInput(f"{username!r} belongs to several organizations ({slugs}); pass --org.")
        membership = memberships.get()
    return principal_for(user=user, organization=membership.organization_id)
