"""Asking and answering.

    question = question_create(principal=p, text="How long do refunds take?")
    answer = answer_build(principal=p, question=question)             # blocking
    answer = answer_question(principal=p, text="...")                 # both at once
    for delta in answer_build_stream(principal=p, question=q): ...   # streaming; returns the Answer

Here: the entry points and the final write. retrieve() (the only source of passages) feeds the
pipeline (citadel.answers.pipeline: numbered passages, suspicious ones flagged, an evidence gate
that abstains without paying for a model, the organization's generator with its fallback); the
finished text gets its citation checks and flags, then one transaction writes the answer, its
passages, citations, prompt logs, the review gate's decision, the receipt (citadel.answers.receipts)
and the audit event.
"""

import logging
import re
import time
from collections.abc import Callable, Generator
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.answers.checks import CheckResult, check_answer
from citadel.answers.followups import FollowUp, follow_up_searched_as
from citadel.answers.gate import review_gate_apply
from citadel.answers.models import (
    Answer,
    AnswerStatus,
    Citation,
    Question,
    QuestionOrigin,
    Receipt,
    RetrievedPassage,
    ReviewOutcome,
    Thread,
)
from citadel.answers.pipeline import Run, claims_not_answering, flags_for, generate, prepare_passages, uncovered_for
from citadel.answers.receipts import receipt_data
from citadel.answers.selectors import ABANDONED_AFTER_SECONDS, month_start, monthly_spend
from citadel.audit.prompt_logs import prompt_log_record
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, NotFound
from citadel.core.ids import parse_id
from citadel.core.locks import session_lock_held, session_unlock, try_session_lock
from citadel.core.principal import Principal, Role
from citadel.documents.access import readable_chunk_ids
from citadel.documents.models import Label
from citadel.providers.generation import (
    EXTRACTIVE,
    Generation,
    cost_usd,
)
from citadel.providers.text import estimate_tokens
from citadel.reading.followups import Turn
from citadel.retrieval.services import MAX_TEAM_NAME, retrieve

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MIN_QUESTION_CHARS = 3


def budget_check(*, organization: Organization) -> None:
    """LimitExceeded once the organization's spend this month reached its cap."""
    cap = organization.monthly_budget_usd
    if cap is None:
        return
    spent = monthly_spend(organization_id=organization.pk)
    if spent >= cap:
        now = timezone.now()
        next_month = (month_start(now) + timezone.timedelta(days=32)).replace(day=1)
        raise LimitExceeded(
            f"Your organization has used its monthly answer budget (${spent:.2f} of ${cap:.2f}). "
            f"Asking resumes on {next_month:%B} 1st, or when an admin raises the budget.",
            retry_after=max(60, int((next_month - now).total_seconds())),
            code="budget_exceeded",
        )


