"""Every search a person runs is on the record: who, when, the query as the organization's
prompt-log policy keeps it, the documents returned (ids only), purged with the prompt logs."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from citadel.accounts.rules import audit_access_for
from citadel.accounts.services import api_token_create
from citadel.audit.models import AuditEvent, SearchEvent
from citadel.audit.services import prompt_logs_purge
from citadel.trail.selectors import support_timeline
from tests.factories import make_document

QUERY = "refunds for ann@example.com"


@pytest.fixture
def acme(world):
    org = world.org("acme")
    make_document(org, "handbook", ["Refunds take 14 days from the date of purchase."])
    return org


@pytest.fixture
def bob(world, acme):
    return world.user("bob", acme)


def _set_policy(org, mode: str) -> None:
    org.prompt_log_mode = mode
    org.save(update_fields=["prompt_log_mode"])


def test_a_web_search_records_who_looked_for_what_and_what_came_back(acme, bob, client):
    _set_policy(acme, "full")
    client.force_login(bob)

    assert client.get("/search/", {"q": QUERY}).status_code == 200

    event = SearchEvent.objects.get()
    assert (event.user, event.channel, event.query, event.query_chars) == (bob, "web", QUERY, len(QUERY))
    assert event.document_ids == [acme.documents.get().pk] and event.results == 1


def test_the_api_and_the_retrieve_command_record_their_searches_too(acme, bob, client):
    _, token = api_token_create(user=bob)
    client.get("/api/v1/search/", {"q": "refunds"}, headers={"Authorization": f"Bearer {token}"})
    call_command("retrieve", "refunds", "--as", "bob", "--json", stdout=StringIO())

    assert sorted(SearchEvent.objects.values_list("channel", flat=True)) == ["api", "command"]


@pytest.mark.parametrize(("mode", "kept"), [("none", ""), ("redacted", "refunds for [EMAIL]"), ("full", QUERY)])
def test_the_query_is_kept_as_the_prompt_log_policy_says(acme, bob, client, mode, kept):
    _set_policy(acme, mode)
    client.force_login(bob)

    client.get("/search/", {"q": QUERY})

    assert SearchEvent.objects.get().query == kept


def test_the_retention_purge_blanks_old_queries_and_keeps_the_record(acme, bob, client):
    _set_policy(acme, "full")
    client.force_login(bob)
    client.get("/search/", {"q": QUERY})
    SearchEvent.objects.update(searched_at=timezone.now() - timedelta(days=31))

    purged = prompt_logs_purge()

    event = SearchEvent.objects.get()
    assert purged == {acme.pk: 1}
    assert event.query == "" and event.content_purged_at is not None and event.results == 1
    assert AuditEvent.objects.get(verb="logs.purged").metadata["searches"] == 1


def test_the_support_timeline_shows_a_users_searches(world, acme, bob, client):
    _set_policy(acme, "full")
    client.force_login(bob)
    client.get("/search/", {"q": QUERY})
    admin = world.user("ada", acme, role="admin")
    access = audit_access_for(user=admin, principal=world.principal("ada", acme, role="admin"))

    now = timezone.now()
    timeline = support_timeline(access=access, user=bob, since=now - timedelta(hours=1), until=now + timedelta(hours=1))

    searches = [e for e in timeline.entries if e.kind == "search"]
    assert [e.summary for e in searches] == [f"Searched “{QUERY}” (web)"]
    assert json.dumps(searches[0].details) == '{"results": 1}'
