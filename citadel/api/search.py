"""Search: the `retrieve` path. Ranks only passages the caller may read (the permission filter
is inside the ranking query), best first."""

from ninja import Query, Router, Schema
from pydantic import Field

from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.retrieval.services import MAX_K, MAX_QUERY_CHARS, search_recorded

router = Router(tags=["search"])


class SearchParams(Schema):
    q: limited(MAX_QUERY_CHARS, min_length=1) = Field(description="What to look for.")
    k: int = Field(10, ge=1, le=MAX_K, description="How many passages.")
    document_id: list[Id] = Field([], description="Only these documents.")
    external_id: list[limited(255)] = Field([], description="Only documents with these external ids.")
    title: limited(200) | None = Field(None, description="Only documents whose title contains this.")
    label: list[limited(60)] = Field([], description="Only documents with any of these labels.")


class SearchHit(Schema):
    chunk_id: int
    document_id: int
    external_id: str
    title: str
    version: int
    page: int | None
    locator: str = Field(description='Where the passage is: "page 3", "Sheet1 rows 20-35" ("" when unknown).')
    score: float
    text: str
    dense_rank: int | None
    lexical_rank: int | None


@router.get("/", response={200: list[SearchHit], **errors(400, 401, 403, 422)}, url_name="search")
def search(request, params: Query[SearchParams]):
    """The passages you may read that best match `q`: hybrid dense + BM25 ranking, fused.
    The same fields as `manage.py retrieve --json`, plus the passage text and each leg's rank."""
    filters = {}
    if params.document_id:
        filters["document_ids"] = params.document_id
    if params.external_id:
        filters["external_ids"] = params.external_id
    if params.title:
        filters["title"] = params.title
    if params.label:
        filters["labels"] = params.label
    hits = search_recorded(
        principal=request.auth, query=params.q, k=params.k, filters=filters or None, channel="api"
    ).hits
    return [
        {
            "chunk_id": h.chunk_id,
            "document_id": h.document_id,
            "external_id": h.external_id,
            "title": h.title,
            "version": h.version,
            "page": h.page,
            "locator": h.locator,
            "score": h.score,
            "text": h.text,
            "dense_rank": h.dense_rank,
            "lexical_rank": h.lexical_rank,
        }
        for h in hits
    ]
