"""Reading reports: who may see which, what each reader may read of each item, the value of an
item, the receipt, and the JSON scripts get."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from citadel.answers.models import Answer, Citation
from citadel.answers.selectors import answer_citations, answer_visibility
from citadel.core.principal import Principal
from citadel.documents.models import Document
from citadel.documents.runs import (
    DocumentRunReads,
    document_run_data,
    document_run_get,
    document_runs_visible,
    run_definitions_for,
)
from citadel.providers.text import strip_markers
from citadel.reading import values
from citadel.reports.models import ItemStatus, Report, ReportItem, ReportTemplate
from citadel.review.models import DECIDED_STATES, OPEN_STATES, ReviewEvent, ReviewItem

NOT_FOUND_TEXT = "Not found in the documents."
WITHHELD_TEXT = "Withheld: this item cites a document you may not read."


def templates_for(principal: Principal) -> QuerySet[ReportTemplate]:
    return run_definitions_for(model=ReportTemplate, principal=principal)


def visible_reports(principal: Principal) -> QuerySet[Report]:
    """Reviewers and admins see the organization's reports (they review them); a member sees the
    reports they ran and the published ones."""
    return document_runs_visible(model=Report, principal=principal).select_related("published_by")


def get_report(*, principal: Principal, report_id) -> Report:
    return document_run_get(visible_reports(principal), report_id)


def item_value(item: ReportItem, answer: Answer) -> str | None:
    """The item's typed value: read from the cited quote closest to the question that holds one, or
    from the text a reviewer wrote in their place. None when the documents do not say."""
    if answer.abstained:
        return None
    edited = bool(answer.original_text) and answer.text != answer.original_text
    if item.type == values.TEXT or edited:
        texts = [strip_markers(answer.text)]
    else:
        texts = list(Citation.objects.filter(answer=answer).order_by("n", "pk").values_list("quote", flat=True))
    found = values.find_value_in(item.type, texts, choices=item.choices, question=item.question_text)
    return found.value if found is not None else None


@dataclass
class ItemView:
    """One item as one reader may read it."""

    item: ReportItem
    text: str = ""
    value: str = ""
    citations: list[dict] = field(default_factory=list)
    withheld: bool = False
    # The item waits for a reviewer and the reader is not one.
    awaiting_review: bool = False
    answer_id: int | None = None
    # The open review item, shown to reviewers as a way into the queue.
    review_item_id: int | None = None
    decided_by: str = ""
    decided_at: object = None
    decision_note: str = ""
    edited: bool = False

    @property
    def status(self) -> str:
        return self.item.status

    @property
    def found(self) -> bool:
        return self.item.status != ItemStatus.NOT_FOUND and bool(self.text) and self.text != NOT_FOUND_TEXT


def report_items(*, principal: Principal, report: Report) -> list[ItemView]:
    """The report's items for `principal`: an item whose sources the reader may not read shows its
    question and nothing else; one still waiting for review shows its text to reviewers only."""
    items = list(report.items.select_related("question__answer__receipt", "question__answer__organization"))
    answer_ids = [i.question.answer.pk for i in items if i.question and hasattr(i.question, "answer")]
    decisions = _decisions(answer_ids)
    open_items = (
        dict(ReviewItem.objects.filter(answer_id__in=answer_ids, state__in=OPEN_STATES).values_list("answer_id", "pk"))
        if principal.is_reviewer
        else {}
    )
    views = []
    for item in items:
        answer = getattr(item.question, "answer", None) if item.question else None
        view = ItemView(item=item)
        views.append(view)
        if answer is None:
            continue
        view.answer_id = answer.pk
        view.review_item_id = open_items.get(answer.pk)
        decision = decisions.get(answer.pk)
        if decision is not None:
            view.decided_by = decision.decided_by.get_username() if decision.decided_by else ""
            view.decided_at = decision.decided_at
            view.decision_note = decision.decision_reason
            view.edited = bool(decision.edited_text)
        visibility = answer_visibility(answer=answer, principal=principal)
        if not visibility.content.complete:
            view.withheld = True
            view.text = WITHHELD_TEXT
            continue
        if item.status == ItemStatus.REJECTED:
            view.text = f"Rejected by the reviewer: {decision.decision_reason}" if decision else "Rejected."
            continue
        if visibility.awaiting_review:
            view.awaiting_review = True
            continue
        text = answer.text or answer.original_text
        view.text = NOT_FOUND_TEXT if answer.abstained else text
        view.value = item.value
        view.citations = [] if answer.abstained else answer_citations(answer)
    return views


def _decisions(answer_ids: list[int]) -> dict[int, ReviewItem]:
    """Each answer's latest decided review item."""
    decided = (
        ReviewItem.objects.filter(answer_id__in=answer_ids, state__in=DECIDED_STATES)
        .select_related("decided_by")
        .order_by("answer_id", "-decided_at")
    )
    latest: dict[int, ReviewItem] = {}
    for row in decided:
        latest.setdefault(row.answer_id, row)
    return latest


