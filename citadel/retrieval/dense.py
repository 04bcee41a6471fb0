"""The dense leg: cosine distance over the organization's vectors, the permission filter inside the
statement. A per-query plan estimate chooses an exact scan (small permitted sets), the partial HNSW
index with iterative scans, or the graph walk joined by an exact scan of the permitted documents
whose centroids lie nearest the query (restrictive filters)."""

import math
import time

from citadel.retrieval.types import LegHit

# With document routing, the graph walk need not be as wide: measured on bench/retrieval_filtered.py,
# the union at ef_search 300 keeps all of the recall of 1000 at a third of the walk.
ROUTED_EF_SEARCH_CAP = 300
# Dimensions that have a partial HNSW index (documents migrations 0008 and 0009); others are scanned exactly.
INDEXED_DIMENSIONS = frozenset({384, 768, 1024, 1536})


def vector_literal(vector) -> str:
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


def dense_search(cursor, *, permitted, permitted_params, model, dimensions, vector, n, settings) -> tuple[list, dict]:
    # Chunk vectors are half precision (their index too); centroids single.
    half, vec = f"halfvec({dimensions})", f"vector({dimensions})"
    literal = vector_literal(vector)
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
            SELECT e.chunk_id, (e.embedding::{half} <=> %s::{half}) AS distance
              FROM permitted p JOIN documents_chunkembedding e ON e.version_id = p.version_id
             WHERE e.model = %s AND e.dimensions = %s
             ORDER BY (e.embedding::{half} <=> %s::{half}) + 0, e.chunk_id
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
            SELECT e.chunk_id, (e.embedding::{half} <=> %s::{half}) AS distance
              FROM documents_chunkembedding e
             WHERE e.dimensions = %s AND e.model = %s
               AND EXISTS (SELECT 1 FROM permitted p WHERE p.version_id = e.version_id)
             ORDER BY e.embedding::{half} <=> %s::{half}
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
                    SELECT e.chunk_id, (e.embedding::{half} <=> %s::{half}) AS distance
                      FROM nearest_documents r
                      JOIN documents_chunkembedding e ON e.version_id = r.version_id AND e.model = %s
                     ORDER BY (e.embedding::{half} <=> %s::{half}) + 0, e.chunk_id
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


def dense_scores(cursor, *, permitted, permitted_params, model, dimensions, vector, chunk_ids) -> dict[int, float]:
    """The cosine similarity of each of `chunk_ids` (permitted ones with a `model` vector) to the
    query. Fusion scores the lexical leg's finds with it."""
    if not chunk_ids:
        return {}
    half = f"halfvec({dimensions})"
    cursor.execute(
        f"""
        WITH {permitted}
        SELECT e.chunk_id, 1.0 - (e.embedding::{half} <=> %s::{half})
          FROM documents_chunkembedding e JOIN permitted p ON p.version_id = e.version_id
         WHERE e.chunk_id = ANY(%s) AND e.model = %s AND e.dimensions = %s
        """,
        [*permitted_params, vector_literal(vector), list(chunk_ids), model, dimensions],
    )
    return {cid: float(score) for cid, score in cursor.fetchall()}
