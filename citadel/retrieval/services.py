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
* Lexical leg: Okapi BM25 (k1=1.2, b=0.75) over the English tsvector of each chunk, with document
  frequencies and average length taken from the organization's own statistics (retrieval.models).
* Fusion: weighted reciprocal rank fusion; every hit keeps both ranks and scores.
"""

import json
import logging
import math
import time
from dataclasses import dataclass, field, replace

from django.db import connection, connections, transaction

from citadel.accounts.models import Organization
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.core.principal import Principal
from citadel.documents.access import readable_versions_sql
from citadel.documents.lexical import TEXT_SEARCH_CONFIG
from citadel.ops.db import search_alias
from citadel.ops.metrics import RETRIEVAL_LATENCY
from citadel.providers.embeddings import get_embedder
from citadel.retrieval.types import Hit

logger = logging.getLogger(__name__)

# With document routing, the graph walk need not be as wide: measured on bench/retrieval_filtered.py,
# the union at ef_search 300 keeps all of the recall of 1000 at a third of the walk.
ROUTED_EF_SEARCH_CAP = 300
# Dimensions that have a partial HNSW index (retrieval migration 0002); others are scanned exactly.
INDEXED_DIMENSIONS = frozenset({384, 768, 1024, 1536})
MAX_K = 100
MAX_QUERY_CHARS = 2000
FILTER_KEYS = frozenset({"document_ids", "external_ids", "title"})


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs; an organization may override any of them in `retrieval_settings` (JSON)."""

    # Weighted RRF, tuned on demo/golden.jsonl (bench/retrieval_quality.py --tune): the lexical leg
    # counts a little more than the dense one.
    dense_weight: float = 0.75
    lexical_weight: float = 1.0
    rrf_k: int = 60
    # Candidates each leg contributes to fusion (at least k). 20 fused as well as 50 on the golden
    # set, and fewer candidates is what makes the filtered graph search cheap.
    candidates: int = 20
    # At or below this many permitted chunks the dense leg scans them all instead of the graph
    # (bench/retrieval_filtered.py: an exact scan of 20k chunks costs about what a filtered graph
    # search costs, and is never wrong).
    exact_threshold: int = 20_000
    # The graph search: candidate list size, and how far an iterative scan may go to fill k under
    # a restrictive filter before it gives up. 400: recall@10 0.988 over a million chunks where
    # 200 gave 0.972 (bench/retrieval_filtered.py, 100% readable).
    ef_search: int = 400
    max_scan_tuples: int = 40_000
    # A graph walk under a filter misses neighbours in documents it never reaches
    # (bench/retrieval_filtered.py: recall@10 0.95 when 10% of a million chunks are readable).
    # When the filter passes less than `route_below` of the graph, the dense leg also scans
    # exactly the chunks of the permitted documents whose centroids lie nearest the query, up to
    # `route_chunks` chunks, and keeps the better of both for each chunk. 0 turns it off.
    route_below: float = 0.5
    route_chunks: int = 3_000
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    # Up to this many chunks in the organization, every chunk sharing a query word is scored (exact
    # BM25). Above it, chunks are matched on the query's selective words (found in at most this
    # share of the chunks) and at most `lexical_max_candidates` are scored: a question made of
    # common words no longer costs a scan of the whole organization.
    lexical_exact_below: int = 20_000
    lexical_selective_df: float = 0.05
    lexical_max_candidates: int = 20_000

    @classmethod
    def from_dict(cls, values: dict) -> "RetrievalSettings":
        """Known keys of `values` over the defaults; other keys (chunking, ...) are ignored."""
        defaults = cls()
        known = {}
        for name in cls.__dataclass_fields__:
            if name in values:
                kind = type(getattr(defaults, name))
                try:
                    known[name] = kind(values[name])
                except (TypeError, ValueError):
                    raise InvalidInput(f"Retrieval setting {name} must be a {kind.__name__}.") from None
                if known[name] < 0:
                    raise InvalidInput(f"Retrieval setting {name} must not be negative.")
        return replace(defaults, **known)

    @classmethod
    def for_organization(cls, organization: Organization, overrides: dict | None = None) -> "RetrievalSettings":
        stored = organization.retrieval_settings if isinstance(organization.retrieval_settings, dict) else {}
        try:
            base = cls.from_dict(stored)
        except InvalidInput:
            base = cls()  # a broken stored value must not take search down
        if not overrides:
            return base
        if not isinstance(overrides, dict):
            raise InvalidInput("Retrieval settings must be an object.")
        return cls.from_dict({**{f: getattr(base, f) for f in cls.__dataclass_fields__}, **overrides})


