"""Reads for answers: history, single answers (404 for missing and forbidden alike), the live
"source changed since" state, citation sources, and spend."""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from citadel.accounts.rules import may_read_answer_text, sees_organization_answers
from citadel.accounts.selectors import principal_for
from citadel.answers.checks import marker_citations
from citadel.answers.models import Answer, Citation, Question, QuestionOrigin, RetrievedPassage, Thread
from citadel.audit.models import PromptLog
from citadel.core.errors import NotFound
from citadel.core.ids import parse_id
from citadel.core.principal import Principal
from citadel.documents.access import ContentView, content_view, readable_chunks, readable_document_ids
from citadel.documents.models import Chunk, Document
from citadel.ingestion.detection import CSV, PPTX, XLSX
from citadel.ingestion.errors import IngestionError
from citadel.ingestion.parsers import split_records
from citadel.ingestion.selectors import version_has_page_images, version_kind, version_page_png
from citadel.providers.generation import EXTRACTIVE
from citadel.providers.text import MARKER

# A question with no answer after this long was abandoned mid-stream (the tab closed, the
# worker died); it is shown as interrupted, never as still running.
ABANDONED_AFTER_SECONDS = 600


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def monthly_spend(*, organization_id: int, moment: datetime | None = None) -> Decimal:
    """USD spent on model calls (every feature) in the month of `moment` (default: now)."""
    start = month_start(moment or timezone.now())
    end = (start + timezone.timedelta(days=32)).replace(day=1)
    total = PromptLog.objects.filter(
        organization_id=organization_id, started_at__gte=start, started_at__lt=end
    ).aggregate(total=Sum("cost_usd"))["total"]
    return total or Decimal(0)


def monthly_totals(*, organization_id: int, months: int = 12) -> list[dict]:
    """Per month, newest first: model calls, tokens and cost, by provider and model."""
    since = month_start(timezone.now() - timezone.timedelta(days=31 * (months - 1)))
    return list(
        PromptLog.objects.filter(organization_id=organization_id, started_at__gte=since)
        .annotate(month=TruncMonth("started_at"))
        .values("month", "provider", "model")
        .annotate(calls=Count("id"), tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost_usd=Sum("cost_usd"))
        .order_by("-month", "provider", "model")
    )


def question_history(*, principal: Principal, limit: int = 20) -> QuerySet[Question]:
    return (
        Question.objects.filter(
            organization_id=principal.organization_id, asker_id=principal.user_id, origin=QuestionOrigin.ASK
        )
        .select_related("answer")
        .order_by("-created_at")[:limit]
    )


def is_abandoned(question: Question) -> bool:
    return (timezone.now() - question.created_at).total_seconds() > ABANDONED_AFTER_SECONDS


def get_question(*, principal: Principal, question_id) -> Question:
    """The asker's own question; NotFound for anyone else's."""
    try:
        return Question.objects.get(
            pk=int(question_id), organization_id=principal.organization_id, asker_id=principal.user_id
        )
    except (Question.DoesNotExist, TypeError, ValueError):
        raise NotFound("Question not found.") from None


def visible_answers(principal: Principal) -> QuerySet[Answer]:
    """The asker sees their answers; reviewers and admins see their organization's (they review them)."""
    if not isinstance(principal, Principal):
        return Answer.objects.none()
    answers = Answer.objects.filter(organization_id=principal.organization_id)
    if not sees_organization_answers(principal):
        answers = answers.filter(question__asker_id=principal.user_id)
    return answers


def get_answer(*, principal: Principal, answer_id) -> Answer:
    try:
        return (
            visible_answers(principal)
            # organization: the review status on every answer card reads its review policy.
            .select_related("question", "question__asker", "receipt", "organization")
            .get(pk=int(answer_id))
        )
    except (Answer.DoesNotExist, TypeError, ValueError):
        raise NotFound("Answer not found.") from None


CITATION_FIELDS = ("n", "chunk_id", "document_id", "external_id", "title", "version", "page", "locator", "quote")


def answer_citations(answer: Answer) -> list[dict]:
    """The answer's citations in the fields scripts are given (ask --json, the API, reports), as
    its receipt recorded them; before the receipt exists, as the rows were written. Each says, as
    of now, whether its document is past its review-by date (`review_due`, an ISO date, else None)."""
    citations = _citations_recorded(answer)
    due = _review_due_dates(c["document_id"] for c in citations)
    return [{**c, "review_due": due.get(c["document_id"])} for c in citations]


