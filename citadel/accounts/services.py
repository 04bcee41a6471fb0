import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from citadel.accounts.models import ApiToken, Membership, Organization, Team
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput
from citadel.core.principal import Role

TOKEN_PREFIX = "cit_"  # noqa: S105 (a public prefix, not a secret)


@transaction.atomic
def organization_create(*, slug: str, name: str = "", actor=None) -> Organization:
    if Organization.objects.filter(slug=slug).exists():
        raise InvalidInput(f"An organization with slug {slug!r} already exists.")
    org = Organization.objects.create(slug=slug, name=name or slug)
    audit_record(verb="organizations.created", organization=org, actor=actor, target=org, metadata={"slug": slug})
    return org


@transaction.atomic
def team_get_or_create(*, organization: Organization, name: str, actor=None) -> Team:
    team, created = Team.objects.get_or_create(organization=organization, name=name)
    if created:
        audit_record(verb="teams.created", organization=organization, actor=actor, target=team, metadata={"name": name})
    return team


@transaction.atomic
def user_create_or_join(
    *,
    username: str,
    organization: Organization,
    role: str,
    password: str | None = None,
    teams: list[str] | None = None,
    email: str = "",
    actor=None,
):
    """Create the user if missing, then give them a membership in `organization` (or update its
    role and teams). Running it for another organization adds a second membership."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"Role must be one of {', '.join(r.value for r in Role)}.") from None
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if password and (created or not user.check_password(password)):
        user.set_password(password)
        user.save(update_fields=["password"])
    elif created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    membership, joined = Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": role})
    if not joined and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    team_objs = [team_get_or_create(organization=organization, name=t, actor=actor) for t in teams or []]
    if team_objs:
        membership.teams.add(*team_objs)
    audit_record(
        verb="memberships.created" if joined else "memberships.updated",
        organization=organization,
        actor=actor,
        target=membership,
        metadata={"username": username, "role": role.value, "teams": [t.name for t in team_objs]},
    )
    return user, membership


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str = "", actor=None) -> tuple[ApiToken, str]:
    """Returns the stored token and the secret, which is never stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:12], key_hash=hash_token(secret))
    for membership in user.memberships.all():
        audit_record(
            verb="tokens.created",
            organization=membership.organization_id,
            actor=actor or user,
            target=token,
            metadata={"prefix": token.prefix},
        )
    return token, secret
