"""Logins, logouts and failed logins leave audit events."""

from citadel.audit.models import AuditEvent
from tests.conftest import PASSWORD


def test_a_login_is_recorded_in_each_organization_of_the_user(client, world):
    acme, globex = world.org("acme"), world.org("globex")
    user = world.user("ann", acme)
    world.user("ann", globex)

    client.post("/login/", {"username": "ann", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")

    logins = AuditEvent.objects.filter(verb="auth.login", actor_id=user.pk)
    assert {e.organization_id for e in logins} == {acme.pk, globex.pk}
    assert all(e.metadata["ip"] == "10.0.0.7" for e in logins)


def test_a_failed_login_goes_to_the_org_less_chain_without_the_password(client, world):
    world.user("ann", "acme")

    client.post("/login/", {"username": "ann", "password": "wrong-password-123"})

    failed = AuditEvent.objects.get(verb="auth.login_failed")
    assert failed.organization_id is None and failed.actor_id is None
    assert failed.actor_label == "anonymous"
    assert failed.metadata["username"] == "ann"
    assert "wrong-password-123" not in str(failed.metadata)


def test_a_logout_is_recorded(client, world):
    acme = world.org("acme")
    user = world.user("ann", acme)
    client.force_login(user)

    client.post("/logout/")

    assert AuditEvent.objects.filter(verb="auth.logout", actor_id=user.pk, organization=acme).exists()
