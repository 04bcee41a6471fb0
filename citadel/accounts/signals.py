"""Logins, logouts and failed logins become audit events.

A user's login is recorded in the chain of every organization they belong to, so each
organization's admins see their members' sessions; a user with no membership (a bare superuser)
and every failed attempt, which has no trustworthy organization, go to the org-less chain."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from citadel.accounts.models import Membership
from citadel.audit.services import audit_record_now


def _client(request) -> dict:
    if request is None:
        return {}
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }


def _record_for_user(verb: str, user, request) -> None:
    org_ids = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True)) or [None]
    for org_id in org_ids:
        audit_record_now(verb=verb, organization=org_id, actor=user, target=user, metadata=_client(request))


def on_login(sender, request, user, **kwargs) -> None:
    _record_for_user("auth.login", user, request)


def on_logout(sender, request, user, **kwargs) -> None:
    # Logging out without a session still reaches here, with no user.
    if user is not None:
        _record_for_user("auth.logout", user, request)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked anything that looks like a secret in `credentials`.
    username = str(credentials.get("username", ""))[:150]
    audit_record_now(
        verb="auth.login_failed",
        organization=None,
        actor=None,
        actor_label="anonymous",
        metadata={"username": username, **_client(request)},
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="citadel.accounts.login")
    user_logged_out.connect(on_logout, dispatch_uid="citadel.accounts.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="citadel.accounts.login_failed")
