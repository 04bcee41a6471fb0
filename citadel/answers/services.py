"""Asking and answering.

    question = question_create(principal=p, text="How long do refunds take?")
    answer = answer_build(principal=p, question=question)             # blocking
    answer = answer_question(principal=p, text="...")                 # both at once
    for delta in answer_build_stream(principal=p, question=q): ...   # streaming; returns the Answer

The pipeline: retrieve() (the only source of passages) -> numbered passages, suspicious ones
flagged -> an evidence gate (the extractive scorer; weak evidence abstains without paying for a
model) -> the organization's generator (falling back to quoting the sources when it is down) ->
citation checks on the finished text -> flags -> one transaction writing the answer, its
passages, citations, prompt logs, the review gate, the receipt and the audit event.
"""

import logging
import re
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.answers.checks import CheckResult, check_answer
from citadel.answers.models import (
    Answer,
    AnswerStatus,
    Citation,
    Question,
    Receipt,
    RetrievedPassage,
)
from citadel.answers.selectors import ABANDONED_AFTER_SECONDS, month_start, monthly_spend
from citadel.audit.prompt_logs import prompt_log_record
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, NotFound
from citadel.core.principal import Principal, Role
from citadel.documents.access import readable_chunk_ids
from citadel.documents.models import Document, DocumentVersion
from citadel.providers import extractive
from citadel.providers.generation import (
    EXTRACTIVE,
    Generation,
    ProviderError,
    ProviderUnavailable,
    SourcePassage,
    cost_usd,
    get_generator,
    price_for,
)
from citadel.providers.prompting import hidden_text_overlaps, looks_like_instructions
from citadel.providers.text import estimate_tokens
from citadel.retrieval.services import retrieve
from citadel.retrieval.types import Hit
from citadel.review.services import review_gate

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MIN_QUESTION_CHARS = 3
RECEIPT_VERSION = 1


def _actor(principal: Principal):
    return SimpleNamespace(pk=principal.user_id, username=principal.username)


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
def question_create(*, principal: Principal, text: str) -> Question:
    if not isinstance(principal, Principal):
        raise NotFound("No such organization.")
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    if len(text) < MIN_QUESTION_CHARS:
        raise InvalidInput("Please type a question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"Questions are limited to {MAX_QUESTION_CHARS} characters; this one has {len(text)}.")
    organization = Organization.objects.get(pk=principal.organization_id)
    budget_check(organization=organization)
    question = Question.objects.create(organization=organization, asker_id=principal.user_id, text=text)
    audit_record(
        verb="answers.asked",
        organization=organization,
        actor=_actor(principal),
        target=question,
        metadata={"chars": len(text), "provider": organization.generation_provider},
    )
    return question


def answer_question(*, principal: Principal, text: str) -> Answer:
    """Ask and answer in one blocking call (the `ask` command, the API, pages without JS)."""
    question = question_create(principal=principal, text=text)
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


# Answering holds a session-level PostgreSQL advisory lock keyed by the question: a second request
# for the same question is refused, and a process or connection that dies mid-answer releases it
# with its session, where a cache entry would linger for its timeout. Two statements an answer, no
# commits. The first key is a fixed number of ours; question ids map one to one onto the second
# below 2**32.
_ANSWERING_LOCK_CLASS = 1_097_757_005
_HELD = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
    " AND classid = CAST(%s AS int4)::oid AND objid = CAST(%s AS int4)::oid)"
)


def _answering_key(question_id: int) -> list[int]:
    return [_ANSWERING_LOCK_CLASS, question_id % 2**32 - 2**31]


def _being_answered(question_id: int) -> bool:
    """Whether any session, this one included, holds the answering lock of the question."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_HELD}", _answering_key(question_id))
        return cursor.fetchone()[0]


def _answering_lock(question_id: int) -> bool:
    # Advisory locks are re-entrant within a session: one held by this session counts as taken.
    key = _answering_key(question_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {_HELD} THEN false ELSE pg_try_advisory_lock(%s, %s) END", key + key)
        return cursor.fetchone()[0]


def _answering_unlock(question_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _answering_key(question_id))


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
    if _being_answered(question.pk):
        return None
    organization = Organization.objects.get(pk=principal.organization_id)
    return _finalize_cancelled(
        _Run(principal=principal, question=question, organization=organization, started=time.monotonic()), ""
    )


def questions_abandoned_close(*, older_than_seconds: int = ABANDONED_AFTER_SECONDS) -> int:
    """Give every question left without an answer (its stream died with the process serving it)
    a failed answer, so nothing shows as "answering" forever. Returns how many were closed."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    closed = 0
    stale = Question.objects.filter(answer__isnull=True, created_at__lt=cutoff).select_related("asker", "organization")
    for question in stale.iterator():
        if _being_answered(question.pk):
            continue
        principal = Principal(
            user_id=question.asker_id,
            organization_id=question.organization_id,
            role=Role.MEMBER,
            username=question.asker.username,
            organization_slug=question.organization.slug,
        )
        run = _Run(principal=principal, question=question, organization=question.organization, started=time.monotonic())
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


