"""retrieve(): the only code in Citadel that runs vector or lexical search.

Both legs run inside PostgreSQL with the permission rule of citadel.documents.access as a CTE of
the ranking query itself, so nothing a principal may not read is ever ranked, and a grant,
revocation or archive counts from the very next query.

* Dense leg: cosine distance over the organization's `embedding_model` vectors. A per-query planner
  estimates the permitted chunks (from the permitted versions' chunk counts): a small permitted set is
  scanned exactly (perfect recall, cheaper than the graph); a large one goes through the partial
  HNSW index of its dimension with iterative scans, so a restrictive filter still yields k rows.
  Under a restrictive filter the walk is joined by an exact scan of the permitted documents whose
  centroids (retrieval.models.VersionCentroid) lie nearest the query, where a walk misses most.
* Lexical leg: Okapi BM25 (k1=1.2, b=0.75) over each chunk's tsvector (documents.lexical's
  TEXT_SEARCH_CONFIG), with document frequencies and average length taken from the organization's
  own statistics (retrieval.models).
* Fusion: each leg scores the other's finds, both scores are standardised against their leg's
  candidates and averaged with the legs' weights (_fuse); every hit keeps both ranks and scores.
"""

import json
import logging
import math
import statistics
from dataclasses import dataclass, field

from django.db import connection, connections, transaction

from citadel.accounts.models import Organization
from citadel.audit.prompt_logs import search_event_record
from citadel.core.db import search_alias
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.core.metrics import RETRIEVAL_LATENCY
from citadel.core.principal import Principal
from citadel.documents.access import readable_versions_sql
from citadel.documents.models import LABEL_APPLIES
from citadel.providers.embeddings import get_embedder
from citadel.retrieval.dense import dense_scores, dense_search
from citadel.retrieval.lexical import lexical_search
from citadel.retrieval.settings import RetrievalSettings
from citadel.retrieval.types import Hit, LegHit

logger = logging.getLogger(__name__)

MAX_K = 100
MAX_QUERY_CHARS = 2000
FILTER_KEYS = frozenset({"document_ids", "external_ids", "title", "labels", "team"})
MAX_TEAM_NAME = 100  # accounts.Team.name


@dataclass
class SearchResult:
    """Everything one query computed: the fused hits and each leg on its own (hit testing)."""

    hits: list[Hit]
    dense: list[Hit]
    lexical: list[Hit]
    plan: dict = field(default_factory=dict)


def retrieve(
    *, principal: Principal, query: str, k: int = 10, filters: dict | None = None, settings: dict | None = None
) -> list[Hit]:
    """The k passages the principal may read that best match `query`, best first.

    `filters` can only narrow what the principal may read: {"document_ids": [...]},
    {"external_ids": [...]}, {"title": "substring"}, {"labels": ["Finance", ...]}, {"team": "Legal"}
    (documents granted to that team of the principal's organization; any of them). `settings` overrides the organization's
    retrieval settings for this call (evaluation runs measure proposed settings this way); keys
    are the fields of RetrievalSettings."""
    return search(principal=principal, query=query, k=k, filters=filters, settings=settings).hits


