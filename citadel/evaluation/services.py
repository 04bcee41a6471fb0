"""Writes of the evaluation app: golden sets, runs, and the gate in front of retrieval settings.

An evaluation run is a background run (citadel.jobs): the task claims it, and the transaction
writing each question's result moves its lease on and its progress (`run_extend`), so only the
worker that owns the run writes. A run whose worker was lost is queued again by the reaper and
starts again from its first question (its partial results are deleted: `eval_run_reset`); a
cancelled one stops before its next question."""

import inspect
import logging

from django.db import transaction

from citadel.accounts.models import Organization
from citadel.accounts.rules import require_role
from citadel.accounts.selectors import principal_for
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError, InvalidInput, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.evaluation import golden, scoring
from citadel.evaluation.follow_ups import golden_searched_as
from citadel.evaluation.models import (
    EvalResult,
    EvalRun,
    EvalSet,
    GoldenQuestion,
    GoldenSource,
    RunKind,
    RunStatus,
)
from citadel.evaluation.retrieval_settings import organization_retrieval_settings, proposed_retrieval_settings
from citadel.jobs.services import RunStopped, run_claim, run_extend, run_fail, run_finish
from citadel.retrieval import services as retrieval

logger = logging.getLogger(__name__)

MAX_RUN_K = 50
EXECUTE_TASK = "citadel.evaluation.tasks.eval_run_task"


def _require_admin(principal: Principal | None) -> Principal:
    return require_role(principal, Role.ADMIN, "Only the organization's admins may change evaluation.")


def _eval_set(principal: Principal, eval_set_id) -> EvalSet:
    try:
        return EvalSet.objects.get(pk=int(eval_set_id), organization_id=principal.organization_id)
    except (EvalSet.DoesNotExist, TypeError, ValueError):
        raise NotFound("Evaluation set not found.") from None


# --- golden sets -------------------------------------------------------------------------------


@transaction.atomic
def eval_set_create(*, principal: Principal, name: str, description: str = "") -> EvalSet:
    principal = _require_admin(principal)
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise InvalidInput("Give the set a name of at most 200 characters.")
    if EvalSet.objects.filter(organization_id=principal.organization_id, name=name).exists():
        raise InvalidInput(f"A set named {name!r} already exists.")
    eval_set = EvalSet.objects.create(
        organization_id=principal.organization_id, name=name, description=(description or "").strip()
    )
    audit_record(
        verb="evaluation.set_created",
        organization=principal.organization_id,
        actor=principal,
        target=eval_set,
        metadata={"name": name},
    )
    return eval_set


@transaction.atomic
def golden_question_add(
    *,
    principal: Principal,
    eval_set_id: int,
    question: str,
    expected_external_ids: list[str],
    expected_passages: list[str] | None = None,
    notes: str = "",
    earlier_turns: list[str] | None = None,
) -> GoldenQuestion:
    principal = _require_admin(principal)
    eval_set = _eval_set(principal, eval_set_id)
    item = golden.golden_item_from_dict(
        {
            "question": question,
            "expected": expected_external_ids,
            "passages": expected_passages or [],
            "notes": notes,
            "earlier_turns": earlier_turns or [],
        }
    )
    created = GoldenQuestion.objects.create(
        eval_set=eval_set,
        question=item.question,
        expected_external_ids=item.expected,
        expected_passages=item.passages,
        earlier_turns=item.earlier_turns,
        notes=item.notes,
        source=GoldenSource.MANUAL,
        created_by_id=principal.user_id,
    )
    audit_record(
        verb="evaluation.question_added",
        organization=principal.organization_id,
        actor=principal,
        target=created,
        metadata={"eval_set_id": eval_set.pk, "expected": item.expected},
    )
    return created


@transaction.atomic
def golden_questions_import(*, principal: Principal, eval_set_id: int, text: str | bytes) -> list[GoldenQuestion]:
    """Adds every question of a JSON-lines file, or none: a bad line raises GoldenFormatError
    (line-numbered) before anything is written."""
    principal = _require_admin(principal)
    eval_set = _eval_set(principal, eval_set_id)
    items = golden.parse_golden_jsonl(text)
    created = GoldenQuestion.objects.bulk_create(
        GoldenQuestion(
            eval_set=eval_set,
            question=item.question,
            expected_external_ids=item.expected,
            expected_passages=item.passages,
            earlier_turns=item.earlier_turns,
            notes=item.notes,
            source=GoldenSource.IMPORT,
            created_by_id=principal.user_id,
        )
        for item in items
    )
    audit_record(
        verb="evaluation.questions_imported",
        organization=principal.organization_id,
        actor=principal,
        target=eval_set,
        metadata={"count": len(created)},
    )
    return created


@transaction.atomic
def golden_question_delete(*, principal: Principal, question_id: int) -> None:
    principal = _require_admin(principal)
    try:
        question = GoldenQuestion.objects.select_related("eval_set").get(
            pk=int(question_id), eval_set__organization_id=principal.organization_id
        )
    except (GoldenQuestion.DoesNotExist, TypeError, ValueError):
        raise NotFound("Question not found.") from None
    audit_record(
        verb="evaluation.question_deleted",
        organization=principal.organization_id,
        actor=principal,
        target=question,
        metadata={"eval_set_id": question.eval_set_id, "question": question.question[:200]},
    )
    question.delete()