def _review_due_dates(document_ids) -> dict[int, str]:
    """The review-by dates that have passed, by document id, of these documents."""
    ids = {i for i in document_ids if i is not None}
    if not ids:
        return {}
    rows = Document.objects.filter(pk__in=ids, review_by__lt=timezone.localdate()).values_list("pk", "review_by")
    return {pk: review_by.isoformat() for pk, review_by in rows}


def _citations_recorded(answer: Answer) -> list[dict]:
    receipt = getattr(answer, "receipt", None)
    if receipt is not None:
        # Receipts written before locators existed have none: "" says so.
        return [
            {**{name: c.get(name) for name in CITATION_FIELDS}, "locator": c.get("locator") or ""}
            for c in receipt.data.get("citations", [])
        ]
    # No receipt yet: the rows as written (a deleted document leaves its fields empty).
    rows = Citation.objects.filter(answer=answer).select_related(
        "passage__document", "passage__version", "passage__chunk"
    )
    return [
        {
            "n": c.n,
            "chunk_id": c.passage.chunk_id,
            "document_id": c.passage.document_id,
            "external_id": c.passage.document.external_id if c.passage.document else "",
            "title": c.passage.document.title if c.passage.document else "",
            "version": c.passage.version.number if c.passage.version else None,
            "page": c.passage.chunk.page if c.passage.chunk else None,
            "locator": c.passage.chunk.locator if c.passage.chunk else "",
            "quote": c.quote,
        }
        for c in rows
    ]


def answer_support(answer: Answer) -> float | None:
    """The evidence score the answer was decided on, as its receipt recorded it (None before the
    receipt is written, or when nothing was scored)."""
    receipt = getattr(answer, "receipt", None)
    support = (receipt.data.get("evidence") or {}).get("support") if receipt is not None else None
    return float(support) if isinstance(support, int | float) else None


def answer_sources(answer: Answer) -> list[int | None]:
    """The documents an answer's text is built from: those it cites when it quotes them (the
    extractive answerer), every passage it was sent when a model wrote it (a model reads them all)."""
    if answer.provider == EXTRACTIVE:
        rows = Citation.objects.filter(answer=answer).order_by("n").values_list("passage__document_id", flat=True)
    else:
        rows = RetrievedPassage.objects.filter(answer=answer).order_by("n").values_list("document_id", flat=True)
    return list(dict.fromkeys(rows))


@dataclass(frozen=True)
class AnswerVisibility:
    """What one viewer may read of an answer: its text and quotes need both the answer's status
    (citadel.accounts.rules) and every document it is built from (citadel.documents.access)."""

    awaiting_review: bool
    content: ContentView

    @property
    def text(self) -> bool:
        return not self.awaiting_review and self.content.complete


def answer_visibility(*, answer: Answer, principal: Principal | None, user_id: int | None = None) -> AnswerVisibility:
    """For a member of the answer's organization (`principal`), or for a superuser working from
    elsewhere (`user_id`: staff read answers in any state, their content only under break-glass)."""
    if principal is not None and principal.organization_id != answer.organization_id:
        user_id, principal = principal.user_id, None
    return AnswerVisibility(
        awaiting_review=principal is not None and not may_read_answer_text(principal, answer),
        content=content_view(
            principal=principal,
            user_id=user_id,
            organization_id=answer.organization_id,
            document_ids=answer_sources(answer),
        ),
    )


@dataclass
class SourceChanges:
    """Why the cited sources differ from what the answer saw, per passage number."""

    reasons: dict[int, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.reasons)

    def summary(self) -> list[str]:
        labels = {
            "new_version": "a cited document has a newer version",
            "archived": "a cited document was archived",
            "access_lost": "the asker can no longer read a cited document",
            "deleted": "a cited document was deleted",
        }
        seen = dict.fromkeys(r for rs in self.reasons.values() for r in rs)
        return [labels[r] for r in seen]


