"""Checklists and reports: templates, runs, and publishing.

    template = report_template_create(principal=admin, data={"slug": ..., "title": ..., "items": [...]})
    report = report_start(principal=member, template_slug="policy-review", document_ids=[...])
    report_execute(report_id=report.pk)          # the task: each item answered, then needs_review

Each item is a question asked through the answer path as the runner, searched only in the
report's documents, and always sent to the review queue. Review's decisions reach the report
through `report_item_decided` (connected to review's signal in ReportsConfig.ready), inside the
decision's transaction; the last decision publishes the report and freezes its receipt.
Every change is one transaction with its audit event; executing a report twice answers each item
once.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from citadel.accounts.rules import require_role
from citadel.accounts.selectors import principal_for
from citadel.answers.models import Answer, AnswerStatus, QuestionOrigin, ReviewOutcome
from citadel.answers.services import answer_build, question_create
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError, InvalidInput, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.runs import run_claim, run_definition_save, run_fail, run_retry
from citadel.documents.selectors import documents_for_run
from citadel.reports.models import (
    DECIDED_ITEM_STATUSES,
    MAX_ITEMS,
    ItemStatus,
    ItemType,
    Report,
    ReportItem,
    ReportStatus,
    ReportTemplate,
    TemplateItem,
)
from citadel.reports.selectors import item_value, report_receipt_data

logger = logging.getLogger(__name__)

EXECUTE_TASK = "citadel.reports.tasks.report_execute"


# --- templates -----------------------------------------------------------------------------------


def _template_items(data) -> list[TemplateItem]:
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput("A template needs a list of items, each with a question.")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"A template holds at most {MAX_ITEMS} items; this one has {len(items)}.")
    built = []
    for position, raw in enumerate(items, start=1):
        if not isinstance(raw, dict):
            raise InvalidInput(f"Item {position} must be an object with a question.")
        kind = raw.get("type", ItemType.TEXT)
        if kind not in ItemType.values:
            raise InvalidInput(f"Item {position}: the type must be one of {', '.join(ItemType.values)}.")
        item = TemplateItem(
            position=position,
            question=raw.get("question") or "",
            type=kind,
            choices=raw.get("choices") or [],
            guidance=raw.get("guidance") or "",
        )
        try:
            item.clean()
            item.clean_fields(exclude=["template"])
        except ValidationError as exc:
            raise InvalidInput(f"Item {position}: {' '.join(exc.messages)}") from None
        built.append(item)
    return built


@transaction.atomic
def report_template_create(*, organization_id: int, data: dict, principal: Principal | None = None) -> ReportTemplate:
    """Create a template, or replace the title and items of the one with the same slug (reports
    already run keep the items they were run with). `principal`: the admin defining it; None for
    the operator's command line."""
    if principal is not None:
        require_role(principal, Role.ADMIN, "Only admins define report templates.")
        if principal.organization_id != organization_id:
            raise NotFound("No such organization.")
    if not isinstance(data, dict):
        raise InvalidInput("A template is an object with a slug, a title and items.")
    items = _template_items(data)
    return run_definition_save(
        model=ReportTemplate,
        part_field="template",
        organization_id=organization_id,
        data=data,
        parts=items,
        principal=principal,
        audit_parts=[{"question": i.question, "type": i.type} for i in items],
    )


# --- running -------------------------------------------------------------------------------------


@transaction.atomic
def report_start(
    *,
    principal: Principal,
    template_slug: str,
    document_ids: list[int] | None = None,
    team_id: int | None = None,
    label: str | None = None,
    enqueue: bool = True,
) -> Report:
    """Queue a run of the template over the chosen documents (or a team's, or those with a label), as
    `principal`."""
    if not isinstance(principal, Principal):
        raise NotFound("No such organization.")
    template = ReportTemplate.objects.filter(organization_id=principal.organization_id, slug=template_slug).first()
    if template is None:
        raise NotFound(f"No report template {template_slug!r}.")
    items = list(template.items.all())
    if not items:
        raise InvalidInput("This template has no items.")
    ids, label = documents_for_run(principal=principal, document_ids=document_ids, team_id=team_id, label=label)
    report = Report.objects.create(
        organization_id=principal.organization_id,
        template=template,
        title=template.title,
        runner_id=principal.user_id,
        document_ids=ids,
        scope_label=label,
    )
    ReportItem.objects.bulk_create(
        ReportItem(
            report=report,
            n=n,
            question_text=item.question,
            type=item.type,
            choices=item.choices,
            guidance=item.guidance,
        )
        for n, item in enumerate(items, start=1)
    )
    audit_record(
        verb="reports.started",
        organization=principal.organization_id,
        actor=principal,
        target=report,
        metadata={"template": template.slug, "document_ids": ids, "scope": label, "items": len(items)},
    )
    if enqueue:
        enqueue_on_commit(EXECUTE_TASK, report.pk)
    return report