# --- runs --------------------------------------------------------------------------------------


def _clean_run_k(k) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise InvalidInput("k must be a whole number.") from None
    if not 1 <= k <= MAX_RUN_K:
        raise InvalidInput(f"k must be between 1 and {MAX_RUN_K}.")
    return k


def retrieve_accepts_settings() -> bool:
    """Whether retrieve() can measure settings other than the organization's current ones."""
    return "settings" in inspect.signature(retrieval.retrieve).parameters


@transaction.atomic
def eval_run_start(
    *,
    principal: Principal,
    eval_set_id: int,
    kind: str = RunKind.RETRIEVAL,
    k: int | None = None,
    settings: dict | None = None,
    enqueue: bool = True,
) -> EvalRun:
    """Queues a run of the set as `principal` (the run later retrieves with this principal).

    `settings` are proposed retrieval settings (see evaluation.retrieval_settings); None measures the
    organization's current ones. With enqueue=False the caller runs it (`eval_run_execute`)."""
    principal = _require_admin(principal)
    eval_set = _eval_set(principal, eval_set_id)
    if kind not in RunKind.values:
        raise InvalidInput("Choose a retrieval or an answer run.")
    organization = Organization.objects.get(pk=principal.organization_id)
    current = organization_retrieval_settings(organization)
    measured = current if settings is None else proposed_retrieval_settings(organization, settings)
    k = _clean_run_k(measured["k"] if k is None else k)
    total = eval_set.questions.count()
    if total == 0:
        raise InvalidInput("The set has no questions yet.")
    run = EvalRun.objects.create(
        eval_set=eval_set,
        organization_id=principal.organization_id,
        started_by_id=principal.user_id,
        kind=kind,
        k=k,
        settings=measured,
        settings_applied=measured == current or (kind == RunKind.RETRIEVAL and retrieve_accepts_settings()),
        total=total,
    )
    audit_record(
        verb="evaluation.run_started",
        organization=principal.organization_id,
        actor=principal,
        target=run,
        metadata={"eval_set_id": eval_set.pk, "kind": kind, "k": k, "settings": measured},
    )
    if enqueue:
        enqueue_on_commit(EXECUTE_TASK, run.pk)
    return run


def eval_run_execute(*, run_id: int) -> EvalRun | None:
    """Runs every question of the run and stores results and metrics, as the worker that claims it
    (citadel.jobs.services.run_claim). A run that ended, or one a live worker runs, is left alone;
    one whose worker was lost starts again from its first question. A worker whose run was
    cancelled or taken over stops before its next question and writes nothing more."""
    run, claimed = run_claim(EvalRun, run_id)
    if not claimed:
        return run
    try:
        questions = list(run.eval_set.questions.order_by("id"))
        with transaction.atomic():
            # What an earlier pass wrote (its worker was lost) is written again, once.
            eval_run_reset(run)
            run_extend(run, done=0, total=len(questions))
        return _execute(run, questions)
    except RunStopped:
        run.refresh_from_db()
        return run
    except CitadelError as exc:
        # Failed with the sentence, audited `evaluation.failed`.
        return run_fail(run, exc.message)
    except Exception as exc:
        logger.exception("Evaluation run %s failed", run_id)
        return run_fail(run, f"{type(exc).__name__}: the run stopped on an unexpected error.")


def eval_run_reset(run: EvalRun) -> None:
    """Undo a pass that stopped (the reaper calls this when it queues a run whose worker was lost
    again, and so does a retry): its results are deleted and it starts from its first question."""
    run.results.all().delete()
    EvalRun.objects.filter(pk=run.pk).update(done=0)
    run.done = 0


def _execute(run: EvalRun, questions: list[GoldenQuestion]) -> EvalRun:
    try:
        principal = principal_for(user=run.started_by_id, organization=run.organization_id)
    except NotFound:
        raise InvalidInput("The admin who started this run is no longer a member of the organization.") from None
    rows, classifications = [], []
    for done, question in enumerate(questions, start=1):
        if run.kind == RunKind.ANSWER:
            result = _answer_one(run, principal, question)
            classifications.append(result.classification)
        else:
            result = _retrieve_one(run, principal, question)
        rows.append({**result.metrics, "abstained": result.abstained, "follow_up": bool(question.earlier_turns)})
        with transaction.atomic():
            result.save()
            # Still this worker's run (not cancelled, not taken over), or the result rolls back.
            run_extend(run, done=done)
    with transaction.atomic():
        metrics = scoring.run_metrics(
            rows, k=run.k, classifications=classifications if run.kind == RunKind.ANSWER else None
        )
        run = run_finish(run, status=RunStatus.DONE, metrics=metrics)
        audit_record(
            verb="evaluation.run_finished",
            organization=run.organization_id,
            actor=None,
            target=run,
            metadata={"metrics": run.metrics},
        )
    return run