def search(
    *, principal: Principal, query: str, k: int = 10, filters: dict | None = None, settings: dict | None = None
) -> SearchResult:
    if not isinstance(principal, Principal):
        raise PermissionDenied("A principal is required.")
    query = _clean_query(query)
    k = clean_k(k)
    filter_sql, filter_params = _filter_sql(filters)
    if not query:
        return SearchResult(hits=[], dense=[], lexical=[])
    organization = Organization.objects.get(pk=principal.organization_id)
    settings = RetrievalSettings.for_organization(organization, settings)
    query_vector = _embed_query(organization, query)
    permitted, permitted_params = _permitted_cte(principal, filter_sql, filter_params)
    n = max(settings.candidates, k)

    alias = search_alias()
    with RETRIEVAL_LATENCY.time(), transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        if query_vector is None:
            # The embedding provider failed: the lexical leg still answers, and says so.
            dense, plan = [], {"dense_mode": "unavailable", "permitted_chunks": None}
        else:
            dense, plan = dense_search(
                cursor,
                permitted=permitted,
                permitted_params=permitted_params,
                model=organization.embedding_model,
                dimensions=len(query_vector),
                vector=query_vector,
                n=n,
                settings=settings,
            )
        # Each leg also scores the chunks only the other found, so fusion weighs every candidate
        # on both scores. A leg of weight 0 takes no part in fusion, so then neither does.
        both = settings.dense_weight > 0 and settings.lexical_weight > 0
        lexical, lexical_more = lexical_search(
            cursor,
            permitted=permitted,
            permitted_params=permitted_params,
            organization_id=principal.organization_id,
            query=query,
            n=n,
            settings=settings,
            also_score={h.chunk_id for h in dense} if both else (),
        )
        lexical_ids = {h.chunk_id for h in lexical}
        dense_more = {}
        if both and dense:  # a dense leg that ran (the query was embedded, the model has vectors)
            dense_more = dense_scores(
                cursor,
                permitted=permitted,
                permitted_params=permitted_params,
                model=organization.embedding_model,
                dimensions=len(query_vector),
                vector=query_vector,
                chunk_ids=sorted(lexical_ids - {h.chunk_id for h in dense}),
            )
        fused = _fuse(dense, lexical, settings, dense_more=dense_more, lexical_more=lexical_more)
        wanted = {h.chunk_id for h in fused[:k]} | {h.chunk_id for h in dense[:k]} | {h.chunk_id for h in lexical[:k]}
        details = _details(cursor, permitted=permitted, permitted_params=permitted_params, chunk_ids=sorted(wanted))

    dense_by_id = {h.chunk_id: h for h in dense}
    lexical_by_id = {h.chunk_id: h for h in lexical}
    dense_score = {**dense_more, **{h.chunk_id: h.score for h in dense}}
    lexical_score = {**lexical_more, **{h.chunk_id: h.score for h in lexical}}

    def hit(chunk_id: int, score: float) -> Hit | None:
        row = details.get(chunk_id)
        if row is None:  # not readable any more (changed between statements): never returned
            return None
        d, lx = dense_by_id.get(chunk_id), lexical_by_id.get(chunk_id)
        return Hit(
            **row,
            score=score,
            dense_rank=d.rank if d else None,
            lexical_rank=lx.rank if lx else None,
            dense_score=dense_score.get(chunk_id),
            lexical_score=lexical_score.get(chunk_id),
        )

    def build(items) -> list[Hit]:
        return [h for h in (hit(i.chunk_id, i.score) for i in items) if h is not None][:k]

    return SearchResult(hits=build(fused), dense=build(dense[:k]), lexical=build(lexical[:k]), plan=plan)


def search_recorded(
    *, principal: Principal, query: str, k: int = 10, channel: str, filters: dict | None = None
) -> SearchResult:
    """A search a person runs (the search page, the API, the `retrieve` command): search(), and a
    SearchEvent saying who looked for what, under the organization's prompt-log policy."""
    result = search(principal=principal, query=query, k=k, filters=filters)
    with transaction.atomic():
        organization = Organization.objects.only("pk", "prompt_log_mode").get(pk=principal.organization_id)
        search_event_record(
            organization=organization,
            user_id=principal.user_id,
            channel=channel,
            query=_clean_query(query),
            document_ids=[h.document_id for h in result.hits],
        )
    return result


def _embed_query(organization: Organization, query: str) -> list[float] | None:
    try:
        return get_embedder(organization.embedding_model).embed([query])[0]
    except Exception:
        logger.exception("Query embedding failed for organization %s; lexical results only", organization.pk)
        return None


