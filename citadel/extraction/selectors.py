"""Reading extractions: who sees which, the table as one reader may read it (rows of documents the
reader may not read are left out and counted), sorting and filtering, JSON and CSV."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet

from citadel.core.principal import Principal
from citadel.core.spreadsheets import spreadsheet_safe
from citadel.core.states import state_of
from citadel.documents.access import readable_document_ids
from citadel.documents.models import Document
from citadel.documents.runs import (
    DocumentRunReads,
    document_run_data,
    document_run_get,
    document_runs_visible,
    run_definitions_for,
)
from citadel.extraction.models import Extraction, ExtractionSchema, ExtractionValue, ValueStatus


def schemas_for(principal: Principal) -> QuerySet[ExtractionSchema]:
    return run_definitions_for(model=ExtractionSchema, principal=principal)


def visible_extractions(principal: Principal) -> QuerySet[Extraction]:
    """Reviewers and admins see the organization's extractions (they review the values); a member
    sees the ones they ran."""
    return document_runs_visible(model=Extraction, principal=principal)


def get_extraction(*, principal: Principal, extraction_id) -> Extraction:
    return document_run_get(visible_extractions(principal), extraction_id)


@dataclass
class Row:
    document: Document
    cells: dict[str, ExtractionValue] = field(default_factory=dict)
    # The cells in the fields' order (None where a field has none), for templates.
    ordered: list[ExtractionValue | None] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return any(c.status == ValueStatus.NEEDS_REVIEW for c in self.cells.values())


@dataclass
class Table:
    fields: list[dict]
    rows: list[Row]
    # Rows of documents the reader may not read: left out, counted.
    withheld: int = 0
    to_review: int = 0


def _value(row: Row, sort: str) -> str:
    cell = row.cells.get(sort)
    return cell.value if cell is not None else ""


def _sort_key(row: Row, sort: str) -> tuple:
    """Numbers (amounts, durations, percentages) by number, before the rest as text; ISO dates
    sort as text."""
    if sort == "document":
        return (1, row.document.title.lower())
    value = _value(row, sort)
    try:
        return (0, Decimal(value.split()[0].rstrip("%")))
    except (InvalidOperation, IndexError):
        return (1, value.lower())


def extraction_table(
    *,
    principal: Principal,
    extraction: Extraction,
    sort: str = "",
    descending: bool = False,
    only: str = "",
    q: str = "",
) -> Table:
    """The rows `principal` may read, sorted by a field (or the document), optionally only those
    with a value to review (`only="review"`) or whose values or title contain `q`."""
    readable = readable_document_ids(principal, extraction.document_ids)
    documents = {d.pk: d for d in Document.objects.filter(pk__in=readable).select_related("current_version")}
    cells = ExtractionValue.objects.filter(extraction=extraction, document_id__in=documents).select_related(
        "version", "chunk", "reviewed_by"
    )
    rows: dict[int, Row] = {}
    for cell in cells:
        rows.setdefault(cell.document_id, Row(documents[cell.document_id])).cells[cell.field_name] = cell
    table = Table(
        fields=extraction.fields,
        rows=list(rows.values()),
        withheld=len(extraction.document_ids) - len(readable),
        to_review=sum(c.status == ValueStatus.NEEDS_REVIEW for r in rows.values() for c in r.cells.values()),
    )
    if only == "review":
        table.rows = [r for r in table.rows if r.needs_review]
    if q:
        needle = q.lower()
        table.rows = [
            r
            for r in table.rows
            if needle in r.document.title.lower() or any(needle in c.value.lower() for c in r.cells.values())
        ]
    names = {f["name"] for f in extraction.fields}
    sort = sort if sort in names else "document"
    for row in table.rows:
        row.ordered = [row.cells.get(name) for name in (f["name"] for f in extraction.fields)]
    # Rows without the value come last, whichever the direction.
    present = [r for r in table.rows if sort == "document" or _value(r, sort)]
    absent = [r for r in table.rows if sort != "document" and not _value(r, sort)]
    table.rows = sorted(present, key=lambda r: _sort_key(r, sort), reverse=descending) + absent
    return table


def _citation(cell: ExtractionValue) -> dict | None:
    if cell.chunk_id is None and not cell.quote:
        return None
    return {
        "chunk_id": cell.chunk_id,
        "document_id": cell.document_id,
        "version": cell.version.number if cell.version else None,
        "page": cell.chunk.page if cell.chunk else None,
        "locator": cell.chunk.locator if cell.chunk else "",
        "quote": cell.quote,
    }


def extraction_data(*, principal: Principal, extraction: Extraction, site_url: str = "") -> dict:
    """The extraction as `extract --json` and the API give it, for this reader."""
    table = extraction_table(principal=principal, extraction=extraction)
    return document_run_data(
        extraction,
        site_url=site_url,
        fields=[{"name": f["name"], "type": f["type"]} for f in extraction.fields],
        rows=[
            {
                "document": row.document.external_id,
                "title": row.document.title,
                "values": {
                    name: {
                        "value": cell.value or None,
                        "confidence": cell.confidence,
                        "status": cell.status,
                        "citation": _citation(cell),
                    }
                    for name, cell in row.cells.items()
                },
            }
            for row in table.rows
        ],
        withheld_rows=table.withheld,
        values_to_review=table.to_review,
    )


def extraction_csv(*, principal: Principal, extraction: Extraction) -> str:
    """One row per document the reader may read: each field's value, then its confidence and
    review state, then where it was read, then the state in words (citadel.core.states: added
    last, as the columns before it are what scripts read)."""
    table = extraction_table(principal=principal, extraction=extraction)
    out = io.StringIO()
    writer = csv.writer(out)
    names = [f["name"] for f in extraction.fields]
    writer.writerow(
        ["document", "title", *names, *(f"{n} confidence" for n in names), *(f"{n} status" for n in names)]
        + [f"{n} source" for n in names]
        + [f"{n} state" for n in names]
    )
    for row in table.rows:
        cells = [row.cells.get(n) for n in names]
        sources = []
        for cell in cells:
            citation = _citation(cell) if cell else None
            place = citation["locator"] or (f"page {citation['page']}" if citation["page"] else "") if citation else ""
            sources.append(f"{place}: {citation['quote']}" if citation else "")
        writer.writerow(
            [spreadsheet_safe(v) for v in (row.document.external_id, row.document.title)]
            + [spreadsheet_safe(c.value if c else "") for c in cells]
            + [f"{c.confidence:.3f}" if c else "" for c in cells]
            + [c.status if c else "" for c in cells]
            + [spreadsheet_safe(s) for s in sources]
            + [state_of("extraction_value", c.status).label if c else "" for c in cells]
        )
    return out.getvalue()


# How the pages, commands and API every run over documents has read extractions
# (citadel.documents.runs).
READS = DocumentRunReads(model=Extraction, visible=visible_extractions, data=extraction_data)
