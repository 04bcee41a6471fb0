"""Checklists and reports: the templates, running one over documents, and reading the result as
the caller may read it (items citing a document the caller may not read are withheld)."""

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from citadel.api.answers import CitationOut
from citadel.api.document_runs import document_run_routes, document_run_status
from citadel.api.runs import RunOut
from citadel.reports import selectors
from citadel.reports.models import Report

router = Router(tags=["reports"])


class TemplateItemOut(Schema):
    question: str
    type: str
    choices: list[str]
    guidance: str


class TemplateOut(Schema):
    slug: str
    title: str
    items: list[TemplateItemOut]


class ProgressOut(Schema):
    total: int
    answered: int
    decided: int


class ReportItemOut(Schema):
    n: int
    question: str
    type: str
    status: str = Field(
        description="queued; pending_review (answered, waiting for a reviewer); approved; rejected; "
        "answered or not_found (not sent to review); failed."
    )
    found: bool = Field(description="False when the documents do not answer it (not found in the documents).")
    value: str | None = Field(description="The typed value read from the cited quotes (ISO date, '30 days', ...).")
    text: str
    citations: list[CitationOut]
    withheld: bool = Field(description="The item cites a document you may not read: only its question is shown.")
    reviewed_by: str | None
    reviewed_at: datetime | None


class ReportOut(Schema):
    report_id: int
    title: str
    template: str | None
    status: str = document_run_status(Report)
    error: str | None
    scope: str
    documents: list[str]
    progress: ProgressOut
    items: list[ReportItemOut]
    run: RunOut = Field(description="The run's progress (items answered of items), time running and who cancelled it.")
    url: str


document_run_routes(
    router,
    __name__,
    selectors.READS,
    definition_out=TemplateOut,
    run_out=ReportOut,
    documents="External ids of the documents to run it over.",
    started="Run a template over documents (or a team's); the items are answered in the background.",
)