def _base_result(run: EvalRun, question: GoldenQuestion) -> EvalResult:
    return EvalResult(
        run=run,
        golden_question=question,
        question=question.question,
        earlier_turns=list(question.earlier_turns),
        expected_external_ids=list(question.expected_external_ids),
    )


def _retrieve_one(run: EvalRun, principal: Principal, question: GoldenQuestion) -> EvalResult:
    kwargs = {"settings": run.settings} if run.settings_applied and retrieve_accepts_settings() else {}
    query = golden_searched_as(principal=principal, question=question.question, earlier_turns=question.earlier_turns)
    found = retrieval.search(principal=principal, query=query, k=max(run.k, scoring.NDCG_AT), filters=None, **kwargs)
    hits = found.hits
    expected = {"expected_ids": question.expected_external_ids, "expected_passages": question.expected_passages}
    judged = scoring.judge(hits, **expected)
    result = _base_result(run, question)
    result.searched_as = query if query != question.question else ""
    result.retrieved_external_ids = _unique(h.external_id for h in hits)
    result.abstained = not hits
    result.metrics = {
        **scoring.question_metrics(judged, k=run.k),
        **scoring.leg_metrics(dense=found.dense, lexical=found.lexical, **expected),
    }
    return result


def _answer_one(run: EvalRun, principal: Principal, question: GoldenQuestion) -> EvalResult:
    from citadel.evaluation.answering import answer_for_evaluation

    outcome = answer_for_evaluation(
        principal=principal, question=question.question, earlier_turns=question.earlier_turns
    )
    expected = {"expected_ids": question.expected_external_ids, "expected_passages": question.expected_passages}
    judged_retrieved = scoring.judge(outcome.retrieved, **expected)
    judged_cited = scoring.judge(outcome.cited, **expected)
    result = _base_result(run, question)
    result.searched_as = outcome.searched_as
    result.answer_id = outcome.answer_id
    result.answer_status = outcome.status
    result.abstained = outcome.abstained
    result.retrieved_external_ids = _unique(p.external_id for p in outcome.retrieved)
    result.cited_external_ids = _unique(p.external_id for p in outcome.cited)
    result.metrics = scoring.question_metrics(judged_retrieved, k=run.k)
    result.classification = scoring.classify_answer(
        judged_retrieved=judged_retrieved, judged_cited=judged_cited, abstained=outcome.abstained
    )
    return result


def _unique(values) -> list:
    out: list = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


# --- the retrieval settings gate ---------------------------------------------------------------


def _latest_run_on(organization_id: int, settings: dict, *, statuses) -> EvalRun | None:
    return (
        EvalRun.objects.filter(
            organization_id=organization_id,
            kind=RunKind.RETRIEVAL,
            settings=settings,
            settings_applied=True,
            status__in=statuses,
        )
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def retrieval_settings_propose(
    *, principal: Principal, eval_set_id: int, proposed: dict
) -> tuple[EvalRun, EvalRun | None]:
    """Starts a run of the set on the proposed settings and, when the set has no finished or
    pending run on the current settings to compare with, one on those too."""
    principal = _require_admin(principal)
    eval_set = _eval_set(principal, eval_set_id)
    organization = Organization.objects.get(pk=principal.organization_id)
    proposed = proposed_retrieval_settings(organization, proposed)
    current = organization_retrieval_settings(organization)
    if proposed == current:
        raise InvalidInput("The proposed settings are the current ones: change at least one value.")
    run = eval_run_start(principal=principal, eval_set_id=eval_set.pk, settings=proposed)
    baseline = None
    if not eval_set.runs.filter(
        kind=RunKind.RETRIEVAL, settings=current, status__in=[RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE]
    ).exists():
        baseline = eval_run_start(principal=principal, eval_set_id=eval_set.pk, settings=current)
    return run, baseline


@transaction.atomic
def retrieval_settings_apply(*, principal: Principal, settings: dict) -> Organization:
    """Makes `settings` the organization's retrieval settings. Refused (InvalidInput) unless a
    finished retrieval run measured exactly these settings."""
    principal = _require_admin(principal)
    organization = Organization.objects.select_for_update().get(pk=principal.organization_id)
    proposed = proposed_retrieval_settings(organization, settings)
    before = organization_retrieval_settings(organization)
    if proposed == before:
        raise InvalidInput("These are already the organization's settings.")
    run = _latest_run_on(organization.pk, proposed, statuses=[RunStatus.DONE])
    if run is None:
        raise InvalidInput(
            "No finished evaluation run measured exactly these settings: run the golden set on them first."
        )
    # Keys the gate does not manage (tuning knobs set by operators) are kept as they are; the
    # embedding model's truth is Organization.embedding_model, so it is not copied in.
    changes = {key: value for key, value in proposed.items() if key != "embedding_model"}
    organization.retrieval_settings = {**(organization.retrieval_settings or {}), **changes}
    organization.save(update_fields=["retrieval_settings"])
    audit_record(
        verb="retrieval.settings_changed",
        organization=organization,
        actor=principal,
        target=organization,
        metadata={"before": before, "after": proposed, "eval_run_id": run.pk, "metrics": run.metrics},
    )
    return organization