def dense_leg(
    *, principal: Principal, vector: list[float], n: int, settings: RetrievalSettings | None = None
) -> tuple[list[LegHit], dict]:
    """The dense leg alone for a ready-made vector (benchmarks measure it without an embedder)."""
    if not isinstance(principal, Principal):
        raise PermissionDenied("A principal is required.")
    organization = Organization.objects.get(pk=principal.organization_id)
    settings = settings or RetrievalSettings.for_organization(organization)
    permitted, permitted_params = _permitted_cte(principal, "", [])
    with transaction.atomic(), connection.cursor() as cursor:
        return dense_search(
            cursor,
            permitted=permitted,
            permitted_params=permitted_params,
            model=organization.embedding_model,
            dimensions=len(vector),
            vector=vector,
            n=n,
            settings=settings,
        )


def _permitted_cte(principal: Principal, filter_sql: str, filter_params: list) -> tuple[str, list]:
    # NOT MATERIALIZED: a statement using the set twice still gets it inlined at each use, so the
    # graph walk checks each tuple with index lookups instead of rescanning a materialized CTE
    # (240 ms instead of 25 at 10% of 1M chunks).
    readable_sql, readable_params = readable_versions_sql(principal)
    if not filter_sql:
        return f"permitted AS NOT MATERIALIZED ({readable_sql})", readable_params
    cte = (
        f"permitted AS NOT MATERIALIZED (SELECT r.document_id, r.version_id FROM ({readable_sql}) r "
        f"JOIN documents_document fd ON fd.id = r.document_id WHERE TRUE {filter_sql})"
    )
    return cte, [*readable_params, *filter_params]


def _clean_query(query) -> str:
    if not isinstance(query, str):
        raise InvalidInput("The query must be text.")
    query = " ".join(query.split())
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    return query


def clean_k(k) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise InvalidInput("k must be a whole number.") from None
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}.")
    return k