# ------------------------------------------------------------------------------------------------
# The pipeline


@dataclass
class _Call:
    """One model call, for the prompt log and the receipt."""

    provider: str
    model: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "ok"
    error_class: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: Decimal = Decimal(0)
    prompt_text: str = ""
    output_text: str = ""
    attempts: int = 1


@dataclass
class _Run:
    principal: Principal
    question: Question
    organization: Organization
    started: float
    hits: list[Hit] = field(default_factory=list)
    passages: list[SourcePassage] = field(default_factory=list)
    documents: dict[int, dict] = field(default_factory=dict)
    calls: list[_Call] = field(default_factory=list)
    requested_provider: str = EXTRACTIVE
    notice: str = ""
    evidence: float = 0.0
    skipped_model: str = ""
    model_read: bool = False

    @property
    def calibration(self) -> extractive.Calibration:
        return extractive.calibration_for(self.organization.embedding_model)


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
    if not _answering_lock(question.pk):
        raise InvalidInput("This question is already being answered.")
    # question_create has just loaded the organization (the blocking ask path): use it, one query
    # fewer per ask. A question read back on its own (the stream view) loads it here as before.
    organization = (
        question.organization
        if Question.organization.is_cached(question)
        else Organization.objects.get(pk=principal.organization_id)
    )
    run = _Run(principal=principal, question=question, organization=organization, started=time.monotonic())
    partial: list[str] = []
    try:
        run.hits = retrieve(principal=principal, query=question.text, k=int(settings.CITADEL.get("ANSWER_K", 8)))
        _prepare_passages(run)
        generation = yield from _generate(run, stream=stream, cancelled=cancelled, partial=partial)
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
        _answering_unlock(question.pk)


def _prepare_passages(run: _Run) -> None:
    hits = run.hits
    if not hits:
        return
    best = max(h.score for h in hits) or 1.0
    versions = dict(DocumentVersion.objects.filter(pk__in={h.version_id for h in hits}).values_list("pk", "metadata"))
    run.documents = {
        d["pk"]: d
        for d in Document.objects.filter(pk__in={h.document_id for h in hits}).values(
            "pk", "sensitive", "updated_at", "archived_at", "current_version_id"
        )
    }
    for n, hit in enumerate(hits, start=1):
        # The title travels into the prompt too (PDF metadata, an uploaded file's name).
        suspicious = looks_like_instructions(f"{hit.title}\n{hit.text}") or hidden_text_overlaps(
            versions.get(hit.version_id), hit.char_start, hit.char_end
        )
        run.passages.append(
            SourcePassage(
                n=n,
                text=hit.text,
                title=hit.title,
                score=hit.score,
                relative_score=max(0.0, hit.score / best),
                suspicious=suspicious,
                section=" › ".join(hit.heading_path or []),
                page=hit.page,
                dense_score=hit.dense_score,
            )
        )


def _call_extractive(run: _Run) -> Generation:
    call = _Call(provider=EXTRACTIVE, model=extractive.ExtractiveGenerator.model, started_at=timezone.now())
    generation = extractive.ExtractiveGenerator(run.calibration).generate(
        question=run.question.text, passages=run.passages
    )
    call.finished_at = timezone.now()
    call.prompt_text = generation.prompt_text
    call.output_text = generation.text
    run.calls.append(call)
    return generation


