"""content_view: the one decision of whose content a viewer may read, on every staff surface."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from citadel.accounts.models import BreakGlassAccess
from citadel.documents.access import content_view
from tests.factories import make_document


def test_a_member_reads_what_the_grants_let_them_and_is_told_the_titles_of_the_rest(world):
    org = world.org("acme")
    lee = world.principal("lee", org, teams=["Legal"])
    mo = world.principal("mo", org)
    legal = world.user("lee", org).memberships.get().teams.get()
    memo = make_document(org, "memo", ["Secret."], grants=[legal], title="Settlement memo")
    handbook = make_document(org, "handbook", ["Open."])

    assert content_view(principal=lee, document_ids=[memo.pk, handbook.pk]).complete
    view = content_view(principal=mo, document_ids=[memo.pk, handbook.pk])
    assert not view.complete and view.allows(handbook.pk) and not view.allows(memo.pk)
    assert view.withheld_titles == ["Settlement memo"]


def test_a_deleted_document_is_withheld_from_everyone(world):
    view = content_view(principal=world.principal("ada", "acme", role="admin"), document_ids=[None])

    assert view.withheld_titles == ["deleted document"]


def test_a_principal_of_another_organization_reads_nothing_of_this_one(world):
    acme, globex = world.org("acme"), world.org("globex")
    handbook = make_document(acme, "handbook", ["Open to acme."])

    view = content_view(
        principal=world.principal("gus", globex, role="admin"), organization_id=acme.pk, document_ids=[handbook.pk]
    )

    assert not view.complete


def test_break_glass_opens_an_organizations_content_to_its_superuser_until_it_expires(world):
    org = world.org("acme")
    memo = make_document(org, "memo", ["Secret."], grants=[])
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    assert not content_view(user_id=boss.pk, organization_id=org.pk, document_ids=[memo.pk]).complete

    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user=boss, organization=org, reason="Legal hold.", started_at=now, expires_at=now + timedelta(minutes=5)
    )
    assert content_view(user_id=boss.pk, organization_id=org.pk, document_ids=[memo.pk]).complete

    access.expires_at = now - timedelta(seconds=1)
    access.save()
    assert not content_view(user_id=boss.pk, organization_id=org.pk, document_ids=[memo.pk]).complete
