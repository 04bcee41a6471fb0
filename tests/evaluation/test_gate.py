"""The gate in front of retrieval settings: nothing changes without a finished run on exactly
the proposed settings."""

import pytest

from citadel.accounts.models import Organization
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.evaluation.models import EvalRun, RunStatus
from citadel.evaluation.retrieval_settings import normalise_retrieval_settings, organization_retrieval_settings
from citadel.evaluation.services import (
    retrieval_settings_apply,
    retrieval_settings_propose,
    retrieve_accepts_settings,
)


def _proposal(org, **changes) -> dict:
    return {**organization_retrieval_settings(org), **changes}


def _finished_run_on(eval_set, admin, settings, *, applied=True) -> EvalRun:
    """A finished run as the run task leaves it (its execution is tested in test_runs)."""
    return EvalRun.objects.create(
        eval_set=eval_set,
        organization_id=eval_set.organization_id,
        started_by_id=admin.user_id,
        settings=normalise_retrieval_settings(settings),
        settings_applied=applied,
        status=RunStatus.DONE,
        done=3,
        total=3,
        metrics={"recall@k": 0.9},
    )


def test_apply_is_refused_without_any_run(acme):
    org, admin, _ = acme
    proposed = _proposal(org, lexical_weight=2.0)

    with pytest.raises(InvalidInput, match="No finished evaluation run"):
        retrieval_settings_apply(principal=admin, settings=proposed)

    org.refresh_from_db()
    assert org.retrieval_settings == {}
    assert not AuditEvent.objects.filter(verb="retrieval.settings_changed").exists()


def test_apply_is_refused_with_a_run_on_other_settings_or_an_unfinished_one(acme):
    org, admin, eval_set = acme
    _finished_run_on(eval_set, admin, _proposal(org, lexical_weight=3.0))
    pending = _finished_run_on(eval_set, admin, _proposal(org, lexical_weight=2.0))
    EvalRun.objects.filter(pk=pending.pk).update(status=RunStatus.RUNNING)

    with pytest.raises(InvalidInput):
        retrieval_settings_apply(principal=admin, settings=_proposal(org, lexical_weight=2.0))


def test_apply_is_refused_when_retrieval_could_not_take_the_settings(acme):
    org, admin, eval_set = acme
    _finished_run_on(eval_set, admin, _proposal(org, lexical_weight=2.0), applied=False)

    with pytest.raises(InvalidInput):
        retrieval_settings_apply(principal=admin, settings=_proposal(org, lexical_weight=2.0))


def test_a_run_of_another_organization_does_not_open_the_gate(acme, world):
    org, admin, _ = acme
    from citadel.evaluation.services import eval_set_create

    other_admin = world.principal("oz", "globex", role="admin")
    other_set = eval_set_create(principal=other_admin, name="Theirs")
    _finished_run_on(other_set, other_admin, _proposal(org, lexical_weight=2.0))

    with pytest.raises(InvalidInput):
        retrieval_settings_apply(principal=admin, settings=_proposal(org, lexical_weight=2.0))


def test_apply_after_a_finished_run_changes_settings_and_records_the_change(acme):
    org, admin, eval_set = acme
    Organization.objects.filter(pk=org.pk).update(retrieval_settings={"exact_threshold": 500})
    proposed = _proposal(org, lexical_weight=2.0, k=8)
    run = _finished_run_on(eval_set, admin, proposed)

    retrieval_settings_apply(principal=admin, settings=proposed)

    org.refresh_from_db()
    assert org.retrieval_settings["lexical_weight"] == 2.0
    assert org.retrieval_settings["k"] == 8
    assert org.retrieval_settings["exact_threshold"] == 500  # knobs outside the gate are kept
    event = AuditEvent.objects.get(verb="retrieval.settings_changed")
    assert event.organization_id == org.pk
    assert event.actor_id == admin.user_id
    assert event.metadata["before"]["lexical_weight"] == 1.0
    assert event.metadata["after"]["lexical_weight"] == 2.0
    assert event.metadata["eval_run_id"] == run.pk


def test_only_admins_apply(acme, world):
    org, _, _ = acme
    member = world.principal("mo", org, role="reviewer")

    with pytest.raises(PermissionDenied):
        retrieval_settings_apply(principal=member, settings=_proposal(org, lexical_weight=2.0))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k": 0}, "between 1 and 50"),
        ({"k": 2.5}, "whole number"),
        ({"dense_weight": "heavy"}, "must be a number"),
        ({"dense_weight": 0, "lexical_weight": 0}, "At least one"),
        ({"chunk_tokens": 64, "chunk_overlap_tokens": 40}, "at most half"),
        ({"embedding_model": " "}, "embedding model"),
        ({"chunk_tokens": 300}, "Chunk size \\(tokens\\) cannot be measured"),
        ({"embedding_model": "openai:text-embedding-3-small"}, "Embedding model cannot be measured"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(acme, changes, message):
    org, admin, _ = acme

    with pytest.raises(InvalidInput, match=message):
        retrieval_settings_apply(principal=admin, settings=_proposal(org, **changes))


def test_propose_then_apply_goes_through_the_gate(acme, django_capture_on_commit_callbacks):
    org, admin, eval_set = acme
    proposed = _proposal(org, dense_weight=0.5)

    with django_capture_on_commit_callbacks(execute=True):
        run, baseline = retrieval_settings_propose(principal=admin, eval_set_id=eval_set.pk, proposed=proposed)

    run.refresh_from_db()
    baseline.refresh_from_db()
    assert run.status == baseline.status == RunStatus.DONE
    assert run.settings == normalise_retrieval_settings(proposed)
    assert baseline.settings == organization_retrieval_settings(org)
    assert retrieve_accepts_settings()
    assert run.settings_applied and baseline.settings_applied

    retrieval_settings_apply(principal=admin, settings=proposed)

    org.refresh_from_db()
    assert organization_retrieval_settings(org) == run.settings


def test_proposing_the_current_settings_is_refused(acme):
    org, admin, eval_set = acme

    with pytest.raises(InvalidInput, match="current ones"):
        retrieval_settings_propose(principal=admin, eval_set_id=eval_set.pk, proposed=_proposal(org))