def _filter_sql(filters: dict | None) -> tuple[str, list]:
    """Extra conditions ANDed onto the permitted set: they narrow it and can never widen it."""
    if not filters:
        return "", []
    if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
        raise InvalidInput(f"Filters may only use {', '.join(sorted(FILTER_KEYS))}.")
    sql, params = [], []
    if "document_ids" in filters:
        try:
            ids = [int(i) for i in filters["document_ids"]]
        except (TypeError, ValueError):
            raise InvalidInput("document_ids must be a list of numbers.") from None
        sql.append("AND fd.id = ANY(%s)")
        params.append(ids)
    if "external_ids" in filters:
        values = filters["external_ids"]
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise InvalidInput("external_ids must be a list of text.")
        sql.append("AND fd.external_id = ANY(%s)")
        params.append(list(values))
    if "labels" in filters:
        names = filters["labels"]
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise InvalidInput("labels must be a list of label names.")
        # Documents with any of the labels, as the classifier assigned them or people accepted them.
        sql.append(
            "AND fd.id IN (SELECT dl.document_id FROM documents_documentlabel dl"
            " JOIN documents_label l ON l.id = dl.label_id"
            " WHERE l.organization_id = fd.organization_id AND l.name = ANY(%s) AND dl.status = ANY(%s))"
        )
        params += [list(names), [str(s) for s in LABEL_APPLIES]]
    if "team" in filters:
        name = filters["team"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEAM_NAME or "\x00" in name:
            raise InvalidInput(f"team must be a team's name (at most {MAX_TEAM_NAME} characters).")
        # Granted to the team by name: a name no team of the organization bears matches nothing,
        # as a team whose documents the principal may not read does; nobody can tell them apart.
        sql.append(
            "AND fd.id IN (SELECT tg.document_id FROM documents_accessgrant tg"
            " JOIN accounts_team tt ON tt.id = tg.team_id"
            " WHERE tg.scope = 'team' AND tt.organization_id = fd.organization_id AND tt.name = %s)"
        )
        params.append(name.strip())
    if "title" in filters:
        if not isinstance(filters["title"], str):
            raise InvalidInput("title must be text.")
        sql.append("AND fd.title ILIKE %s")
        params.append("%" + filters["title"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return " ".join(sql), params


def _fuse(
    dense: list[LegHit],
    lexical: list[LegHit],
    settings: RetrievalSettings,
    *,
    dense_more: dict[int, float],
    lexical_more: dict[int, float],
) -> list[LegHit]:
    """Score fusion over both legs' candidates. Each leg's score is standardised against that
    leg's own candidates (a z-score: how far above their mean, in their standard deviations), and
    a chunk's fused score is the weighted mean of its two z-scores, through a logistic into (0, 1).
    `dense_more` and `lexical_more` hold the scores each leg gave the other's finds; a chunk with
    no query word scores 0 BM25, and a chunk without a vector the dense leg's lowest candidate.

    Unlike reciprocal rank fusion, a leg that is sure (a rare word matched, a near-identical
    passage) outweighs a leg that is not, so fusion keeps what the stronger leg finds:
    bench/retrieval_quality.py, where rank fusion fell below the lexical leg on SQuAD's Rhine."""
    legs = []
    for weight, leg, more, missing in (
        (settings.dense_weight, dense, dense_more, None),
        (settings.lexical_weight, lexical, lexical_more, 0.0),
    ):
        if weight <= 0 or not leg:
            continue
        values = [h.score for h in leg]
        mean = math.fsum(values) / len(values)
        spread = statistics.pstdev(values) or 1.0
        scores = {h.chunk_id: h.score for h in leg} | more
        legs.append((weight, scores, mean, spread, min(values) if missing is None else missing))
    total = sum(weight for weight, *_ in legs)
    chunk_ids = {cid for _, scores, *_ in legs for cid in scores}
    z = {
        cid: math.fsum(w * (scores.get(cid, missing) - mean) / spread for w, scores, mean, spread, missing in legs)
        / total
        for cid in chunk_ids
    } if legs else {}  # fmt: skip
    ordered = sorted(z.items(), key=lambda item: (-item[1], item[0]))
    return [
        LegHit(chunk_id=cid, rank=i, score=1.0 / (1.0 + math.exp(-s))) for i, (cid, s) in enumerate(ordered, start=1)
    ]


def _heading_path(value) -> list[str]:
    # Raw cursors hand jsonb back as text (Django registers a text loader for it).
    if isinstance(value, str):
        value = json.loads(value)
    return [str(part) for part in value] if isinstance(value, list) else []


def _details(cursor, *, permitted, permitted_params, chunk_ids) -> dict[int, dict]:
    if not chunk_ids:
        return {}
    # Joined to the permitted set again: a hit is only described if it is still readable.
    cursor.execute(
        f"""
        WITH {permitted}
        SELECT c.id, c.document_id, c.version_id, d.external_id, d.title, v.number, c.page, c.locator,
               c.heading_path, c.text, c.char_start, c.char_end, COALESCE(v.ready_at, d.updated_at),
               c.ocr_confidence
          FROM documents_chunk c
          JOIN permitted p ON p.version_id = c.version_id
          JOIN documents_document d ON d.id = c.document_id
          JOIN documents_documentversion v ON v.id = c.version_id
         WHERE c.id = ANY(%s)
        """,
        [*permitted_params, chunk_ids],
    )
    details = {}
    for row in cursor.fetchall():
        cid, doc_id, version_id, external_id, title, number, page, locator, heading, text, start, end, updated, ocr = (
            row
        )
        details[cid] = {
            "chunk_id": cid,
            "document_id": doc_id,
            "version_id": version_id,
            "external_id": external_id,
            "title": title,
            "version": number,
            "page": page,
            "locator": locator,
            "heading_path": _heading_path(heading),
            "text": text,
            "char_start": start,
            "char_end": end,
            "document_updated_at": updated,
            "ocr_confidence": ocr,
        }
    return details