def _asked(item: ReportItem) -> str:
    """The question put to the answer path: the item's question, with its guidance when the
    question alone would not find the clause."""
    if item.guidance and item.guidance.lower() not in item.question_text.lower():
        return f"{item.question_text} ({item.guidance})"
    return item.question_text


def report_execute(*, report_id: int) -> Report | None:
    """Answer every item not yet answered, then hand the report to review. Safe to run again: a
    killed run resumes where it stopped, each item answered once."""
    report, claimed = run_claim(Report, report_id)
    if not claimed:
        return report
    try:
        principal = principal_for(user=report.runner_id, organization=report.organization_id)
    except NotFound:
        return run_fail(report, "The person who ran this report is no longer a member of the organization.")
    for item in report.items.filter(status=ItemStatus.QUEUED).select_related("question"):
        try:
            _answer_item(principal, report, item)
        except CitadelError as exc:
            return run_fail(report, f"Item {item.n} could not be answered: {exc.message}")
        except Exception as exc:
            logger.exception("report %s item %s failed", report.pk, item.n)
            return run_fail(report, f"Item {item.n} could not be answered ({type(exc).__name__}); retry the report.")
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        failed = list(report.items.filter(status=ItemStatus.FAILED).values_list("n", flat=True))
        if failed:
            return run_fail(report, f"Item {failed[0]} could not be answered; retry the report.")
        report.status = ReportStatus.NEEDS_REVIEW
        report.finished_at = timezone.now()
        report.save(update_fields=["status", "finished_at"])
        audit_record(
            verb="reports.needs_review",
            organization=report.organization_id,
            actor=None,
            target=report,
            metadata={"items": report.items.count(), "seconds": (report.finished_at - report.started_at).seconds},
        )
    return report


def _answer_item(principal: Principal, report: Report, item: ReportItem) -> None:
    question = item.question
    if question is None:
        with transaction.atomic():
            question = question_create(
                principal=principal, text=_asked(item), origin=QuestionOrigin.REPORT, document_ids=report.document_ids
            )
            item.question = question
            item.save(update_fields=["question"])
    answer = answer_build(principal=principal, question=question)
    with transaction.atomic():
        item = ReportItem.objects.select_for_update().get(pk=item.pk)
        item.status = _item_status(answer)
        item.value = item_value(item, answer) or ""
        item.save(update_fields=["status", "value"])


def _item_status(answer: Answer) -> str:
    if answer.status in (AnswerStatus.FAILED, AnswerStatus.CANCELLED):
        return ItemStatus.FAILED
    if answer.review_state == ReviewOutcome.PENDING:
        return ItemStatus.PENDING_REVIEW
    if answer.review_state == ReviewOutcome.APPROVED:
        return ItemStatus.APPROVED
    if answer.review_state == ReviewOutcome.REJECTED:
        return ItemStatus.REJECTED
    return ItemStatus.NOT_FOUND if answer.abstained else ItemStatus.ANSWERED


def report_retry(*, principal: Principal, report_id: int) -> Report:
    """Run a failed (or stuck) report again: the items already answered are kept, the failed ones
    asked again."""

    def reset(report: Report) -> None:
        report.items.filter(status=ItemStatus.FAILED).update(status=ItemStatus.QUEUED, question=None, value="")

    return run_retry(model=Report, principal=principal, run_id=report_id, task=EXECUTE_TASK, reset=reset)


# --- review --------------------------------------------------------------------------------------


def report_item_decided(*, answer_id: int, principal: Principal) -> ReportItem | None:
    """A reviewer approved or rejected an answer: when it answers a report item, the item takes
    the decision (and the value of the text approved), and the last decision publishes the report.
    Runs inside the decision's transaction."""
    item = (
        ReportItem.objects.select_for_update()
        .filter(question__answer__pk=answer_id)
        .select_related("question__answer")
        .first()
    )
    if item is None:
        return None
    answer = item.question.answer
    item.status = _item_status(answer)
    item.value = item_value(item, answer) or ""
    item.save(update_fields=["status", "value"])
    report = Report.objects.select_for_update().get(pk=item.report_id)
    undecided = report.items.exclude(status__in=DECIDED_ITEM_STATUSES).exists()
    if report.status == ReportStatus.NEEDS_REVIEW and not undecided:
        report.status = ReportStatus.PUBLISHED
        report.published_at = timezone.now()
        report.published_by_id = principal.user_id
        report.receipt = report_receipt_data(report)
        report.save(update_fields=["status", "published_at", "published_by", "receipt"])
        audit_record(
            verb="reports.published",
            organization=report.organization_id,
            actor=principal,
            target=report,
            metadata={
                "approved": report.items.filter(status=ItemStatus.APPROVED).count(),
                "rejected": report.items.filter(status=ItemStatus.REJECTED).count(),
            },
        )
    return item
