"""A source's freshness rules: the documents it brings get an owner and a review-by date by path."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from citadel.core.errors import InvalidInput
from citadel.documents.models import Document
from citadel.documents.services import documents_freshness_set
from citadel.sources.services import source_create, source_root_grant
from tests.sources.syncing import sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world):
    world.user("lee", "acme", teams=["Legal"])
    world.user("max", "acme")
    return world.principal("ada", "acme", role="admin")


def _source(admin, folder, freshness):
    source_root_grant(organization_id=admin.organization_id, path=str(folder))
    return source_create(
        principal=admin, kind="folder", name="Share", config={"path": str(folder), "freshness": freshness}
    )


def test_the_first_matching_rule_gives_an_owner_and_a_review_date_after_each_change(admin, folder):
    # Given Legal owns legal/** with a review every 90 days, and max the rest with no period
    source = _source(
        admin,
        folder,
        [
            {"match": "legal/**", "owner_team": "Legal", "review_every_days": 90},
            {"match": "**", "owner": "max"},
        ],
    )

    # When it syncs
    sync(admin, source)

    # Then each document has its rule's owner, and Legal's a date set by the source
    documents = {d.external_id: d for d in Document.objects.select_related("owner_user", "owner_team")}
    settlement = documents["Share/legal/settlement.md"]
    assert (settlement.owner_name, settlement.review_by, settlement.review_by_source) == (
        "Legal",
        timezone.localdate() + timedelta(days=90),
        "source",
    )
    assert (documents["Share/handbook.md"].owner_name, documents["Share/handbook.md"].review_by) == ("max", None)

    # And after a person sets another owner and date, an edit at the source changes neither
    documents_freshness_set(
        principal=admin,
        document_ids=[settlement.pk],
        owner=documents["Share/handbook.md"].owner_user,
        review_by=date(2030, 1, 1),
    )
    (folder / "legal" / "settlement.md").write_text("# Settlement\n\nThe settlement is 45,000 dollars.\n")
    sync(admin, source)
    settlement.refresh_from_db()
    assert (settlement.owner_user.username, settlement.review_by, settlement.review_by_source) == (
        "max",
        date(2030, 1, 1),
        "person",
    )


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"match": "a/**", "owner": "max", "owner_team": "Legal"}, "a member or a team"),
        ({"match": "a/**", "owner": "nobody"}, "no member named 'nobody'"),
        ({"match": "a/**", "owner_team": "Nope"}, "no team named 'Nope'"),
        ({"match": "a/**", "review_every_days": 0}, "whole number from 1"),
        ({"match": "a/**"}, "gives no owner and no review period"),
        ({"owner": "max"}, 'needs a "match" pattern'),
    ],
)
def test_a_bad_freshness_rule_is_refused_when_the_source_is_added(admin, folder, rule, says):
    with pytest.raises(InvalidInput, match=says):
        _source(admin, folder, [rule])