def source_changes(
    *,
    answer: Answer,
    citations: list[Citation] | None = None,
    passages: list[RetrievedPassage] | None = None,
    viewer: Principal | None = None,
) -> SourceChanges:
    """Live comparison of the cited passages with the documents now, for the answer's asker.

    Computed on every display; the receipt is never touched. `citations`, `passages`: the
    answer's citations, and its passages with their documents, when the caller has just read
    them (the answer card), to save reading them twice; `viewer`: the principal looking, used as
    the asker's when it is the asker in the answer's organization."""
    if citations is None:
        citations = Citation.objects.filter(answer=answer).only("passage_id", "n")
    cited = {c.passage_id: c.n for c in citations}
    result = SourceChanges()
    if not cited:
        return result
    if passages is None:
        passages = list(answer.passages.filter(pk__in=cited).select_related("document"))
    passages = [p for p in passages if p.pk in cited]
    documents = {
        p.document.pk: {"pk": p.document.pk, "current_version_id": p.document.current_version_id,
                        "archived_at": p.document.archived_at}
        for p in passages if p.document is not None
    }  # fmt: skip
    try:
        is_asker = (
            viewer is not None
            and viewer.user_id == answer.question.asker_id
            and viewer.organization_id == answer.organization_id
        )
        asker = viewer if is_asker else principal_for(user=answer.question.asker, organization=answer.organization_id)
        readable = readable_document_ids(asker, documents)
    except NotFound:
        readable = set()
    for p in passages:
        reasons = []
        document = documents.get(p.document_id)
        if document is None:
            reasons.append("deleted")
        else:
            if document["archived_at"] is not None:
                reasons.append("archived")
            elif document["current_version_id"] != p.version_id:
                reasons.append("new_version")
            if document["pk"] not in readable and document["archived_at"] is None:
                reasons.append("access_lost")
        if reasons:
            result.reasons[p.n] = reasons
    return result


@dataclass(frozen=True)
class Marker:
    """A citation marker as the reader sees it: its passage, its label and the citation it opens
    (None when no citation of the answer matches it)."""

    n: int
    label: str
    citation_id: int | None


def quote_labels(cited: Sequence[int]) -> list[str]:
    """Labels for citations given their passage numbers, in the order of the answer: "1" for a
    passage quoted once, "1a", "1b" for two quotes of passage 1, so each quote has its own marker
    while the stored text and `n` keep saying [1]."""
    counts = Counter(cited)
    seen: Counter[int] = Counter()
    labels: list[str] = []
    for n in cited:
        labels.append(str(n) if counts[n] == 1 else f"{n}{_letters(seen[n])}")
        seen[n] += 1
    return labels


