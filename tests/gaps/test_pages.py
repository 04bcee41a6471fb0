"""The gaps pages: who may open them, what each viewer sees, and handling a gap from its page.
A team-only document's title never reaches staff outside the team; another organization's
questions never appear."""

import pytest
from django.urls import reverse

from citadel.gaps.models import GapStatus
from tests.gaps.conftest import GLOBEX_QUESTION, PUBLIC, SECRET_CITED, SECRET_UNCITED
from tests.gaps.records import SABBATICAL

pytestmark = pytest.mark.django_db


def test_an_admin_sees_the_gap_its_examples_and_only_documents_it_may_read(setting, login):
    """Given an admin outside team HR, when they open the gaps page, then the sabbatical gap is
    there with its count and example questions, the readable documents are named (the parking guide,
    never cited), and neither team-only document's title appears anywhere, nor globex's question."""
    page = login(setting.admin).get(reverse("gaps:index")).content.decode()

    assert setting.gap.label in page and SABBATICAL[0] in page
    assert PUBLIC in page
    assert SECRET_CITED not in page and SECRET_UNCITED not in page
    assert GLOBEX_QUESTION not in page


def test_a_team_admin_sees_the_team_documents_as_closest_cited_and_never_cited(setting, login):
    """Given an admin in team HR, when they open the gaps page, then the team's sabbatical draft is
    named (closest to the gap, cited most) and so are the team's salary bands (never cited)."""
    client = login(setting.hr_admin)
    page = client.get(reverse("gaps:index")).content.decode()
    detail = client.get(reverse("gaps:detail", args=[setting.gap.pk])).content.decode()

    assert page.count(SECRET_CITED) >= 2 and SECRET_UNCITED in page
    assert SECRET_CITED in detail


def test_a_reviewer_sees_labels_and_counts_but_no_example_question(setting, login):
    """Given a reviewer outside team HR, when they open the gaps page and the gap's page, then the
    gap's label is shown but no question a member asked, and no team-only title."""
    client = login(setting.reviewer)
    page = client.get(reverse("gaps:index")).content.decode()
    detail = client.get(reverse("gaps:detail", args=[setting.gap.pk])).content.decode()

    assert setting.gap.label in page and setting.gap.label in detail
    assert not any(q in page or q in detail for q in SABBATICAL)
    assert SECRET_CITED not in page + detail and "Mark handled" not in detail


def test_members_may_not_open_the_gaps_and_another_organizations_gap_is_not_found(setting, login):
    """Given a member, then the gaps page is forbidden; given globex's admin, then acme's gap is not found."""
    assert login(setting.member).get(reverse("gaps:index")).status_code == 403
    assert login(setting.globex_admin).get(reverse("gaps:detail", args=[setting.gap.pk])).status_code == 404


def test_an_admin_marks_a_gap_handled_from_its_page_and_a_reviewer_may_not(setting, login, client):
    """Given the sabbatical gap, when a reviewer posts the handling form, then it is refused; when
    an admin does with a note, then the gap is handled and its page says so."""
    url = reverse("gaps:handle", args=[setting.gap.pk])
    assert login(setting.reviewer).post(url, {"note": "done"}).status_code == 403

    response = login(setting.admin).post(url, {"note": "HR wrote the sabbatical policy."}, follow=True)

    setting.gap.refresh_from_db()
    assert setting.gap.status == GapStatus.HANDLED
    assert "HR wrote the sabbatical policy." in response.content.decode()


def test_a_range_without_the_questions_shows_no_gap_and_a_reversed_range_is_refused(setting, login):
    """Given questions asked three days ago, when the page shows a range a year back, then no gap is
    listed; a range that ends before it starts is a 400."""
    client = login(setting.admin)
    old = client.get(reverse("gaps:index"), {"since": "2020-01-01", "until": "2020-01-31"}).content.decode()

    assert setting.gap.label not in old and "No open gaps in this range." in old
    assert client.get(reverse("gaps:index"), {"since": "2020-02-01", "until": "2020-01-01"}).status_code == 400
