"""Content gaps, for admins: the organization's open and handled gaps with questions in a date
range, most asked first, each with its example questions and the closest documents the caller may
read (citadel.gaps.selectors)."""

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from citadel.accounts.rules import require_role
from citadel.api.responses import errors
from citadel.core.dates import date_range
from citadel.core.principal import Role
from citadel.gaps import selectors

router = Router(tags=["gaps"])

MAX_GAPS = 100


class RangeIn(Schema):
    since: date | None = Field(None, description="First day counted (default: 29 days before `until`).")
    until: date | None = Field(None, description="Last day counted, included (default: today).")
    status: str | None = Field(None, pattern="^(open|handled)$", description="open or handled; default both.")
    limit: int = Field(50, ge=1, le=MAX_GAPS)


class DocumentOut(Schema):
    id: int
    title: str


class GapOut(Schema):
    id: int
    label: str
    terms: list[str]
    count: int = Field(description="Questions asked in the range.")
    status: str = Field(description="open or handled.")
    handled_at: datetime | None
    handled_note: str
    handled_document: DocumentOut | None = Field(description="Null unless the caller may read it.")
    examples: list[str] = Field(description="Its most typical questions, each wording once.")
    closest_documents: list[DocumentOut] = Field(description="Nearest the gap, among those the caller may read.")


class GapsOut(Schema):
    since: date
    until: date
    refreshed_at: datetime | None
    gaps: list[GapOut]


@router.get("/", response={200: GapsOut, **errors(400, 401, 403, 422)}, url_name="gaps")
def gaps_list(request, query: Query[RangeIn]):
    """The organization's content gaps over a date range (admins)."""
    principal = require_role(request.auth, Role.ADMIN, "Only the organization's admins read content gaps here.")
    span = date_range(since=query.since, until=query.until)
    since, until = span.bounds()
    views = selectors.gaps_in_range(principal=principal, since=since, until=until, status=query.status)
    views = selectors.gap_views(principal=principal, views=views[: query.limit])
    refresh = selectors.last_refresh(organization=principal.organization_id)
    return {
        "since": span.since,
        "until": span.until,
        "refreshed_at": refresh.refreshed_at if refresh else None,
        "gaps": [
            {
                "id": v.gap.pk,
                "label": v.gap.label,
                "terms": v.gap.terms,
                "count": v.count,
                "status": v.gap.status,
                "handled_at": v.gap.handled_at,
                "handled_note": v.gap.handled_note,
                "handled_document": v.handled_document,
                "examples": v.examples,
                "closest_documents": v.closest_documents,
            }
            for v in views
        ],
    }