def _generate(run: _Run, *, stream: bool, cancelled, partial: list[str]) -> Generator[str, None, Generation | None]:
    org = run.organization
    run.requested_provider = (org.generation_provider or EXTRACTIVE).strip().lower()
    if not run.passages:
        run.skipped_model = "no passages"
        return Generation(text="", model="", abstained=True, support=0.0)
    # The evidence gate: what the extractive scorer finds is also what decides whether a model is
    # worth calling. Below the calibrated threshold nothing in the sources answers the question.
    run.evidence = extractive.best_evidence(run.question.text, run.passages, run.calibration)
    if run.requested_provider == EXTRACTIVE:
        generation = _call_extractive(run)
        if generation.text:
            yield generation.text
        return generation
    if run.evidence < run.calibration.abstain_below:
        run.skipped_model = "evidence below threshold"
        return Generation(text="", model="", abstained=True, support=run.evidence)
    try:
        provider = get_generator(org.generation_provider, org.generation_model)
    except ProviderError as exc:
        return _fallback(run, exc, provider_label=run.requested_provider)
    call = _Call(provider=provider.name, model=provider.model, started_at=timezone.now())
    run.calls.append(call)
    try:
        if stream and provider.streams:
            generation = None
            events = provider.stream(question=run.question.text, passages=run.passages)
            try:
                for event in events:
                    if isinstance(event, Generation):
                        generation = event
                        break
                    partial.append(event)
                    yield event
                    if cancelled is not None and cancelled():
                        call.status = "cancelled"
                        return None
            finally:
                events.close()
            if generation is None:
                raise ProviderError("The stream ended without a final answer.")
        else:
            generation = provider.generate(question=run.question.text, passages=run.passages)
    except GeneratorExit:
        call.status = "cancelled"
        call.finished_at = timezone.now()
        raise
    except ProviderError as exc:
        call.finished_at = timezone.now()
        call.status = "timeout" if "timed out" in str(exc) else "error"
        call.error_class = type(exc).__name__
        call.output_text = "".join(partial)
        return _fallback(run, exc, provider_label=provider.name)
    finally:
        if call.finished_at is None:
            call.finished_at = timezone.now()
    run.model_read = True
    call.tokens_in, call.tokens_out = generation.tokens_in, generation.tokens_out
    call.cost_usd = cost_usd(model=generation.model, tokens_in=generation.tokens_in, tokens_out=generation.tokens_out)
    call.prompt_text, call.output_text, call.attempts = generation.prompt_text, generation.text, generation.attempts
    generation.support = run.evidence
    return generation


def _fallback(run: _Run, exc: Exception, *, provider_label: str) -> Generation:
    generation = _call_extractive(run)
    why = "is not responding" if isinstance(exc, ProviderUnavailable) else "returned an unusable answer"
    if generation.text:
        run.notice = (
            f"The {provider_label} model {why} right now, so this answer quotes the passages that match "
            "your question best, word for word from your documents. Ask again later for a written answer."
        )
    else:
        run.notice = (
            f"The {provider_label} model {why} right now, and no passage answers your question closely "
            "enough to quote. The closest sources are listed below."
        )
    run.skipped_model = f"fallback: {exc}"
    return generation


# ------------------------------------------------------------------------------------------------
# Finishing


def _watch_word_hit(words: list, *texts: str) -> bool:
    for word in words or []:
        word = str(word).strip()
        if word and any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", t, re.IGNORECASE) for t in texts):
            return True
    return False


def _flags(run: _Run, generation: Generation, checked: CheckResult, cited_ns: set[int]) -> list[str]:
    flags = []
    if generation.abstained:
        flags.append("abstained")
    elif (generation.support or 0) < run.calibration.confident_from:
        flags.append("low_scores")
    if checked.unsupported:
        flags.append("unsupported_sentences")
    cited_docs = {run.hits[n - 1].document_id for n in cited_ns}
    if any(run.documents.get(d, {}).get("sensitive") for d in cited_docs):
        flags.append("sensitive_document")
    if _watch_word_hit(run.organization.watch_words, run.question.text, checked.text):
        flags.append("watch_word")
    # A model read every passage, so any suspicious one matters; extractive text only quotes.
    read = {p.n for p in run.passages} if run.model_read else cited_ns
    if any(p.suspicious for p in run.passages if p.n in read):
        flags.append("suspicious_source")
    return flags


def _finalize(run: _Run, generation: Generation) -> Answer:
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
    cited_ns = {c.n for c in checked.citations}
    flags = _flags(run, generation, checked, cited_ns)
    status = AnswerStatus.INSUFFICIENT_EVIDENCE if generation.abstained else AnswerStatus.ANSWERED
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
    )


def _finalize_cancelled(run: _Run, partial_text: str) -> Answer:
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


