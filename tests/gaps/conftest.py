"""An organization with a sabbatical gap, a team-only document on sabbaticals (cited) and another
team-only document (never cited), an org-wide parking guide, and staff inside and outside the team."""

from dataclasses import dataclass

import pytest

from citadel.gaps.models import Gap
from citadel.gaps.services import gaps_refresh
from tests.factories import make_document
from tests.gaps.records import SABBATICAL, asked, cites

SECRET_CITED = "HR sabbatical leave draft"
SECRET_UNCITED = "HR salary bands"
PUBLIC = "Office car park guide"
GLOBEX_QUESTION = "Does Globex pay sabbatical leave?"


@dataclass
class Setting:
    org: object
    gap: Gap
    admin: object  # outside team HR
    reviewer: object  # outside team HR
    member: object
    hr_admin: object  # in team HR
    globex_admin: object


@pytest.fixture
def setting(world) -> Setting:
    org = world.org("acme")
    mia = world.user("mia", org)
    hr_admin = world.user("hana", org, role="admin", teams=["HR"])
    hr = org.teams.get(name="HR")
    secret = make_document(
        org, "hr-sabbatical", ["Sabbatical leave: how long, who approves, is it paid."], grants=[hr], title=SECRET_CITED
    )
    make_document(org, "hr-salaries", ["Salary bands by grade."], grants=[hr], title=SECRET_UNCITED)
    make_document(org, "car-park", ["The office car park has visitor spaces."], title=PUBLIC)
    for text in SABBATICAL:
        asked(org, mia, text)
    cites(asked(org, hr_admin, "What is in the sabbatical draft?", status="answered"), secret)
    globex = world.org("globex")
    gus = world.user("gus", globex)
    for _ in range(3):
        asked(globex, gus, GLOBEX_QUESTION)
    gaps_refresh(organization=org)
    gaps_refresh(organization=globex)
    return Setting(
        org=org,
        gap=Gap.objects.get(organization=org),
        admin=world.user("ada", org, role="admin"),
        reviewer=world.user("rex", org, role="reviewer"),
        member=mia,
        hr_admin=hr_admin,
        globex_admin=world.user("gil", globex, role="admin"),
    )
