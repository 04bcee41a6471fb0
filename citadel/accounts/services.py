import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import ApiToken, BreakGlassAccess, Membership, Organization, Team
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.core.principal import Role
from citadel.core.tasks import enqueue_on_commit

BREAK_GLASS_MINUTES = 60
BREAK_GLASS_MAX_MINUTES = 8 * 60
MIN_REASON_CHARS = 15

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


@transaction.atomic
def break_glass_open(*, user, organization: Organization, reason: str, minutes: int = BREAK_GLASS_MINUTES):
    """A superuser states why they must read `organization`'s restricted content (a customer
    complaint, a legal hold) and may, for `minutes`. The opening is an event in that organization's
    audit chain, and its admins are e-mailed once it commits."""
    if not user.is_superuser:
        raise PermissionDenied("Only superusers may open break-glass access.")
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_CHARS:
        raise InvalidInput(f"State the reason in at least {MIN_REASON_CHARS} characters: it goes on the record.")
    if not 1 <= int(minutes) <= BREAK_GLASS_MAX_MINUTES:
        raise InvalidInput(f"Break-glass access lasts 1 to {BREAK_GLASS_MAX_MINUTES} minutes.")
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user=user, organization=organization, reason=reason, started_at=now, expires_at=now + timedelta(minutes=minutes)
    )
    audit_record(
        verb="access.break_glass_opened",
        organization=organization,
        actor=user,
        target=access,
        metadata={"reason": reason, "expires_at": access.expires_at.isoformat(), "minutes": int(minutes)},
    )
    enqueue_on_commit("citadel.accounts.tasks.break_glass_notify", access.pk)
    return access


def break_glass_notify(*, access_id: int) -> int:
    """E-mail the organization's admins that someone read under break-glass access, and why."""
    access = BreakGlassAccess.objects.select_related("user", "organization").filter(pk=access_id).first()
    if access is None:
        return 0
    recipients = sorted(
        set(
            Membership.objects.filter(
                organization=access.organization, role=Role.ADMIN, user__is_active=True
            ).values_list("user__email", flat=True)
        )
        - {""}
    )
    if not recipients:
        return 0
    body = (
        f"{access.user.get_username()} opened break-glass access to {access.organization.name}'s restricted "
        f"content at {access.started_at:%Y-%m-%d %H:%M} UTC, until {access.expires_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Reason given: {access.reason}\n\nThe opening and every read are on the organization's audit trail."
    )
    subject = f"[Citadel] Break-glass access to {access.organization.name}"
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