def _finalize_failed(run: _Run, exc: Exception) -> Answer:
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


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def _write(
    run: _Run,
    *,
    status: str,
    text: str,
    original_text: str,
    flags: list[str],
    checked: CheckResult,
    support: float | None,
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
            feature="answer",
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
    item = None
    if status in (AnswerStatus.ANSWERED, AnswerStatus.INSUFFICIENT_EVIDENCE):
        item = review_gate(answer=answer)
        if item is not None:
            answer.status = AnswerStatus.PENDING_REVIEW
            answer.save(update_fields=["status"])
    Receipt(answer=answer, data=_receipt_data(run, answer, checked, support, item, error)).save()
    audit_record(
        verb="answers.answered",
        organization=run.organization,
        actor=_actor(run.principal),
        target=answer,
        metadata={
            "question_id": run.question.pk,
            "status": answer.status,
            "flags": flags,
            "provider": answer.provider,
            "model": answer.model,
            "citations": len(checked.citations),
            "dropped_citations": checked.dropped,
            "review_item_id": item.pk if item else None,
            "error": error,
        },
    )
    return answer


def _receipt_data(run: _Run, answer: Answer, checked: CheckResult, support, item, error: str) -> dict:
    hits = run.hits
    passages = []
    for p, h in zip(run.passages, hits, strict=True):
        passages.append(
            {
                "n": p.n,
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "external_id": h.external_id,
                "title": h.title,
                "version": h.version,
                "version_id": h.version_id,
                "page": h.page,
                "section": p.section,
                "score": h.score,
                "dense_rank": h.dense_rank,
                "lexical_rank": h.lexical_rank,
                "dense_score": h.dense_score,
                "lexical_score": h.lexical_score,
                "suspicious": p.suspicious,
                "document_updated_at": _iso(
                    h.document_updated_at or run.documents.get(h.document_id, {}).get("updated_at")
                ),
            }
        )
    citations = []
    for c in checked.citations:
        h = hits[c.n - 1]
        citations.append(
            {
                "n": c.n,
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "external_id": h.external_id,
                "title": h.title,
                "version": h.version,
                "version_id": h.version_id,
                "page": h.page,
                "section": run.passages[c.n - 1].section,
                "quote": c.quote,
                "quote_start": c.start,
                "quote_end": c.end,
                "document_updated_at": passages[c.n - 1]["document_updated_at"],
            }
        )
    return {
        "receipt_version": RECEIPT_VERSION,
        "answer_id": answer.pk,
        "question_id": run.question.pk,
        "question": run.question.text,
        "asker": {"id": run.principal.user_id, "username": run.principal.username},
        "organization": {"id": run.organization.pk, "slug": run.organization.slug},
        "asked_at": _iso(run.question.created_at),
        "finalized_at": _iso(answer.finalized_at),
        "status": answer.status,
        "requested_provider": run.requested_provider,
        "provider": answer.provider,
        "model": answer.model,
        "notice": answer.notice,
        "skipped_model": run.skipped_model,
        "error": error,
        "text": answer.text,
        "original_text": answer.original_text,
        "flags": answer.flags,
        "unsupported_sentences": checked.unsupported,
        "dropped_citations": checked.dropped,
        "evidence": {
            "support": support,
            "abstain_below": run.calibration.abstain_below,
            "confident_from": run.calibration.confident_from,
            "dense_weight": run.calibration.dense_weight,
            "embedding_model": run.organization.embedding_model,
        },
        "retrieval": {"query": run.question.text, "k": int(settings.CITADEL.get("ANSWER_K", 8)), "passages": passages},
        "citations": citations,
        "review": {
            "required": item is not None,
            "item_id": item.pk if item else None,
            "policy": run.organization.review_policy,
        },
        "model_calls": [
            {
                "provider": c.provider,
                "model": c.model,
                "status": c.status,
                "error_class": c.error_class,
                "attempts": c.attempts,
                "tokens_in": c.tokens_in,
                "tokens_out": c.tokens_out,
                "cost_usd": str(c.cost_usd),
                "price_known": price_for(c.model) is not None,
                "latency_ms": int(((c.finished_at or answer.finalized_at) - c.started_at).total_seconds() * 1000),
            }
            for c in run.calls
        ],
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "cost_usd": str(answer.cost_usd),
        "latency_ms": answer.latency_ms,
        "receipt_url": reverse("answers:receipt", args=[answer.pk]),
    }
