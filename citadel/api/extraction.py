"""Extraction into a table: the schemas, running one over documents, and reading the rows the
caller may read (rows of documents the caller may not read are left out and counted)."""

from ninja import Router, Schema, Status
from pydantic import Field

from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.documents.selectors import MAX_RUN_DOCUMENTS, external_document_ids, team_named
from citadel.extraction import selectors
from citadel.extraction.services import extraction_start

router = Router(tags=["extraction"])


class FieldOut(Schema):
    name: str
    type: str
    choices: list[str] = []
    guidance: str = ""


class SchemaOut(Schema):
    slug: str
    title: str
    fields: list[FieldOut]


class ExtractionIn(Schema):
    schema_: limited(80, min_length=1) = Field(alias="schema", description="The schema's slug.")
    documents: list[limited(255, min_length=1)] = Field(
        default_factory=list, max_length=MAX_RUN_DOCUMENTS, description="External ids of the documents."
    )
    team: limited(100) | None = Field(default=None, description="Or: every document of this team you may read.")
    label: limited(60) | None = Field(default=None, description="Or: every document with this label you may read.")


class CitationOut(Schema):
    chunk_id: int | None
    document_id: int | None
    version: int | None
    page: int | None
    locator: str
    quote: str


class CellOut(Schema):
    value: str | None = Field(description="Normalised: ISO dates, '48000 USD', '60 days', '15%', 'yes'/'no'.")
    confidence: float = Field(description="The share of the field's words in the sentence it was read from.")
    status: str = Field(description="extracted; needs_review (low confidence or not found); confirmed; corrected.")
    citation: CitationOut | None


class RowOut(Schema):
    document: str = Field(description="The document's external id.")
    title: str
    values: dict[str, CellOut]


class ExtractionOut(Schema):
    extraction_id: int
    title: str
    schema_: str | None = Field(alias="schema")
    status: str = Field(description="queued, running, needs_review, ready or failed.")
    error: str | None
    scope: str
    fields: list[FieldOut]
    rows: list[RowOut]
    withheld_rows: int = Field(description="Rows of documents you may not read, left out.")
    values_to_review: int
    url: str


@router.get("/schemas", response={200: list[SchemaOut], **errors(401, 403)}, url_name="extraction_schemas")
def extraction_schemas(request):
    return [
        {
            "slug": s.slug,
            "title": s.title,
            "fields": [
                {"name": f.name, "type": f.type, "choices": f.choices, "guidance": f.guidance} for f in s.fields.all()
            ],
        }
        for s in selectors.schemas_for(request.auth)
    ]


@router.post("", response={202: ExtractionOut, **errors(400, 401, 403, 404, 422)}, url_name="extraction_start")
def extraction_run(request, body: ExtractionIn):
    """Read a schema's fields out of documents (or a team's) in the background."""
    principal = request.auth
    extraction = extraction_start(
        principal=principal,
        schema_slug=body.schema_,
        document_ids=external_document_ids(principal=principal, external_ids=body.documents),
        team_id=team_named(principal=principal, name=body.team) if body.team else None,
        label=body.label,
    )
    data = selectors.extraction_data(
        principal=principal, extraction=extraction, site_url=request.build_absolute_uri("/")
    )
    return Status(202, data)


@router.get("/{extraction_id}", response={200: ExtractionOut, **errors(401, 403, 404)}, url_name="extraction_detail")
def extraction_detail(request, extraction_id: Id):
    extraction = selectors.get_extraction(principal=request.auth, extraction_id=extraction_id)
    return selectors.extraction_data(
        principal=request.auth, extraction=extraction, site_url=request.build_absolute_uri("/")
    )
