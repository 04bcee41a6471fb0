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
from typing import Unpack

from django.db import transaction
from django.utils import timezone

from citadel.answers.models import Answer, AnswerStatus, QuestionOrigin, ReviewOutcome
from citadel.answers.services import answer_build, question_create
from citadel.audit.services import audit_record
from citadel.core.errors import CitadelError
from citadel.core.principal import Principal
from citadel.documents.runs import RunScope, document_run_execute, document_run_start, run_definition_create
from citadel.jobs.services import RunStopped, run_extend, run_fail, run_finish, run_owner_notify, run_retry
from citadel.reports.models import (
    DECIDED_ITEM_STATUSES,
    ItemStatus,
    Report,
    ReportItem,
    ReportStatus,
    ReportTemplate,
)
from citadel.reports.selectors import item_value, report_receipt_data

logger = logging.getLogger(__name__)

EXECUTE_TASK = "citadel.reports.tasks.report_execute"


# --- templates -----------------------------------------------------------------------------------


def report_template_create(*, organization_id: int, data: dict, principal: Principal | None = None) -> ReportTemplate:
    """Create a template, or replace the title and items of the one with the same slug (reports
    already run keep the items they were run with). `principal`: the admin defining it; None for
    the operator's command line."""
    return run_definition_create(model=ReportTemplate, organization_id=organization_id, data=data, principal=principal)


# --- running -------------------------------------------------------------------------------------


def report_start(
    *, principal: Principal, template_slug: str, enqueue: bool = True, **scope: Unpack[RunScope]
) -> Report:
    """Queue a run of the template over the chosen documents (or a team's, or those with a label), as
    `principal`: each item becomes an item of the report (Report.keep_parts)."""
    return document_run_start(model=Report, principal=principal, slug=template_slug, enqueue=enqueue, **scope)


def _asked(item: ReportItem) -> str:
    """The question put to the answer path: the item's question, with its guidance when the
    question alone would not find the clause."""
    if item.guidance and item.guidance.lower() not in item.question_text.lower():
        return f"{item.question_text} ({item.guidance})"
    return item.question_text


def report_execute(*, report_id: int) -> Report | None:
    """Answer every item not yet answered, then hand the report to review. Safe to run again: a
    run whose worker was lost resumes where it stopped, each item answered once. A run cancelled,
    or taken over by another worker, stops before its next item and writes nothing more."""
    return document_run_execute(model=Report, run_id=report_id, work=_execute)


def _execute(report: Report, principal: Principal) -> Report:
    items = report.items.all()
    done = items.exclude(status=ItemStatus.QUEUED).count()
    run_extend(report, done=done, total=items.count())
    for item in report.items.filter(status=ItemStatus.QUEUED).select_related("question"):
        done += 1
        try:
            _answer_item(principal, report, item, done=done)
        except RunStopped:
            raise
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
        report = run_finish(report, status=ReportStatus.NEEDS_REVIEW)
        audit_record(
            verb="reports.needs_review",
            organization=report.organization_id,
            actor=None,
            target=report,
            metadata={"items": report.items.count(), "seconds": (report.finished_at - report.started_at).seconds},
        )
    return report


def _answer_item(principal: Principal, report: Report, item: ReportItem, *, done: int) -> None:
    """Ask the item and write its answer; `done`: the items answered once it is written. The write
    moves the run on in the same transaction, so a worker whose run was cancelled or taken over
    meanwhile writes nothing and stops (RunStopped) before the next item."""
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
        run_extend(report, done=done)


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


def report_reset(report: Report) -> None:
    """Undo what a failed or lost run left half done: its failed items are asked again (those
    answered are kept). In the transaction that queues it again (citadel.jobs: retry, reaper)."""
    report.items.filter(status=ItemStatus.FAILED).update(status=ItemStatus.QUEUED, question=None, value="")


def report_retry(*, principal: Principal, report_id: int) -> Report:
    """Run a failed or cancelled report again, as its runner or an admin: the items already
    answered are kept, the failed ones asked again (report_reset)."""
    return run_retry(model=Report, principal=principal, run_id=report_id)


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
        run_owner_notify(report, by=principal)
    return item