@dataclass
class LegHit:
    chunk_id: int
    rank: int
    score: float


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
    {"external_ids": [...]}, {"title": "substring"}. `settings` overrides the organization's
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
            dense, plan = _dense_leg(
                cursor,
                permitted=permitted,
                permitted_params=permitted_params,
                model=organization.embedding_model,
                dimensions=len(query_vector),
                vector=query_vector,
                n=n,
                settings=settings,
            )
        lexical = _lexical_leg(
            cursor,
            permitted=permitted,
            permitted_params=permitted_params,
            organization_id=principal.organization_id,
            query=query,
            n=n,
            settings=settings,
        )
        fused = _fuse(dense, lexical, settings)
        wanted = {h.chunk_id for h in fused[:k]} | {h.chunk_id for h in dense[:k]} | {h.chunk_id for h in lexical[:k]}
        details = _details(cursor, permitted=permitted, permitted_params=permitted_params, chunk_ids=sorted(wanted))

    dense_by_id = {h.chunk_id: h for h in dense}
    lexical_by_id = {h.chunk_id: h for h in lexical}

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
            dense_score=d.score if d else None,
            lexical_score=lx.score if lx else None,
        )

    def build(items) -> list[Hit]:
        return [h for h in (hit(i.chunk_id, i.score) for i in items) if h is not None][:k]

    return SearchResult(hits=build(fused), dense=build(dense[:k]), lexical=build(lexical[:k]), plan=plan)


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
        return _dense_leg(
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
    if "title" in filters:
        if not isinstance(filters["title"], str):
            raise InvalidInput("title must be text.")
        sql.append("AND fd.title ILIKE %s")
        params.append("%" + filters["title"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return " ".join(sql), params


def _vector_literal(vector) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


# Plan estimates by permitted set, per process: (permitted chunks, indexed vectors, read at).
_estimates: dict[tuple, tuple[int, float | None, float]] = {}
ESTIMATE_SECONDS = 60.0
MAX_ESTIMATES = 10_000


def _plan_estimate(cursor, permitted: str, permitted_params: list, dimensions: int) -> tuple[int, float | None]:
    """How many chunks the permitted set holds (the permitted versions' chunk counts: one row per
    document, where counting vectors would cost one per chunk) and how many vectors the index
    holds (from the catalogue), which give the filter's selectivity.

    Only the choice of plan (exact, graph, graph + documents) rests on these, never what may be
    returned: every statement applies the permission filter itself. So a minute-old figure is
    good enough, and each process keeps it per permitted set instead of passing over the
    permitted documents on every query (2.8 ms for 1,000 of them, bench/ask_load.py)."""
    key = (permitted, repr(permitted_params), dimensions)
    now = time.monotonic()
    cached = _estimates.get(key)
    if cached is not None and now - cached[2] < ESTIMATE_SECONDS:
        return cached[0], cached[1]
    cursor.execute(
        f"""
        WITH {permitted}
        SELECT coalesce(sum(v.chunks_total), 0),
               (SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s))
          FROM permitted p JOIN documents_documentversion v ON v.id = p.version_id
        """,
        [*permitted_params, f"retrieval_embedding_hnsw_{dimensions}"],
    )
    estimate, indexed = cursor.fetchone()
    if len(_estimates) >= MAX_ESTIMATES:
        _estimates.clear()
    _estimates[key] = (int(estimate), indexed, now)
    return int(estimate), indexed


def _dense_leg(cursor, *, permitted, permitted_params, model, dimensions, vector, n, settings) -> tuple[list, dict]:
    vec = f"vector({dimensions})"
    literal = _vector_literal(vector)
    if dimensions in INDEXED_DIMENSIONS:
        permitted_chunks, indexed = _plan_estimate(cursor, permitted, permitted_params, dimensions)
        mode = "exact" if permitted_chunks <= settings.exact_threshold else "hnsw"
    else:
        permitted_chunks, indexed, mode = None, None, "exact"

    if mode == "exact":
        # "+ 0" keeps the planner off the HNSW index: here the exact scan is the point.
        cursor.execute(
            f"""
            WITH {permitted}
            SELECT e.chunk_id, (e.embedding::{vec} <=> %s::{vec}) AS distance
              FROM permitted p JOIN documents_chunkembedding e ON e.version_id = p.version_id
             WHERE e.model = %s AND e.dimensions = %s
             ORDER BY (e.embedding::{vec} <=> %s::{vec}) + 0, e.chunk_id
             LIMIT %s
            """,
            [*permitted_params, literal, model, dimensions, literal, n],
        )
    else:
        # Under a filter passing a fraction f of the graph, about n/f tuples stream past before n
        # pass: widen the candidate list with it (pgvector caps ef_search at 1000) so the walk
        # reaches far enough from the query. Iterative scans keep going until n pass or
        # max_scan_tuples is reached; relaxed_order output is re-sorted below.
        # reltuples is -1 until the table is first analysed: selectivity unknown, so route.
        known = bool(indexed and indexed > 0)
        selectivity = min(1.0, permitted_chunks / indexed) if known else 1.0
        ef_search = min(1000, max(settings.ef_search, n, math.ceil(10 * n / selectivity)))
        routed = settings.route_chunks > 0 and (selectivity < settings.route_below or not known)
        if routed:
            mode = "hnsw+documents"
            # The exact scan of the nearest documents covers what a narrower walk would add.
            ef_search = min(ef_search, ROUTED_EF_SEARCH_CAP)
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            " set_config('hnsw.max_scan_tuples', %s, true)",
            [str(ef_search), str(settings.max_scan_tuples)],
        )
        graph = f"""
            SELECT e.chunk_id, (e.embedding::{vec} <=> %s::{vec}) AS distance
              FROM documents_chunkembedding e
             WHERE e.dimensions = %s AND e.model = %s
               AND EXISTS (SELECT 1 FROM permitted p WHERE p.version_id = e.version_id)
             ORDER BY e.embedding::{vec} <=> %s::{vec}
             LIMIT %s"""
        graph_params = [literal, dimensions, model, literal, n]
        if not routed:
            cursor.execute(
                f"WITH {permitted} SELECT chunk_id, distance FROM ({graph}) graph ORDER BY distance, chunk_id",
                [*permitted_params, *graph_params],
            )
        else:
            # Documents by centroid distance, nearest first, until route_chunks chunks; their
            # chunks scanned exactly ("+ 0" keeps that scan off the HNSW index).
            cursor.execute(
                f"""
                WITH {permitted},
                graph AS ({graph}),
                nearest_documents AS (
                    SELECT version_id FROM (
                        SELECT c.version_id,
                               sum(c.chunks) OVER (ORDER BY c.embedding::{vec} <=> %s::{vec}, c.version_id)
                                 - c.chunks AS chunks_before
                          FROM permitted p
                          JOIN retrieval_versioncentroid c ON c.version_id = p.version_id AND c.model = %s
                         WHERE c.dimensions = %s) ranked
                     WHERE chunks_before < %s),
                routed AS (
                    SELECT e.chunk_id, (e.embedding::{vec} <=> %s::{vec}) AS distance
                      FROM nearest_documents r
                      JOIN documents_chunkembedding e ON e.version_id = r.version_id AND e.model = %s
                     ORDER BY (e.embedding::{vec} <=> %s::{vec}) + 0, e.chunk_id
                     LIMIT %s)
                SELECT chunk_id, min(distance) AS distance
                  FROM (SELECT * FROM graph UNION ALL SELECT * FROM routed) found
                 GROUP BY chunk_id
                 ORDER BY distance, chunk_id
                 LIMIT %s
                """,
                [
                    *permitted_params,
                    *graph_params,
                    literal,
                    model,
                    dimensions,
                    settings.route_chunks,
                    literal,
                    model,
                    literal,
                    n,
                    n,
                ],
            )
    rows = cursor.fetchall()
    hits = [LegHit(chunk_id=cid, rank=i, score=1.0 - float(dist)) for i, (cid, dist) in enumerate(rows, start=1)]
    return hits, {"dense_mode": mode, "permitted_chunks": permitted_chunks, "dimensions": dimensions}


@dataclass(frozen=True)
class _Term:
    lexeme: str
    df: int
    idf: float
    # The most this lexeme can add to any chunk's score (from LexicalTerm's bounds).
    ceiling: float


def _lexical_leg(cursor, *, permitted, permitted_params, organization_id, query, n, settings) -> list[LegHit]:
    """Okapi BM25 top n over the chunks holding a query word, pruned without changing it: passes
    that score only some of those chunks are kept when the rest provably cannot reach the top n
    (each word's ceiling, what it can add to any chunk at most, comes from LexicalTerm)."""
    cursor.execute(
        """
        SELECT corpus.chunk_count, GREATEST(corpus.total_length::float8 / corpus.chunk_count, 1.0),
               t.lexeme, t.df, t.max_tf, t.min_length
          FROM retrieval_lexicalcorpus corpus
          JOIN retrieval_lexicalterm t ON t.organization_id = corpus.organization_id AND t.df > 0
         WHERE corpus.organization_id = %s AND corpus.chunk_count > 0
           AND t.lexeme IN (SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)))
        """,
        [organization_id, TEXT_SEARCH_CONFIG, query],
    )
    rows = cursor.fetchall()
    if not rows:
        return []
    chunk_count, avgdl = rows[0][0], rows[0][1]
    k1, b = settings.bm25_k1, settings.bm25_b
    terms = []
    for _, _, lexeme, df, max_tf, min_length in rows:
        idf = math.log(1.0 + (chunk_count - df + 0.5) / (df + 0.5))
        if max_tf and min_length:
            # BM25's term weight grows with tf and shrinks with length: its value at the highest
            # count and the shortest chunk bounds every chunk's.
            ceiling = idf * max_tf * (k1 + 1) / (max_tf + k1 * (1 - b + b * min_length / avgdl))
        else:
            ceiling = idf * (k1 + 1)  # the limit of the term weight as tf grows
        terms.append(_Term(lexeme, df, idf, ceiling))
    terms.sort(key=lambda t: (t.df, t.lexeme))  # rarest first
    # Chunks are matched on the selective terms only (a word found in most chunks would make every
    # chunk a candidate, a scan of the organization); common terms still add to the scores of the
    # chunks matched. A query of common words only matches on its rarest one.
    selective = [
        t
        for t in terms
        if chunk_count <= settings.lexical_exact_below or t.df <= settings.lexical_selective_df * chunk_count
    ]
    match = selective or terms[:1]

    def top(matching: list[_Term], *, at_least_two: bool = False, limit: int | None = None) -> tuple[list, int]:
        return _bm25_top(
            cursor, permitted=permitted, permitted_params=permitted_params, terms=terms, match=matching,
            at_least_two=at_least_two, avgdl=avgdl, n=n, limit=limit or settings.lexical_max_candidates,
            settings=settings,
        )  # fmt: skip

    def beaten(score: float, ceiling: float) -> bool:
        # Strictly, with room for float rounding: a tie at the n-th place is decided by chunk id.
        return score > ceiling * (1 + 1e-9)

    postings = sum(t.df for t in match)
    if 2 <= len(match) <= CONJUNCTIVE_MAX_WORDS and postings >= CONJUNCTIVE_PASS_FROM:
        # First the chunks holding two or more of the matched words: usually few, and the best.
        # Any other chunk holds one matched word at most, so it scores at most the highest ceiling
        # of a matched word plus the ceilings of the unmatched ones.
        hits, scored = top(match, at_least_two=True, limit=CONJUNCTIVE_MAX_CANDIDATES)
        single = max(t.ceiling for t in match) + sum(t.ceiling for t in terms if t not in match)
        if scored < CONJUNCTIVE_MAX_CANDIDATES and len(hits) >= n and beaten(hits[-1].score, single):
            return hits
    # MaxScore: the rarest words first, then only the words that can still lift a chunk.
    rare = [match[0]]
    for term in match[1:]:
        if sum(t.df for t in rare) + term.df > PRUNED_PASS_POSTINGS:
            break
        rare.append(term)
    hits, _ = top(rare)
    if len(rare) == len(match):
        return hits
    # The cheapest words whose ceilings add up to less than the n-th score found cannot lift a
    # chunk holding only them into the top n. The second pass matches the other words.
    threshold = hits[-1].score if len(hits) >= n else 0.0
    non_essential, ceiling = set(), 0.0
    for term in sorted(terms, key=lambda t: t.ceiling):
        ceiling += term.ceiling
        if not beaten(threshold, ceiling):
            break
        non_essential.add(term.lexeme)
    essential = [t for t in match if t.lexeme not in non_essential]
    if {t.lexeme for t in essential} <= {t.lexeme for t in rare}:
        return hits  # every chunk that can reach the top n was scored in the first pass
    return top(essential)[0]


# Postings (chunks per word, summed) the first, pruned pass of the lexical leg may match. On
# bench/ask_load.py's 100,000 chunks, 6,000 lets a question of several rare words finish in one pass
# (26 ms, where 2,000 took two passes and 38 ms) and still keeps a common word out of it.
PRUNED_PASS_POSTINGS = 6_000
# The pass over chunks holding two matched words is tried when the matched words' postings reach
# this (below it, scoring them all is about as cheap), for up to this many words (it matches every
# pair), and it is given up when it finds this many chunks (common words that often meet).
CONJUNCTIVE_PASS_FROM = 1_000
CONJUNCTIVE_MAX_WORDS = 12
CONJUNCTIVE_MAX_CANDIDATES = 2_000


def _tsquery_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _bm25_top(
    cursor, *, permitted, permitted_params, terms, match, at_least_two, avgdl, n, limit, settings
) -> tuple[list[LegHit], int]:
    """The n best BM25 scores over all `terms` among the permitted chunks holding a `match` word
    (two of them with `at_least_two`), and how many chunks were scored (at most `limit`)."""
    words = [_tsquery_lexeme(t.lexeme) for t in match]
    if at_least_two:
        matching = " | ".join(f"({a} & {b})" for i, a in enumerate(words) for b in words[i + 1 :])
    else:
        matching = " | ".join(words)
    cursor.execute(
        f"""
        WITH {permitted},
        terms AS (SELECT * FROM unnest(%s::text[], %s::float8[]) AS t(lexeme, idf)),
        candidates AS (
            SELECT c.id, c.search_vector, c.lexeme_count
              FROM documents_chunk c JOIN permitted p ON p.version_id = c.version_id
             WHERE c.search_vector @@ %s::tsquery
             LIMIT %s)
        SELECT c.id,
               sum(t.idf * (tf.v * (%s + 1)) / (tf.v + %s * (1 - %s + %s * c.lexeme_count / %s))) AS score,
               count(*) OVER ()
          FROM candidates c
         -- Only the query's lexemes of each candidate are unnested (marked with weight A, then
         -- filtered): unnesting whole vectors made some 35 rows per candidate for the join to
         -- discard. The join below still keeps query terms only, so weights stored on other
         -- lexemes cannot change a score.
         CROSS JOIN LATERAL unnest(ts_filter(setweight(c.search_vector, 'A', %s::text[]), ARRAY['a']::"char"[])) u
          JOIN terms t ON t.lexeme = u.lexeme
         CROSS JOIN LATERAL (SELECT COALESCE(array_length(u.positions, 1), 1)::float8 AS v) tf
         GROUP BY c.id
         ORDER BY score DESC, c.id
         LIMIT %s
        """,
        [
            *permitted_params,
            [t.lexeme for t in terms],
            [t.idf for t in terms],
            matching,
            limit,
            settings.bm25_k1,
            settings.bm25_k1,
            settings.bm25_b,
            settings.bm25_b,
            avgdl,
            [t.lexeme for t in terms],
            n,
        ],
    )
    rows = cursor.fetchall()
    hits = [LegHit(chunk_id=cid, rank=i, score=float(s)) for i, (cid, s, _) in enumerate(rows, start=1)]
    return hits, rows[0][2] if rows else 0


def _fuse(dense: list[LegHit], lexical: list[LegHit], settings: RetrievalSettings) -> list[LegHit]:
    scores: dict[int, float] = {}
    for weight, leg in ((settings.dense_weight, dense), (settings.lexical_weight, lexical)):
        for h in leg:
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + weight / (settings.rrf_k + h.rank)
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [LegHit(chunk_id=cid, rank=i, score=s) for i, (cid, s) in enumerate(ordered, start=1)]


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
        SELECT c.id, c.document_id, c.version_id, d.external_id, d.title, v.number, c.page, c.heading_path,
               c.text, c.char_start, c.char_end, COALESCE(v.ready_at, d.updated_at)
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
        cid, doc_id, version_id, external_id, title, number, page, heading, text, start, end, updated = row
        details[cid] = {
            "chunk_id": cid,
            "document_id": doc_id,
            "version_id": version_id,
            "external_id": external_id,
            "title": title,
            "version": number,
            "page": page,
            "heading_path": _heading_path(heading),
            "text": text,
            "char_start": start,
            "char_end": end,
            "document_updated_at": updated,
        }
    return details
