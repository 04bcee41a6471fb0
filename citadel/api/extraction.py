"""Extraction into a table: the schemas, running one over documents, and reading the rows the
caller may read (rows of documents the caller may not read are left out and counted)."""

from ninja import Router, Schema
from pydantic import Field

from citadel.api.document_runs import document_run_routes, document_run_status
from citadel.api.runs import RunOut
from citadel.extraction import selectors
from citadel.extraction.models import Extraction

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
    status: str = document_run_status(Extraction)
    error: str | None
    scope: str
    fields: list[FieldOut]
    rows: list[RowOut]
    withheld_rows: int = Field(description="Rows of documents you may not read, left out.")
    values_to_review: int
    run: RunOut = Field(
        description="The run's progress (documents read of documents), time running and who cancelled it."
    )
    url: str


document_run_routes(
    router,
    __name__,
    selectors.READS,
    definition_out=SchemaOut,
    run_out=ExtractionOut,
    documents="External ids of the documents.",
    started="Read a schema's fields out of documents (or a team's) in the background.",
)
