"""Staff changes in Django admin are on the record: every save that changes access or policy writes
an audit event with the values before and after, in the same transaction as the change."""

import pytest

from citadel.accounts.models import Membership, Organization, Team
from citadel.audit.models import AuditEvent
from citadel.audit.selectors import audit_chain_verify
from tests.factories import make_document


def _form_data(response) -> dict:
    """What the admin change form would post back unchanged: its fields and its inlines."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is not None:
                    data[sub.add_prefix(name)] = value
    return data


def _save(client, path: str, **changes):
    response = client.get(path)
    assert response.status_code == 200, path
    response = client.post(path, {**_form_data(response), **changes})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return response


@pytest.fixture
def acme(world):
    org = world.org("acme")
    world.user("ada", org, role="admin")
    return org


@pytest.fixture
def ada(acme, client, world):
    client.force_login(world.user("ada", acme, role="admin"))
    return client


def _event(verb: str) -> AuditEvent:
    return AuditEvent.objects.filter(verb=verb).latest("id")


def test_the_organizations_policy_budget_provider_and_logging_changes_are_recorded(acme, ada):
    _save(
        ada,
        f"/admin/accounts/organization/{acme.pk}/change/",
        review_policy="none",
        watch_words='["merger"]',
        monthly_budget_usd="12.5000",
        generation_provider="openai",
        prompt_log_mode="full",
        prompt_log_retention_days="7",
        version_retention_days="90",
    )

    event = _event("accounts.organization_changed")
    assert event.organization_id == acme.pk and event.actor_label == "ada"
    assert event.metadata["before"] == {
        "review_policy": "flagged",
        "watch_words": [],
        "monthly_budget_usd": None,
        "generation_provider": "extractive",
        "prompt_log_mode": "redacted",
        "prompt_log_retention_days": 30,
        "version_retention_days": 30,
    }
    assert event.metadata["after"] == {
        "review_policy": "none",
        "watch_words": ["merger"],
        "monthly_budget_usd": "12.5000",
        "generation_provider": "openai",
        "prompt_log_mode": "full",
        "prompt_log_retention_days": 7,
        "version_retention_days": 90,
    }
    assert audit_chain_verify(organization_id=acme.pk).ok


def test_a_save_that_changes_nothing_records_nothing(acme, ada):
    before = AuditEvent.objects.count()

    _save(ada, f"/admin/accounts/organization/{acme.pk}/change/")

    assert AuditEvent.objects.count() == before


def test_a_role_and_team_change_of_a_membership_is_recorded(world, acme, ada):
    world.user("mo", acme, role="member")
    legal = Team.objects.create(organization=acme, name="Legal")
    membership = Membership.objects.get(user__username="mo", organization=acme)

    _save(ada, f"/admin/accounts/membership/{membership.pk}/change/", role="reviewer", teams=[str(legal.pk)])

    event = _event("accounts.membership_changed")
    assert event.metadata["before"] == {"role": "member", "teams": []}
    assert event.metadata["after"] == {"role": "reviewer", "teams": ["acme/Legal"]}


def test_creating_renaming_and_deleting_a_team_are_recorded(acme, ada):
    ada.post("/admin/accounts/team/add/", {"name": "Legal", "organization": acme.pk})
    team = Team.objects.get(organization=acme, name="Legal")
    assert _event("accounts.team_created").metadata["after"] == {"name": "Legal"}

    _save(ada, f"/admin/accounts/team/{team.pk}/change/", name="Legal & Compliance")
    assert _event("accounts.team_changed").metadata == {
        "via": "admin",
        "object": "acme/Legal & Compliance",
        "before": {"name": "Legal"},
        "after": {"name": "Legal & Compliance"},
    }

    ada.post(f"/admin/accounts/team/{team.pk}/delete/", {"post": "yes"})
    assert not Team.objects.filter(pk=team.pk).exists()
    assert _event("accounts.team_deleted").metadata["before"] == {"name": "Legal & Compliance"}


def test_a_documents_title_and_sensitivity_changes_are_recorded(acme, ada):
    document = make_document(acme, "handbook", ["Refunds take 14 days."])

    _save(ada, f"/admin/documents/document/{document.pk}/change/", title="Staff handbook", sensitive="on")

    event = _event("documents.document_changed")
    assert event.metadata["before"] == {"title": "Handbook", "sensitive": False}
    assert event.metadata["after"] == {"title": "Staff handbook", "sensitive": True}


def test_a_change_that_fails_to_save_leaves_no_event(acme, ada):
    before = AuditEvent.objects.count()

    response = ada.post(
        f"/admin/accounts/organization/{acme.pk}/change/",
        {"name": acme.name, "review_policy": "nonsense", "prompt_log_mode": "full"},
    )

    assert response.status_code == 200  # the form comes back with its errors
    assert AuditEvent.objects.count() == before
    assert Organization.objects.get(pk=acme.pk).review_policy == "flagged"
