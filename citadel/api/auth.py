"""Bearer tokens: `Authorization: Bearer <token>` from `token_create` (stored as a SHA-256 only).

The token names a user; the organization is the user's only membership, or the one named by the
`X-Citadel-Org: <slug>` header (required when the user belongs to several). The result is the
same immutable Principal the web uses; it is also put on request.principal and request.user so
logging and anything else that reads the request see who acted."""

import re

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from citadel.accounts.models import ApiToken
from citadel.accounts.selectors import memberships_for_user, principal_for
from citadel.accounts.services import hash_token
from citadel.api.problems import OrganizationRequired, Unauthenticated
from citadel.core.errors import NotFound, PermissionDenied
from citadel.core.principal import Principal

ORG_HEADER = "X-Citadel-Org"
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
# last_used_at is for people auditing tokens, not a clock: one write a minute per token is enough.
LAST_USED_RESOLUTION_SECONDS = 60


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest) -> Principal:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            raise Unauthenticated("Send a token as `Authorization: Bearer <token>`.", code="authentication_required")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The Authorization header must be `Bearer <token>`.", code="invalid_token")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        user = _token_user(token)
        principal = _principal(user, request.headers.get(ORG_HEADER, "").strip())
        request.user = user
        request.principal = principal
        return principal


def _token_user(secret: str):
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(secret)).first()
    if token is None or not token.user.is_active:
        raise Unauthenticated("The token is not valid.", code="invalid_token")
    if token.revoked_at is not None:
        raise Unauthenticated("The token was revoked.", code="token_revoked")
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _principal(user, org_slug: str) -> Principal:
    memberships = memberships_for_user(user=user)
    if org_slug:
        membership = memberships.filter(organization__slug=org_slug).first() if _SLUG.match(org_slug) else None
        if membership is None:
            raise NotFound("You are not a member of that organization.", code="organization_not_found")
    else:
        found = list(memberships[:2])
        if not found:
            raise PermissionDenied("Your user belongs to no organization.", code="no_membership")
        if len(found) > 1:
            raise OrganizationRequired(
                f"You belong to several organizations; name one with the {ORG_HEADER} header (its slug)."
            )
        membership = found[0]
    return principal_for(user=user, organization=membership.organization_id)
