"""Checklists and reports: the templates, running one over documents, and reading the result as
the caller may read it (items citing a document the caller may not read are withheld)."""

from datetime import datetime

from ninja import Router, Schema, Status
from pydantic import Field

from citadel.api.answers import CitationOut
from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.documents.selectors import MAX_RUN_DOCUMENTS, external_document_ids, team_named
from citadel.reports import selectors
from citadel.reports.services import report_start

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


class ReportIn(Schema):
    template: limited(80, min_length=1) = Field(description="The template's slug.")
    documents: list[limited(255, min_length=1)] = Field(
        default_factory=list, max_length=MAX_RUN_DOCUMENTS, description="External ids of the documents to run it over."
    )
    team: limited(100) | None = Field(default=None, description="Or: every document of this team you may read.")
    label: limited(60) | None = Field(default=None, description="Or: every document with this label you may read.")


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
    status: str = Field(description="queued, running, needs_review, published or failed.")
    error: str | None
    scope: str
    documents: list[str]
    progress: ProgressOut
    items: list[ReportItemOut]
    url: str


@router.get("/templates", response={200: list[TemplateOut], **errors(401, 403)}, url_name="report_templates")
def report_templates(request):
    return [
        {
            "slug": t.slug,
            "title": t.title,
            "items": [
                {"question": i.question, "type": i.type, "choices": i.choices, "guidance": i.guidance}
                for i in t.items.all()
            ],
        }
        for t in selectors.templates_for(request.auth)
    ]


@router.post("", response={202: ReportOut, **errors(400, 401, 403, 404, 422)}, url_name="report_start")
def report_run(request, body: ReportIn):
    """Run a template over documents (or a team's); the items are answered in the background."""
    principal = request.auth
    report = report_start(
        principal=principal,
        template_slug=body.template,
        document_ids=external_document_ids(principal=principal, external_ids=body.documents),
        team_id=team_named(principal=principal, name=body.team) if body.team else None,
        label=body.label,
    )
    return Status(202, selectors.report_data(principal=principal, report=report, site_url=_site(request)))


@router.get("/{report_id}", response={200: ReportOut, **errors(401, 403, 404)}, url_name="report_detail")
def report_detail(request, report_id: Id):
    report = selectors.get_report(principal=request.auth, report_id=report_id)
    return selectors.report_data(principal=request.auth, report=report, site_url=_site(request))


def _site(request) -> str:
    return request.build_absolute_uri("/")
