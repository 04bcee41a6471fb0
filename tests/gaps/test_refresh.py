"""Refreshing an organization's gaps: which questions count, kept vectors, matching gaps across
refreshes, handling and reopening, and another organization's questions never joining."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.gaps.models import Gap, GapMember, GapStatus, QuestionVector
from citadel.gaps.services import gap_handle, gaps_refresh, gaps_refresh_all
from citadel.gaps.tasks import gaps_refresh_task
from citadel.ops.schedule import MAINTENANCE
from tests.factories import make_document
from tests.gaps.records import PARKING, SABBATICAL, STRAY, asked, not_helpful

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(world):
    org = world.org("acme")
    asker = world.user("mia", org)
    return org, asker


def _questions(gap: Gap) -> set[str]:
    return set(GapMember.objects.filter(gap=gap).values_list("question__text", flat=True))


def test_abstained_partial_and_not_helpful_questions_become_gaps_and_answered_ones_do_not(acme, world):
    """Given sabbatical questions abstained on, parking questions answered in part or marked not
    helpful, a stray question, an answered question and a report item on sabbaticals,
    when the gaps are refreshed,
    then there are two gaps, sabbaticals and parking, and neither holds the answered question or the report item."""
    org, mia = acme
    for text in SABBATICAL:
        asked(org, mia, text)
    asked(org, mia, PARKING[0], status="partial", uncovered=["visitors"])
    asked(org, mia, PARKING[1], status="answered", uncovered=["free"])
    for text in PARKING[2:]:
        not_helpful(asked(org, mia, text, status="answered"), mia)
    asked(org, mia, STRAY)
    asked(org, mia, "Is sabbatical leave counted as service?", status="answered")
    asked(org, mia, "sabbatical leave approval checklist", origin="report")

    result = gaps_refresh(organization=org)

    assert result["gaps"] == 2 and result["questions"] == len(SABBATICAL) + len(PARKING) + 1
    gaps = Gap.objects.filter(organization=org)
    assert {frozenset(_questions(g)) for g in gaps} == {frozenset(SABBATICAL), frozenset(PARKING)}
    sabbatical = next(g for g in gaps if _questions(g) == set(SABBATICAL))
    assert "sabbatical" in sabbatical.terms
    assert AuditEvent.objects.filter(organization=org, verb="gaps.refreshed").count() == 1


def test_vectors_are_kept_and_an_unchanged_organization_is_skipped(acme):
    """Given a refreshed organization, when it is refreshed again with nothing new, then it is
    skipped; forced, it groups again without embedding any question a second time."""
    org, mia = acme
    for text in SABBATICAL:
        asked(org, mia, text)
    first = gaps_refresh(organization=org)

    again = gaps_refresh(organization=org)
    forced = gaps_refresh(organization=org, force=True)

    assert first["embedded"] == len(SABBATICAL) and QuestionVector.objects.count() == len(SABBATICAL)
    assert again["skipped"] is True
    assert forced["skipped"] is False and forced["embedded"] == 0 and forced["gaps"] == 1


def test_a_gap_keeps_its_identity_when_questions_join_it(acme):
    """Given a sabbatical gap, when two more sabbatical questions arrive and the gaps are
    refreshed, then the same gap holds all seven."""
    org, mia = acme
    for text in SABBATICAL[:3]:
        asked(org, mia, text)
    gaps_refresh(organization=org)
    (gap,) = Gap.objects.filter(organization=org)

    for text in SABBATICAL[3:]:
        asked(org, mia, text, at=timezone.now())
    gaps_refresh(organization=org)

    (again,) = Gap.objects.filter(organization=org)
    assert again.pk == gap.pk and _questions(again) == set(SABBATICAL)


def test_a_handled_gap_stays_closed_until_a_question_asked_after_its_handling_joins_it(acme, world):
    """Given a sabbatical gap an admin handled with a note,
    when the gaps are refreshed with no new question, then it stays handled;
    when a sabbatical question is asked afterwards and the gaps are refreshed, then it reopens,
    keeping its handling, and the audit trail says both who handled it and that it reopened."""
    org, mia = acme
    admin = world.principal("ada", org, role="admin")
    for text in SABBATICAL[:4]:
        asked(org, mia, text)
    gaps_refresh(organization=org)
    (gap,) = Gap.objects.filter(organization=org)

    gap_handle(principal=admin, gap_id=gap.pk, note="Sabbatical policy drafted by HR.")
    gaps_refresh(organization=org, force=True)
    gap.refresh_from_db()
    assert gap.status == GapStatus.HANDLED

    asked(org, mia, SABBATICAL[4], at=timezone.now() + timedelta(seconds=1))
    result = gaps_refresh(organization=org)

    gap.refresh_from_db()
    assert result["reopened"] == 1 and gap.status == GapStatus.OPEN
    assert gap.handled_note == "Sabbatical policy drafted by HR." and gap.handled_by.username == "ada"
    handled = AuditEvent.objects.get(organization=org, verb="gaps.handled")
    assert handled.actor_label == "ada" and handled.target_id == str(gap.pk)
    reopened = AuditEvent.objects.get(organization=org, verb="gaps.reopened")
    assert reopened.metadata["new_questions"] == 1


def test_handling_takes_a_note_or_a_readable_document_from_an_admin_of_the_gaps_organization(acme, world):
    """Given a gap of acme, a team-only document and another organization's admin,
    then handling needs a note or a document, a document the admin may read, an admin, and acme's admin."""
    org, mia = acme
    admin = world.principal("ada", org, role="admin")
    reviewer = world.principal("rex", org, role="reviewer")
    stranger = world.principal("sam", "globex", role="admin")
    for text in SABBATICAL[:3]:
        asked(org, mia, text)
    gaps_refresh(organization=org)
    (gap,) = Gap.objects.filter(organization=org)
    world.user("hana", org, teams=["HR"])
    hr_team = org.teams.get(name="HR")
    secret = make_document(org, "hr-draft", ["Draft sabbatical policy."], grants=[hr_team])
    policy = make_document(org, "sabbatical-policy", ["Sabbatical leave: three months after five years."])

    with pytest.raises(InvalidInput):
        gap_handle(principal=admin, gap_id=gap.pk, note="  ")
    with pytest.raises(NotFound):
        gap_handle(principal=admin, gap_id=gap.pk, document_id=secret.pk)
    with pytest.raises(PermissionDenied):
        gap_handle(principal=reviewer, gap_id=gap.pk, note="done")
    with pytest.raises(NotFound):
        gap_handle(principal=stranger, gap_id=gap.pk, note="done")
    handled = gap_handle(principal=admin, gap_id=gap.pk, document_id=policy.pk)

    assert handled.status == GapStatus.HANDLED and handled.handled_document_id == policy.pk


def test_another_organizations_questions_never_join_a_gap(acme, world):
    """Given sabbatical questions in acme and in globex, when both are refreshed (the schedule's
    task), then each organization's gap holds only its own questions."""
    org, mia = acme
    globex = world.org("globex")
    gus = world.user("gus", globex)
    for text in SABBATICAL:
        asked(org, mia, text)
        asked(globex, gus, text.upper())

    assert gaps_refresh_task.call() == 2

    for organization in (org, globex):
        (gap,) = Gap.objects.filter(organization=organization)
        assert set(GapMember.objects.filter(gap=gap).values_list("question__organization_id", flat=True)) == {
            organization.pk
        }
    assert gaps_refresh_all() == 0
    assert "gaps_refresh" in {entry.name for entry in MAINTENANCE}


def test_the_command_refreshes_now_and_prints_json(acme, capsys):
    """Given sabbatical questions, when `gaps_refresh --org acme --json` runs, then it prints the refresh's figures."""
    org, mia = acme
    for text in SABBATICAL:
        asked(org, mia, text)

    call_command("gaps_refresh", "--org", "acme", "--json")

    printed = capsys.readouterr().out
    assert '"gaps": 1' in printed and '"skipped": false' in printed