def _letters(index: int) -> str:
    """a, b, ... z, aa, ab, ...: a model may quote one passage in more than 26 sentences."""
    letter = chr(ord("a") + index % 26)
    return _letters(index // 26 - 1) + letter if index >= 26 else letter


def answer_segments(text: str, citations: Sequence[Citation] = ()) -> list[tuple[str, object]]:
    """The answer text as ("text", str) and ("cite", Marker) pieces, so templates can link each
    marker to its own quote without marking anything safe. `citations`: the answer's, those of one
    passage in the order they were written (the order of the text)."""
    labels = quote_labels([c.n for c in citations])
    quoted = marker_citations(text, [(c.n, c.quote) for c in citations])
    segments: list[tuple[str, object]] = []
    position = 0
    for match in MARKER.finditer(text):
        if match.start() > position:
            segments.append(("text", text[position : match.start()]))
        for number in re.split(r"[\s,;]+", match.group(1)):
            if number:
                n = int(number)
                index = quoted.get((match.start(), n))
                marker = Marker(n, str(n), None) if index is None else Marker(n, labels[index], citations[index].pk)
                segments.append(("cite", marker))
        position = match.end()
    if position < len(text):
        segments.append(("text", text[position:]))
    return segments


CONTEXT_CHARS = 1500


@dataclass
class CitationSource:
    citation: Citation
    label: str  # the quote's marker, as the answer shows it ("1", "1b")
    available: bool
    title: str = ""
    version: int | None = None
    page: int | None = None
    section: str = ""
    before: str = ""
    chunk_before: str = ""
    quote: str = ""
    chunk_after: str = ""
    after: str = ""
    truncated_before: bool = False
    truncated_after: bool = False
    is_current: bool = True
    locator: str = ""
    # How the original is shown beside the text: "page" (a drawn page image), "slide" (the
    # slide's text), "rows" (the spreadsheet rows under their header), or "" (the text alone).
    original: str = ""
    slide_text: str = ""
    rows: "RowsView | None" = None
    ocr_confidence: float | None = None
    misread_risk: bool = False


@dataclass
class RowsView:
    header: list[str]
    rows: list[tuple[list[str], bool]]  # cells under the header, and whether the quote is in the row


def citation_source(
    *, principal: Principal, answer: Answer, n: int, citation_id: str | int | None = None
) -> CitationSource:
    """The cited passage inside its document version's text, with the quote picked out.

    `citation_id` picks one of the passage's quotes when the answer quotes it more than once;
    without it, the first. Only shown while the viewer may read the chunk now (a current version
    of a document they are granted); otherwise `available` is False and the page says why, showing
    the quote kept in the receipt instead."""
    quotes = list(Citation.objects.filter(answer=answer, n=n).order_by("pk").values_list("pk", flat=True))
    try:
        position = quotes.index(int(citation_id)) if citation_id is not None else 0
        citation = Citation.objects.select_related("passage", "passage__chunk__version").get(pk=quotes[position])
    except (IndexError, TypeError, ValueError):
        raise NotFound("Citation not found.") from None
    label = quote_labels([n] * len(quotes))[position]
    chunk = citation.passage.chunk
    if chunk is None or not readable_chunks(principal).filter(pk=chunk.pk).exists():
        return CitationSource(citation=citation, label=label, available=False)
    version = chunk.version
    text = version.text
    start, end = chunk.char_start, chunk.char_end
    if text[start:end] != chunk.text:
        # Offsets that do not line up (older parsers): show the chunk on its own.
        text, start, end = chunk.text, 0, len(chunk.text)
    q_start = start + min(citation.quote_start, end - start)
    q_end = start + min(citation.quote_end, end - start)
    window_start, window_end = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
    document = chunk.document
    original, slide_text, rows = _original(chunk, q_start - start, q_end - start)
    return CitationSource(
        citation=citation,
        label=label,
        available=True,
        title=document.title,
        version=version.number,
        page=chunk.page,
        section=" › ".join(chunk.heading_path or []),
        before=text[window_start:start],
        chunk_before=text[start:q_start],
        quote=text[q_start:q_end],
        chunk_after=text[q_end:end],
        after=text[end:window_end],
        truncated_before=window_start > 0,
        truncated_after=window_end < len(text),
        is_current=document.current_version_id == version.pk,
        locator=chunk.locator,
        original=original,
        slide_text=slide_text,
        rows=rows,
        ocr_confidence=chunk.ocr_confidence,
        misread_risk=chunk.misread_risk,
    )


def _original(chunk, quote_start: int, quote_end: int) -> tuple[str, str, "RowsView | None"]:
    version = chunk.version
    kind = version_kind(version)
    if version_has_page_images(version) and chunk.page:
        return "page", "", None
    if kind == PPTX and chunk.page:
        # The whole slide: every chunk of it spans part of one stretch of the version's text.
        bounds = Chunk.objects.filter(version=version, page=chunk.page).aggregate(
            start=Min("char_start"), end=Max("char_end")
        )
        return "slide", version.text[bounds["start"] : bounds["end"]], None
    if kind in (XLSX, CSV):
        header, records = split_records(chunk.text)
        if records:
            rows, position = [], 0
            for line, cells in records:
                line_start = chunk.text.find(line, position)
                position = line_start + len(line)
                rows.append((cells, line_start < quote_end and quote_start < position))
            return "rows", "", RowsView(header, rows)
    return "", "", None


def citation_page_png(*, principal: Principal, answer: Answer, n: int, citation_id: str | int | None = None) -> bytes:
    """The cited page of a PDF or scan, drawn with the quote (as citation_source picks it)
    highlighted. NotFound unless the viewer may read the passage now and it comes from a page."""
    source = citation_source(principal=principal, answer=answer, n=n, citation_id=citation_id)
    if not source.available or source.original != "page":
        raise NotFound("This citation has no page to show.")
    chunk = source.citation.passage.chunk
    try:
        return version_page_png(version=chunk.version, number=chunk.page, quote=source.quote)
    except IngestionError as exc:
        raise NotFound(f"The page could not be drawn: {exc.message}") from exc


def get_thread(*, principal: Principal, thread_id) -> Thread:
    """The asker's own thread; anyone else's (another member's, another organization's) is a
    NotFound, exactly like a missing one."""
    thread = Thread.objects.filter(
        pk=parse_id(thread_id), organization_id=principal.organization_id, asker_id=principal.user_id
    ).first()
    if thread is None:
        raise NotFound("Thread not found.")
    return thread


def thread_turns(thread: Thread) -> list[Question]:
    """The thread's questions, oldest first, each with its answer when it has one."""
    return list(thread.turns.select_related("answer").order_by("created_at", "pk"))


def recent_threads(*, principal: Principal, limit: int = 10) -> list[dict]:
    """The asker's latest threads: the first question of each, how many turns, last activity."""
    threads = list(
        Thread.objects.filter(organization_id=principal.organization_id, asker_id=principal.user_id)
        # An evaluation run's threads are measurements, not conversations of the admin who ran it.
        .exclude(turns__origin=QuestionOrigin.EVALUATION)
        .annotate(turn_count=Count("turns"), first_turn_id=Min("turns"))
        .filter(turn_count__gt=0)
        .order_by("-updated_at", "-pk")[:limit]
    )
    first = Question.objects.in_bulk([t.first_turn_id for t in threads])
    return [
        {
            "thread": t,
            "first_question": first[t.first_turn_id].text,
            "turns": t.turn_count,
            "last_activity": t.updated_at,
        }
        for t in threads
    ]
