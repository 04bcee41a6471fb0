"""The answer pipeline between retrieval and the final write: retrieved hits become numbered
passages (suspicious ones flagged), an evidence gate decides whether a model is worth calling, the
organization's generator writes (falling back to quoting the sources when it is down), and the
finished answer gets its flags. citadel.answers.services drives it and writes the result."""

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.answers.checks import CheckResult
from citadel.answers.models import Question
from citadel.core.principal import Principal
from citadel.documents.models import Document, DocumentVersion
from citadel.providers.generation import (
    EXTRACTIVE,
    Generation,
    ProviderError,
    ProviderUnavailable,
    SourcePassage,
    cost_usd,
)
from citadel.providers.prompting import hidden_text_overlaps, looks_like_instructions
from citadel.reading import coverage, extractive
from citadel.reading import reader as reading
from citadel.reading.registry import get_generator
from citadel.retrieval.types import Hit


@dataclass
class ModelCall:
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
class Run:
    principal: Principal
    question: Question
    organization: Organization
    started: float
    hits: list[Hit] = field(default_factory=list)
    passages: list[SourcePassage] = field(default_factory=list)
    documents: dict[int, dict] = field(default_factory=dict)
    calls: list[ModelCall] = field(default_factory=list)
    requested_provider: str = EXTRACTIVE
    notice: str = ""
    assessment: extractive.Assessment | None = None
    skipped_model: str = ""
    model_read: bool = False

    @property
    def query(self) -> str:
        """What is searched and answered: the standalone question a follow-up was rewritten to,
        else the question as asked."""
        return self.question.searched_as or self.question.text

    @cached_property
    def answerer(self) -> extractive.ExtractiveGenerator:
        """One per answer, so the question's token vectors are computed once."""
        return extractive.ExtractiveGenerator.for_embedder(self.organization.embedding_model)


def prepare_passages(run: Run) -> None:
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


def call_extractive(run: Run) -> Generation:
    call = ModelCall(provider=EXTRACTIVE, model=extractive.ExtractiveGenerator.model, started_at=timezone.now())
    generator = run.answerer
    scored, assessment = generator.assess(question=run.query, passages=run.passages)
    generation = generator.quote(question=run.query, scored=scored, assessment=assessment)
    # A fallback after the gate keeps the gate's assessment: it is the same computation.
    run.assessment = run.assessment or assessment
    call.finished_at = timezone.now()
    call.prompt_text = generation.prompt_text
    call.output_text = generation.text
    run.calls.append(call)
    return generation


def generate(run: Run, *, stream: bool, cancelled, partial: list[str]) -> Generator[str, None, Generation | None]:
    org = run.organization
    run.requested_provider = (org.generation_provider or EXTRACTIVE).strip().lower()
    if not run.passages:
        run.skipped_model = "no passages"
        return Generation(text="", model="", abstained=True, support=0.0)
    if run.requested_provider == EXTRACTIVE:
        generation = call_extractive(run)
        if generation.text:
            yield generation.text
        return generation
    # The evidence gate: what the extractive scorer finds is also what decides whether a model is
    # worth calling. When it would abstain, nothing in the sources answers the question.
    _, run.assessment = run.answerer.assess(question=run.query, passages=run.passages)
    if run.assessment.abstain:
        run.skipped_model = "evidence below threshold"
        return Generation(
            text="", model="", abstained=True, support=run.assessment.support, signals=run.assessment.signals
        )
    try:
        provider = get_generator(org.generation_provider, org.generation_model)
    except ProviderError as exc:
        return fallback(run, exc, provider_label=run.requested_provider)
    call = ModelCall(provider=provider.name, model=provider.model, started_at=timezone.now())
    run.calls.append(call)
    try:
        if stream and provider.streams:
            generation = None
            events = provider.stream(question=run.query, passages=run.passages)
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
            generation = provider.generate(question=run.query, passages=run.passages)
    except GeneratorExit:
        call.status = "cancelled"
        call.finished_at = timezone.now()
        raise
    except ProviderError as exc:
        call.finished_at = timezone.now()
        call.status = "timeout" if "timed out" in str(exc) else "error"
        call.error_class = type(exc).__name__
        call.output_text = "".join(partial)
        return fallback(run, exc, provider_label=provider.name)
    finally:
        if call.finished_at is None:
            call.finished_at = timezone.now()
    run.model_read = True
    call.tokens_in, call.tokens_out = generation.tokens_in, generation.tokens_out
    call.cost_usd = cost_usd(model=generation.model, tokens_in=generation.tokens_in, tokens_out=generation.tokens_out)
    call.prompt_text, call.output_text, call.attempts = generation.prompt_text, generation.text, generation.attempts
    generation.support = run.assessment.support
    generation.signals = run.assessment.signals
    generation.confident = run.assessment.confident
    return generation


def fallback(run: Run, exc: Exception, *, provider_label: str) -> Generation:
    generation = call_extractive(run)
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


def watch_word_hit(words: list, *texts: str) -> bool:
    for word in words or []:
        word = str(word).strip()
        if word and any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", t, re.IGNORECASE) for t in texts):
            return True
    return False


def uncovered_for(run: Run, generation: Generation, checked: CheckResult) -> list[str]:
    """The phrases of the question that the answer's sources do not say: what Citadel's coverage
    check finds missing from the quoted sentences and their passages, and what a model said its
    sources do not answer."""
    if generation.abstained:
        return []
    cited = sorted({c.n for c in checked.citations})
    missing = coverage.uncovered(
        run.query,
        [c.quote for c in checked.citations],
        [run.passages[n - 1].text for n in cited],
        run.answerer.aligner,
    )
    return list(dict.fromkeys([p.text for p in missing] + list(generation.uncovered or [])))


def claims_not_answering(run: Run, checked: CheckResult) -> list[str]:
    """A language model's sentences none of whose quotes the reader judges to answer the question:
    the quote exists, but it does not say what the model claims from it."""
    reader = run.answerer.reader
    if reader is None or not run.model_read or not checked.citations:
        return []
    quotes = list(dict.fromkeys(" ".join(c.quote.split()) for c in checked.citations))[: reading.MAX_CANDIDATES]
    probability = {quote: r.probability for quote, r in zip(quotes, reader.read(run.query, quotes), strict=True)}
    best: dict[str, float] = {}
    for c in checked.citations:
        p = probability.get(" ".join(c.quote.split()))
        if p is not None:
            best[c.claim] = max(best.get(c.claim, 0.0), p)
    floor = reading.policy().abstain_below
    return [claim for claim, p in best.items() if p < floor and claim not in checked.unsupported]


def flags_for(
    run: Run, generation: Generation, checked: CheckResult, cited_ns: set[int], uncovered: list[str]
) -> list[str]:
    flags = []
    if generation.abstained:
        flags.append("abstained")
    elif not generation.confident:
        flags.append("low_scores")
    if uncovered:
        flags.append("partial")
    if checked.unsupported:
        flags.append("unsupported_sentences")
    cited_docs = {run.hits[n - 1].document_id for n in cited_ns}
    if any(run.documents.get(d, {}).get("sensitive") for d in cited_docs):
        flags.append("sensitive_document")
    if watch_word_hit(run.organization.watch_words, run.question.text, checked.text):
        flags.append("watch_word")
    # A model read every passage, so any suspicious one matters; extractive text only quotes.
    read = {p.n for p in run.passages} if run.model_read else cited_ns
    if any(p.suspicious for p in run.passages if p.n in read):
        flags.append("suspicious_source")
    return flags