def progress(report: Report) -> dict:
    statuses = list(report.items.values_list("status", flat=True))
    answered = sum(s not in (ItemStatus.QUEUED,) for s in statuses)
    decided = sum(s in (ItemStatus.APPROVED, ItemStatus.REJECTED) for s in statuses)
    return {"total": len(statuses), "answered": answered, "decided": decided}


def report_data(*, principal: Principal, report: Report, site_url: str = "") -> dict:
    """The report as `report_run --json` and the API give it, for this reader."""
    items = report_items(principal=principal, report=report)
    return document_run_data(
        report,
        site_url=site_url,
        documents=list(
            Document.objects.filter(pk__in=report.document_ids, organization_id=report.organization_id)
            .order_by("title")
            .values_list("external_id", flat=True)
        ),
        progress=progress(report),
        items=[
            {
                "n": view.item.n,
                "question": view.item.question_text,
                "type": view.item.type,
                "status": view.status,
                "found": view.found,
                "value": view.value or None,
                "text": view.text,
                "citations": view.citations,
                "withheld": view.withheld,
                "reviewed_by": view.decided_by or None,
                "reviewed_at": view.decided_at,
            }
            for view in items
        ],
    )


def report_receipt_data(report: Report) -> dict:
    """What was searched, what was found and who decided each item, frozen when the report is
    published (citadel.reports.services)."""
    documents = {
        d["pk"]: d
        for d in Document.objects.filter(pk__in=report.document_ids).values(
            "pk", "external_id", "title", "current_version__number"
        )
    }
    items = []
    for item in report.items.select_related("question__answer__receipt").order_by("n"):
        answer = getattr(item.question, "answer", None) if item.question else None
        receipt = getattr(answer, "receipt", None) if answer else None
        data = receipt.data if receipt else {}
        history = (
            ReviewEvent.objects.filter(item__answer=answer).select_related("actor").order_by("created_at", "id")
            if answer
            else []
        )
        items.append(
            {
                "n": item.n,
                "question": item.question_text,
                "type": item.type,
                "status": item.status,
                "value": item.value or None,
                "answer_id": answer.pk if answer else None,
                "searched": (data.get("retrieval") or {}).get("query", ""),
                "passages": [
                    {k: p.get(k) for k in ("n", "document_id", "title", "version", "page", "locator", "score")}
                    for p in (data.get("retrieval") or {}).get("passages", [])
                ],
                "citations": [
                    {k: c.get(k) for k in ("n", "document_id", "title", "version", "page", "locator", "quote")}
                    for c in data.get("citations", [])
                ],
                "review": [
                    {
                        "action": e.action,
                        "by": e.actor.get_username() if e.actor else None,
                        "at": e.created_at.isoformat(),
                        "note": e.note,
                    }
                    for e in history
                ],
            }
        )
    return {
        "report_id": report.pk,
        "title": report.title,
        "template": report.template.slug if report.template else None,
        "runner": report.runner.get_username(),
        "scope": report.scope_label,
        "documents": [
            {
                "document_id": pk,
                "external_id": documents[pk]["external_id"],
                "title": documents[pk]["title"],
                "version": documents[pk]["current_version__number"],
            }
            for pk in report.document_ids
            if pk in documents
        ],
        "started_at": report.started_at.isoformat() if report.started_at else None,
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "published_at": report.published_at.isoformat() if report.published_at else None,
        "items": items,
    }


def receipt_for_reader(*, principal: Principal, report: Report) -> dict | None:
    """The frozen receipt, with the passages and quotes of items the reader may not read removed."""
    if report.receipt is None:
        return None
    views = {v.item.n: v for v in report_items(principal=principal, report=report)}
    items = []
    for entry in report.receipt["items"]:
        view = views.get(entry["n"])
        if view is None or view.withheld:
            entry = {**entry, "value": None, "passages": [], "citations": [], "withheld": True}
        items.append(entry)
    return {**report.receipt, "items": items}


# How the pages, commands and API every run over documents has read reports (citadel.documents.runs).
READS = DocumentRunReads(model=Report, visible=visible_reports, data=report_data)