@transaction.atomic
def question_create(
    *,
    principal: Principal,
    text: str,
    origin: str = QuestionOrigin.ASK,
    document_ids: list[int] | None = None,
    labels: list[str] | None = None,
    team: str | None = None,
    thread_id: int | None = None,
    scope_clear: bool = False,
    as_written: bool = False,
) -> Question:
    """`document_ids` narrows the search to those documents (a report's, or the ones a member asks
    within), `labels` to documents with any of those labels, `team` to the documents granted to
    the team of that name; together, to the documents all of them allow. The asker's permissions
    still apply on top: a scope never widens what they may read.

    An asked question belongs to a thread: a new one without `thread_id`, else the asker's own
    thread of that id (NotFound otherwise, as if missing). A follow-up keeps the thread's scope
    unless it names a new one (which replaces it) or `scope_clear` empties it, and is searched as
    the standalone question its thread makes of it unless `as_written`."""
    if not isinstance(principal, Principal):
        raise NotFound("No such organization.")
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    if len(text) < MIN_QUESTION_CHARS:
        raise InvalidInput("Please type a question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"Questions are limited to {MAX_QUESTION_CHARS} characters; this one has {len(text)}.")
    organization = Organization.objects.get(pk=principal.organization_id)
    budget_check(organization=organization)
    scope = {"document_ids": sorted({int(i) for i in document_ids})} if document_ids is not None else {}
    if labels:
        known = set(Label.objects.filter(organization=organization, name__in=labels).values_list("name", flat=True))
        unknown = sorted(set(labels) - known)
        if unknown:
            raise InvalidInput(f"No label named {unknown[0]!r}.")
        scope["labels"] = sorted(known)
    if team is not None:
        if not isinstance(team, str) or not team.strip() or len(team) > MAX_TEAM_NAME or "\x00" in team:
            raise InvalidInput(f"A team's name has 1 to {MAX_TEAM_NAME} characters.")
        # Kept as named, whether or not such a team exists: retrieval finds nothing for an unknown
        # one, so the asker learns no more of other teams than their documents say.
        scope["team"] = team.strip()
    thread, searched_as, drew_on, follow_up = None, "", None, None
    if origin in (QuestionOrigin.ASK, QuestionOrigin.EVALUATION):
        if thread_id is None:
            thread = Thread.objects.create(organization=organization, asker_id=principal.user_id, scope=scope)
        else:
            thread = _own_thread(principal=principal, thread_id=thread_id)
            if scope or scope_clear:
                thread.scope = scope
            scope = thread.scope
            # Saving touches updated_at: the thread's last activity, for the recent threads list.
            thread.save(update_fields=["scope", "updated_at"])
            if not as_written:
                searched_as, drew_on, follow_up = _standalone(
                    thread=thread, organization=organization, principal=principal, text=text, origin=origin
                )
    elif thread_id is not None:
        raise InvalidInput("Only a question someone asks joins a thread.")
    question = Question.objects.create(
        organization=organization,
        asker_id=principal.user_id,
        text=text,
        origin=origin,
        scope=scope,
        thread=thread,
        searched_as=searched_as,
        drew_on=drew_on,
    )
    audit_record(
        verb="answers.asked",
        organization=organization,
        actor=principal,
        target=question,
        metadata={
            "chars": len(text),
            "provider": organization.generation_provider,
            "origin": origin,
            **scope,
            "thread_id": thread.pk if thread else None,
            "rewritten": bool(searched_as),
            **(
                {"rewritten_by": follow_up.rewritten_by, "model_rewrite_refused": follow_up.model_refused}
                if follow_up
                else {}
            ),
        },
    )
    return question


def _own_thread(*, principal: Principal, thread_id) -> Thread:
    """The asker's own thread, locked so two follow-ups at once read the same earlier turns."""
    thread = (
        Thread.objects.select_for_update()
        .filter(pk=parse_id(thread_id), organization_id=principal.organization_id, asker_id=principal.user_id)
        .first()
    )
    if thread is None:
        raise NotFound("Thread not found.")
    return thread


def _feature(origin: str, default: str) -> str:
    """The prompt logs' feature for a question's model calls (`default`: "answer", "rewrite"): an
    evaluation run's are its own, never counted as a member's asking."""
    return QuestionOrigin.EVALUATION.value if origin == QuestionOrigin.EVALUATION else default


def _standalone(
    *, thread: Thread, organization: Organization, principal: Principal, text: str, origin: str
) -> tuple[str, Question | None, FollowUp | None]:
    """What a follow-up is searched as, the earlier turn it drew on and how it was rewritten; ("",
    None, None) for a thread's first question. Only the asker's own earlier questions feed it,
    never a passage or an answer, so nothing they may no longer read travels into a later turn."""
    turns = list(thread.turns.order_by("created_at", "pk").only("pk", "text", "searched_as"))
    if not turns:
        return "", None, None
    follow_up = follow_up_searched_as(
        organization=organization,
        user_id=principal.user_id,
        question=text,
        history=[Turn(question=t.text, searched_as=t.searched_as or t.text) for t in turns],
        feature=_feature(origin, "rewrite"),
    )
    if follow_up.drew_on is None:
        return "", None, follow_up
    return follow_up.text, turns[follow_up.drew_on], follow_up


def answer_question(
    *,
    principal: Principal,
    text: str,
    labels: list[str] | None = None,
    document_ids: list[int] | None = None,
    team: str | None = None,
    thread_id: int | None = None,
    scope_clear: bool = False,
    as_written: bool = False,
    origin: str = QuestionOrigin.ASK,
) -> Answer:
    """Ask and answer in one blocking call (the `ask` command, the API, pages without JS, an
    evaluation run), within the scope and thread question_create describes."""
    question = question_create(
        principal=principal,
        text=text,
        origin=origin,
        labels=labels,
        document_ids=document_ids,
        team=team,
        thread_id=thread_id,
        scope_clear=scope_clear,
        as_written=as_written,
    )
    return answer_build(principal=principal, question=question)


def answer_build(*, principal: Principal, question: Question) -> Answer:
    stream = answer_build_stream(principal=principal, question=question, stream=False)
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value


def cancel_key(question_id: int) -> str:
    return f"citadel:cancel:{question_id}"


# Answering holds a session advisory lock keyed by the question: a second request for the same
# question is refused, and a process or connection that dies mid-answer releases it with its
# session, where a cache entry would linger for its timeout. Two statements an answer, no commits.
ANSWERING_LOCK = "citadel.answering"


def question_cancel(*, principal: Principal, question: Question) -> Answer | None:
    """Ask the stream answering `question` to stop; returns the Answer when it is already final
    or when nothing was answering it (the stream never opened), in which case the cancellation
    is recorded here."""
    if question.organization_id != principal.organization_id or question.asker_id != principal.user_id:
        raise NotFound("Question not found.")
    existing = Answer.objects.filter(question=question).first()
    if existing is not None:
        return existing
    cache.set(cancel_key(question.pk), 1, timeout=900)
    if session_lock_held(ANSWERING_LOCK, question.pk):
        return None
    organization = Organization.objects.get(pk=principal.organization_id)
    return _finalize_cancelled(
        Run(principal=principal, question=question, organization=organization, started=time.monotonic()), ""
    )


def questions_abandoned_close(*, older_than_seconds: int = ABANDONED_AFTER_SECONDS) -> int:
    """Give every question left without an answer (its stream died with the process serving it)
    a failed answer, so nothing shows as "answering" forever. Returns how many were closed."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    closed = 0
    stale = Question.objects.filter(answer__isnull=True, created_at__lt=cutoff).select_related("asker", "organization")
    for question in stale.iterator():
        if session_lock_held(ANSWERING_LOCK, question.pk):
            continue
        principal = Principal(
            user_id=question.asker_id,
            organization_id=question.organization_id,
            role=Role.MEMBER,
            username=question.asker.username,
            organization_slug=question.organization.slug,
        )
        run = Run(principal=principal, question=question, organization=question.organization, started=time.monotonic())
        run.notice = (
            "This answer was interrupted before it finished (the connection or the server stopped). Please ask again."
        )
        _write(
            run,
            status=AnswerStatus.FAILED,
            text="",
            original_text="",
            flags=[],
            checked=CheckResult(text=""),
            support=None,
            error="Abandoned",
        )
        closed += 1
    return closed


def answer_build_stream(
    *,
    principal: Principal,
    question: Question,
    stream: bool = True,
    cancelled: Callable[[], bool] | None = None,
) -> Generator[str, None, Answer]:
    """Yield answer text deltas as the model writes them; return the final Answer.

    The Answer row appears only when everything is checked, so nobody sees an unchecked answer.
    Closing the generator (the asker went away) records the answer as cancelled."""
    if question.organization_id != principal.organization_id or question.asker_id != principal.user_id:
        raise NotFound("Question not found.")
    existing = Answer.objects.filter(question=question).first()
    if existing is not None:
        return existing
    if not try_session_lock(ANSWERING_LOCK, question.pk):
        raise InvalidInput("This question is already being answered.")
    # question_create has just loaded the organization (the blocking ask path): use it, one query
    # fewer per ask. A question read back on its own (the stream view) loads it here as before.
    organization = (
        question.organization
        if Question.organization.is_cached(question)
        else Organization.objects.get(pk=principal.organization_id)
    )
    run = Run(principal=principal, question=question, organization=organization, started=time.monotonic())
    partial: list[str] = []
    try:
        run.hits = retrieve(
            principal=principal,
            query=run.query,
            k=int(settings.CITADEL.get("ANSWER_K", 8)),
            filters=question.scope or None,
        )
        prepare_passages(run)
        generation = yield from generate(run, stream=stream, cancelled=cancelled, partial=partial)
        if generation is None:
            return _finalize_cancelled(run, "".join(partial))
        return _finalize(run, generation)
    except GeneratorExit:
        _finalize_cancelled(run, "".join(partial))
        raise
    except CitadelError:
        raise
    except Exception as exc:
        logger.exception("answer %s failed", question.pk)
        return _finalize_failed(run, exc)
    finally:
        session_unlock(ANSWERING_LOCK, question.pk)


# ------------------------------------------------------------------------------------------------
# Finishing


def _finalize(run: Run, generation: Generation) -> Answer:
    hits = run.hits
    passages_text = {p.n: p.text for p in run.passages}
    readable = readable_chunk_ids(run.principal, [h.chunk_id for h in hits])
    allowed = {n for n, h in enumerate(hits, start=1) if h.chunk_id in readable}
    if generation.abstained:
        checked = CheckResult(text="")
    else:
        checked = check_answer(text=generation.text, passages=passages_text, allowed=allowed)
        if not checked.text.strip():
            generation.abstained = True
        checked.unsupported.extend(claims_not_answering(run, checked))
    cited_ns = {c.n for c in checked.citations}
    uncovered = uncovered_for(run, generation, checked)
    flags = flags_for(run, generation, checked, cited_ns, uncovered)
    if generation.abstained:
        status = AnswerStatus.INSUFFICIENT_EVIDENCE
    else:
        status = AnswerStatus.PARTIAL if uncovered else AnswerStatus.ANSWERED
    if generation.abstained and not run.notice:
        run.notice = "Not enough evidence in the documents you can see to answer this. " + (
            "Nothing matched your question." if not hits else "The closest passages are listed below."
        )
    return _write(
        run,
        status=status,
        text=checked.text if not generation.abstained else "",
        original_text=generation.text,
        flags=flags,
        checked=checked,
        support=generation.support,
        uncovered=uncovered,
    )


def _finalize_cancelled(run: Run, partial_text: str) -> Answer:
    for call in run.calls:
        if call.status == "ok" and call.provider != EXTRACTIVE:
            call.status = "cancelled"
        call.finished_at = call.finished_at or timezone.now()
        if call.status == "cancelled":
            # Providers bill what they generated before the stop; the count is our estimate.
            call.tokens_out = call.tokens_out or estimate_tokens(partial_text)
            call.tokens_in = call.tokens_in or estimate_tokens(call.prompt_text)
            call.cost_usd = cost_usd(model=call.model, tokens_in=call.tokens_in, tokens_out=call.tokens_out)
            call.output_text = partial_text
    run.notice = "You stopped this answer before it finished. Nothing of it was checked, so none of it is shown."
    return _write(
        run,
        status=AnswerStatus.CANCELLED,
        text="",
        original_text=partial_text,
        flags=[],
        checked=CheckResult(text=""),
        support=None,
    )


def _finalize_failed(run: Run, exc: Exception) -> Answer:
    run.notice = run.notice or (
        "Something went wrong while answering and the error was recorded. "
        "Please ask again; if it keeps failing, tell your administrator."
    )
    return _write(
        run,
        status=AnswerStatus.FAILED,
        text="",
        original_text="",
        flags=[],
        checked=CheckResult(text=""),
        support=None,
        error=type(exc).__name__,
    )


@transaction.atomic
def _write(
    run: Run,
    *,
    status: str,
    text: str,
    original_text: str,
    flags: list[str],
    checked: CheckResult,
    support: float | None,
    uncovered: list[str] | None = None,
    error: str = "",
) -> Answer:
    now = timezone.now()
    latency_ms = int((time.monotonic() - run.started) * 1000)
    tokens_in = sum(c.tokens_in for c in run.calls)
    tokens_out = sum(c.tokens_out for c in run.calls)
    total_cost = sum((c.cost_usd for c in run.calls), Decimal(0))
    answering = next((c for c in reversed(run.calls) if c.status == "ok"), run.calls[-1] if run.calls else None)
    try:
        with transaction.atomic():
            answer = Answer.objects.create(
                question=run.question,
                organization=run.organization,
                status=status,
                text=text,
                original_text=original_text,
                notice=run.notice,
                provider=answering.provider if answering else EXTRACTIVE,
                model=answering.model if answering else "",
                flags=flags,
                uncovered=uncovered or [],
                unsupported_sentences=checked.unsupported,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=total_cost,
                latency_ms=latency_ms,
                finalized_at=now,
            )
    except IntegrityError:
        # Another request finished this question first; theirs stands.
        return Answer.objects.get(question=run.question)
    rows = RetrievedPassage.objects.bulk_create(
        RetrievedPassage(
            answer=answer,
            n=p.n,
            chunk_id=h.chunk_id,
            document_id=h.document_id,
            version_id=h.version_id,
            score=h.score,
            dense_rank=h.dense_rank,
            lexical_rank=h.lexical_rank,
            suspicious=p.suspicious,
        )
        for p, h in zip(run.passages, run.hits, strict=True)
    )
    by_n = {row.n: row for row in rows}
    Citation.objects.bulk_create(
        Citation(answer=answer, n=c.n, passage=by_n[c.n], quote=c.quote, quote_start=c.start, quote_end=c.end)
        for c in checked.citations
    )
    cited_chunk_ids = [run.hits[c.n - 1].chunk_id for c in checked.citations]
    for call in run.calls:
        prompt_log_record(
            organization=run.organization,
            user_id=run.question.asker_id,
            feature=_feature(run.question.origin, "answer"),
            provider=call.provider,
            model=call.model,
            started_at=call.started_at,
            finished_at=call.finished_at or now,
            status=call.status,
            prompt_text=call.prompt_text,
            output_text=call.output_text,
            retrieved_chunk_ids=[h.chunk_id for h in run.hits],
            retrieved_document_ids=list(dict.fromkeys(h.document_id for h in run.hits)),
            cited_chunk_ids=cited_chunk_ids if call is answering else [],
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
            cost_usd=call.cost_usd,
            error_class=call.error_class,
            answer=answer,
        )
    review_item_id = None
    # An evaluation run's answers are measured, never shown to anyone as answers: no reviewer's time.
    reviewable = run.question.origin != QuestionOrigin.EVALUATION
    if reviewable and status in (AnswerStatus.ANSWERED, AnswerStatus.PARTIAL, AnswerStatus.INSUFFICIENT_EVIDENCE):
        review_item_id = review_gate_apply(answer=answer)
        if review_item_id is not None:
            answer.status = AnswerStatus.PENDING_REVIEW
            answer.review_state = ReviewOutcome.PENDING
            answer.save(update_fields=["status", "review_state"])
    Receipt(answer=answer, data=receipt_data(run, answer, checked, support, review_item_id, error)).save()
    audit_record(
        verb="answers.answered",
        organization=run.organization,
        actor=run.principal,
        target=answer,
        metadata={
            "question_id": run.question.pk,
            "status": answer.status,
            "flags": flags,
            "provider": answer.provider,
            "model": answer.model,
            "citations": len(checked.citations),
            "dropped_citations": checked.dropped,
            "review_item_id": review_item_id,
            "error": error,
        },
    )
    return answer
