"""Filtered dense retrieval: recall@10 and latency under permission filters of every selectivity.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/retrieval_filtered.py --chunks 100000
    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/retrieval_filtered.py --chunks 1000000 --queries 100

The main organization holds --chunks synthetic 384-d chunks (100 per document, clustered vectors:
each document draws from one of 2,000 topics), and three other organizations hold 5% each more, all in
the one HNSW index. Principals of the main organization may read 100%, 10%, 1% and 0.1% of its
documents (team and user grants over randomly chosen documents). For each principal and query:

* truth: exact cosine of the permitted set over the single-precision vectors as generated (numpy,
  when this run loaded them; with --reuse, an exact scan of the stored half-precision vectors);
* exact halfvec: the exact scan of the stored half-precision vectors, against that truth (what
  storing in half precision costs before any index);
* citadel: retrieval.services.dense_leg (bounded count, then exact scan, or HNSW with iterative scans
  joined, under a restrictive filter, by an exact scan of the permitted documents whose centroids
  lie nearest the query);
* naive: HNSW ORDER BY ... LIMIT 10 with the permission WHERE at pgvector's default settings.

Recall@10 is against the truth; latency is wall time per query including the permission CTE.
Data are loaded with COPY (binary vectors) into the database of CITADEL_DATA_DIR, which this script
owns: use a data dir of its own. --reuse skips loading when the data are already there.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from _pg import ensure_shared_buffers  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from pgvector import HalfVector  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from citadel.accounts.models import Organization  # noqa: E402
from citadel.accounts.selectors import principal_for  # noqa: E402
from citadel.accounts.services import organization_create, team_get_or_create, user_create_or_join  # noqa: E402
from citadel.documents.access import readable_versions_sql  # noqa: E402
from citadel.retrieval.services import dense_leg  # noqa: E402
from citadel.retrieval.settings import RetrievalSettings  # noqa: E402

DIM = 384
CHUNKS_PER_DOC = 100
TOPICS = 2000
MODEL = "bench-synthetic-384"
FRACTIONS = [("100%", 1.0), ("10%", 0.1), ("1%", 0.01), ("0.1%", 0.001)]
OTHER_ORGS = 3
OTHER_SHARE = 0.05


def log(*args):
    print(*args, flush=True)


class Space:
    """Synthetic embeddings with the low intrinsic dimension of real sentence embeddings: topics,
    documents and chunks nest in a 32-d latent space, projected to 384-d plus a little isotropic
    noise. (Isotropic 384-d noise alone makes every neighbour equally far: no index finds a
    meaningful top 10 there, and no embedding model produces it.)"""

    LATENT = 32

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.projection = rng.standard_normal((self.LATENT, DIM)).astype(np.float32) / np.sqrt(self.LATENT)
        self.topics = rng.standard_normal((TOPICS, self.LATENT)).astype(np.float32)

    def documents(self, rng, count: int) -> np.ndarray:
        topics = rng.integers(0, TOPICS, size=count)
        return self.topics[topics] + 0.6 * rng.standard_normal((count, self.LATENT)).astype(np.float32)

    def chunks(self, rng, documents: np.ndarray) -> np.ndarray:
        latent = documents + 0.6 * rng.standard_normal(documents.shape).astype(np.float32)
        v = latent @ self.projection + 0.1 * rng.standard_normal((len(latent), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def load_org(slug: str, chunks: int, space: Space, rng, keep: tuple | None = None) -> Organization:
    """`keep`, (chunk ids, vectors) arrays of the organization's size, receives the vectors in single
    precision as generated, for the truth."""
    org = organization_create(slug=slug, name=slug)
    Organization.objects.filter(pk=org.pk).update(embedding_model=MODEL)
    docs = max(1, chunks // CHUNKS_PER_DOC)
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM documents_document")
        doc_base = cur.fetchone()[0] + 1
        cur.execute("SELECT coalesce(max(id), 0) FROM documents_documentversion")
        ver_base = cur.fetchone()[0] + 1
        cur.execute("SELECT coalesce(max(id), 0) FROM documents_chunk")
        chunk_base = cur.fetchone()[0] + 1
    pg = connection.connection
    t0 = time.perf_counter()
    with transaction.atomic():
        with pg.cursor() as cur:
            with cur.copy(
                "COPY documents_document (id, external_id, title, sensitive, created_at, updated_at, organization_id)"
                " FROM STDIN"
            ) as copy:
                for d in range(docs):
                    copy.write_row([doc_base + d, f"doc-{d}", f"Document {d}", False, now, now, org.pk])
            with cur.copy(
                "COPY documents_documentversion (id, number, file, original_filename, sha256, size_bytes, content_type,"
                " status, error_class, error_message, attempts, chunks_total, chunks_done, text, metadata, created_at,"
                " status_changed_at, ready_at, document_id) FROM STDIN"
            ) as copy:
                for d in range(docs):
                    copy.write_row(
                        [
                            ver_base + d,
                            1,
                            f"bench/{d}",
                            f"doc-{d}.txt",
                            uuid.uuid4().hex,
                            1,
                            "text/plain",
                            "ready",
                            "",
                            "",
                            1,
                            CHUNKS_PER_DOC,
                            CHUNKS_PER_DOC,
                            "",
                            "{}",
                            now,
                            now,
                            now,
                            doc_base + d,
                        ]
                    )
            with cur.copy(
                "COPY documents_chunk (id, ordinal, text, page, heading_path, char_start, char_end, content_hash,"
                " token_count, lexeme_count, organization_id, document_id, version_id) FROM STDIN"
            ) as copy:
                for i in range(docs * CHUNKS_PER_DOC):
                    d = i // CHUNKS_PER_DOC
                    copy.write_row(
                        [
                            chunk_base + i,
                            i % CHUNKS_PER_DOC,
                            "",
                            None,
                            "[]",
                            0,
                            0,
                            "",
                            0,
                            0,
                            org.pk,
                            doc_base + d,
                            ver_base + d,
                        ]
                    )
            log(f"  {slug}: documents, versions, chunks copied in {time.perf_counter() - t0:.1f}s")
            with cur.copy(
                "COPY documents_chunkembedding (model, dimensions, embedding, chunk_id, organization_id, version_id)"
                " FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["varchar", "int2", "halfvec", "int8", "int8", "int8"])
                batch = 20_000
                doc_latent = space.documents(rng, docs)
                for start in range(0, docs * CHUNKS_PER_DOC, batch):
                    ids = np.arange(start, min(start + batch, docs * CHUNKS_PER_DOC))
                    vectors = space.chunks(rng, doc_latent[ids // CHUNKS_PER_DOC])
                    if keep is not None:
                        keep[0][ids] = chunk_base + ids
                        keep[1][ids] = vectors
                    for i, v in zip(ids, vectors, strict=True):
                        d = int(i) // CHUNKS_PER_DOC
                        copy.write_row([MODEL, DIM, HalfVector(v), chunk_base + int(i), org.pk, ver_base + d])
            log(f"  {slug}: embeddings copied in {time.perf_counter() - t0:.1f}s")
            cur.execute(
                "UPDATE documents_document SET current_version_id = id - %s + %s WHERE id BETWEEN %s AND %s",
                [doc_base, ver_base, doc_base, doc_base + docs - 1],
            )
        for table in ("documents_document", "documents_documentversion", "documents_chunk", "documents_chunkembedding"):
            with connection.cursor() as c:
                c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    log(f"  {slug}: {docs} documents, {docs * CHUNKS_PER_DOC} chunks loaded in {time.perf_counter() - t0:.1f}s")
    return org


def grant_fraction(org: Organization, rng, label: str, fraction: float) -> str:
    """A principal who may read `fraction` of the organization's documents; returns the username."""
    username = f"reader-{label.replace('%', 'pct').replace('.', '_')}"
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM documents_document WHERE organization_id = %s ORDER BY id", [org.pk])
        doc_ids = np.array([r[0] for r in cur.fetchall()])
    chosen = (
        doc_ids if fraction >= 1 else rng.choice(doc_ids, size=max(1, round(len(doc_ids) * fraction)), replace=False)
    )
    if fraction >= 0.01:
        team = team_get_or_create(organization=org, name=f"team-{label}")
        user_create_or_join(username=username, organization=org, role="member", teams=[team.name])
        rows = [(int(d), "team", team.pk, None) for d in chosen]
    else:
        user, _ = user_create_or_join(username=username, organization=org, role="member")
        rows = [(int(d), "user", None, user.pk) for d in chosen]
    with connection.connection.cursor() as cur, transaction.atomic():
        with cur.copy(
            "COPY documents_accessgrant (document_id, scope, team_id, user_id, created_at) FROM STDIN"
        ) as copy:
            now = timezone.now()
            for row in rows:
                copy.write_row([*row, now])
    return username


def build_index(m: int, ef_construction: int, memory: str) -> dict:
    """`memory` (maintenance_work_mem) must hold the whole graph, or the build spills and slows many times."""
    with connection.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS retrieval_embedding_hnsw_384")
        cur.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        cur.execute("SET max_parallel_maintenance_workers = 2")
        t0 = time.perf_counter()
        cur.execute(
            "CREATE INDEX retrieval_embedding_hnsw_384 ON documents_chunkembedding"
            " USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops)"
            f" WITH (m = {int(m)}, ef_construction = {int(ef_construction)}) WHERE dimensions = 384"
        )
        seconds = time.perf_counter() - t0
        cur.execute("VACUUM ANALYZE documents_chunkembedding")
        cur.execute("ANALYZE")
        cur.execute(
            "SELECT pg_relation_size('retrieval_embedding_hnsw_384'), pg_total_relation_size('documents_chunkembedding')"
        )
        index_bytes, table_bytes = cur.fetchone()
    return {"build_seconds": seconds, "index_bytes": index_bytes, "table_bytes": table_bytes}


def prewarm() -> None:
    """Without it, the first queries after a restart read the graph from the page cache or disk: at
    5M chunks a hundred queries touch too little of it to show the latency of a warm server."""
    with connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        t0 = time.perf_counter()
        cur.execute("SELECT pg_prewarm('retrieval_embedding_hnsw_384')")
        blocks = cur.fetchone()[0]
    log(f"prewarmed {blocks * 8 / 1024:.0f} MiB of index in {time.perf_counter() - t0:.1f}s")


def report_build(index: dict, args) -> None:
    log(
        f"HNSW build (m={args.m}, ef_construction={args.ef_construction}, 2 parallel workers): "
        f"{index['build_seconds']:.1f}s, index {index['index_bytes'] / 2**20:.0f} MiB, "
        f"table+toast+indexes {index['table_bytes'] / 2**20:.0f} MiB"
    )


def exact(principal, vector, k: int) -> list[int]:
    sql, params = readable_versions_sql(principal)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute(
            f"""
            WITH permitted AS ({sql})
            SELECT e.chunk_id FROM documents_chunkembedding e JOIN permitted p ON p.version_id = e.version_id
             WHERE e.model = %s AND e.dimensions = 384
             ORDER BY e.embedding::halfvec(384) <=> %s::halfvec(384), e.chunk_id LIMIT %s
            """,
            [*params, MODEL, vector, k],
        )
        return [r[0] for r in cur.fetchall()]


NAIVE_SQL = """
    WITH permitted AS ({sql})
    SELECT e.chunk_id FROM documents_chunkembedding e
     WHERE e.dimensions = 384 AND e.model = %s
       AND e.version_id IN (SELECT version_id FROM permitted)
     ORDER BY e.embedding::halfvec(384) <=> %s::halfvec(384) LIMIT %s
"""


def naive(principal, vector, k: int) -> list[int]:
    sql, params = readable_versions_sql(principal)
    with connection.cursor() as cur:
        cur.execute(NAIVE_SQL.format(sql=sql), [*params, MODEL, vector, k])
        return [r[0] for r in cur.fetchall()]


def naive_plan(principal, vector) -> str:
    sql, params = readable_versions_sql(principal)
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + NAIVE_SQL.format(sql=sql), [*params, MODEL, vector, 10])
        plan = "\n".join(r[0] for r in cur.fetchall())
    return "hnsw" if "retrieval_embedding_hnsw_384" in plan else "no index"


def citadel(principal, q, n, settings) -> tuple[list[int], str]:
    hits, plan = dense_leg(principal=principal, vector=q.tolist(), n=n, settings=settings)
    return [h.chunk_id for h in hits], plan["dense_mode"]


def measure(queries, truths, k, run) -> tuple[float, float, float, str]:
    """Mean recall@k against the truths, p50 and p95 milliseconds, and the dense modes used."""
    recalls, times, modes = [], [], set()
    for q, truth in zip(queries, truths, strict=True):
        t0 = time.perf_counter()
        ids, mode = run(q)
        times.append((time.perf_counter() - t0) * 1000)
        modes.add(mode)
        recalls.append(len(set(ids[:k]) & set(truth)) / max(1, len(truth)))
    return statistics.mean(recalls), pct(times, 50), pct(times, 95), "/".join(sorted(modes))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks of the main organization")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="keep data loaded by an earlier run")
    parser.add_argument("--sweep", action="store_true", help="also time forced exact and forced HNSW per fraction")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--maintenance-work-mem", default="4GB", help="for the HNSW build: above the index's size (5M chunks: 8GB)"
    )
    parser.add_argument("--m", type=int, default=12, help="HNSW m (the 384-d index: 12)")
    parser.add_argument("--ef-construction", type=int, default=128, help="HNSW ef_construction (migration: 128)")
    parser.add_argument("--rebuild-index", action="store_true", help="with --reuse: rebuild the HNSW index")
    parser.add_argument(
        "--prewarm",
        action="store_true",
        help="read the HNSW index into shared_buffers first (pg_prewarm), as a serving database's is",
    )
    parser.add_argument(
        "--shared-buffers",
        default="4GB",
        help="PostgreSQL shared_buffers for this data dir (set with ALTER SYSTEM, server restarted); '' keeps it",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    space = Space(args.seed)
    ensure_shared_buffers(args.shared_buffers, log)
    call_command("migrate", verbosity=0)  # first: a fresh database has no vector type yet
    connection.ensure_connection()
    register_vector(connection.connection)
    main_slug = f"bench-{args.chunks}"
    if not (args.reuse and Organization.objects.filter(slug=main_slug).exists()):
        log(f"loading {args.chunks} chunks (+{OTHER_ORGS} x {OTHER_SHARE:.0%} in other organizations)")
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE documents_chunkembedding, documents_chunk, documents_documentversion, documents_accessgrant,"
                " documents_document, retrieval_lexicalcorpus, retrieval_lexicalterm CASCADE"
            )
        Organization.objects.filter(slug__startswith="bench-").delete()
        with connection.cursor() as cur:
            # Built once after loading: far faster than growing the graph row by row.
            cur.execute("DROP INDEX IF EXISTS retrieval_embedding_hnsw_384")
        size = max(1, args.chunks // CHUNKS_PER_DOC) * CHUNKS_PER_DOC
        truth_vectors = (np.empty(size, dtype=np.int64), np.empty((size, DIM), dtype=np.float32))
        org = load_org(main_slug, args.chunks, space, rng, keep=truth_vectors)
        for i in range(OTHER_ORGS):
            load_org(f"bench-other-{i}-{args.chunks}", int(args.chunks * OTHER_SHARE), space, rng)
        users = {label: grant_fraction(org, rng, label, f) for label, f in FRACTIONS}
        report_build(build_index(args.m, args.ef_construction, args.maintenance_work_mem), args)
    else:
        truth_vectors = None
        org = Organization.objects.get(slug=main_slug)
        users = {label: f"reader-{label.replace('%', 'pct').replace('.', '_')}" for label, _ in FRACTIONS}
        if args.rebuild_index:
            report_build(build_index(args.m, args.ef_construction, args.maintenance_work_mem), args)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_relation_size('retrieval_embedding_hnsw_384')")
            log(f"reusing data; index {cur.fetchone()[0] / 2**20:.0f} MiB")

    if args.prewarm:
        prewarm()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM documents_chunkembedding")
        total = cur.fetchone()[0]
    log(
        f"index holds {total} vectors; main organization {args.chunks}; {args.queries} queries per principal, k={args.k}"
    )

    queries = space.chunks(rng, space.documents(rng, args.queries))
    settings = RetrievalSettings.for_organization(org)
    n = max(settings.candidates, args.k)
    from django.contrib.auth import get_user_model

    header = f"{'sees':>6} {'chunks':>8} | {'citadel recall':>14} {'p50 ms':>7} {'p95 ms':>7} {'mode':>6} | {'naive recall':>12} {'p50 ms':>7} {'p95 ms':>7} {'plan':>8}"
    log(header)
    for label, _fraction in FRACTIONS:
        principal = principal_for(user=get_user_model().objects.get(username=users[label]), organization=org)
        stored = [exact(principal, q, args.k) for q in queries]
        truths = stored if truth_vectors is None else exact_fp32(principal, truth_vectors, queries, args.k)
        for q in queries[:3]:  # warm caches for both methods alike
            dense_leg(principal=principal, vector=q.tolist(), n=n, settings=settings)
            naive(principal, q, args.k)

        c = measure(queries, truths, args.k, lambda q, p=principal: citadel(p, q, n, settings))
        nv = measure(queries, truths, args.k, lambda q, p=principal: (naive(p, q, args.k), ""))
        permitted = _permitted_chunks(principal)
        if truth_vectors is not None:
            halfvec_recall = statistics.mean(
                len(set(s_[: args.k]) & set(t)) / max(1, len(t)) for s_, t in zip(stored, truths, strict=True)
            )
            log(f"{label:>6} exact scan of the half-precision vectors against the truth: recall {halfvec_recall:.3f}")
        log(
            f"{label:>6} {permitted:>8} | {c[0]:>14.3f} {c[1]:>7.1f} {c[2]:>7.1f} {c[3]:>6} | "
            f"{nv[0]:>12.3f} {nv[1]:>7.1f} {nv[2]:>7.1f} {naive_plan(principal, queries[0]):>8}"
        )
        if args.sweep:
            for name, forced in (
                ("exact", RetrievalSettings.from_dict({**vars(settings), "exact_threshold": 10**9})),
                ("hnsw", RetrievalSettings.from_dict({**vars(settings), "exact_threshold": 0})),
            ):
                r = measure(queries, truths, args.k, lambda q, p=principal, s=forced: citadel(p, q, n, s))
                log(f"{'':>6} {'':>8} | forced {name:<5}: recall {r[0]:.3f} p50 {r[1]:.1f} ms p95 {r[2]:.1f} ms")


def exact_fp32(principal, truth_vectors, queries, k: int) -> list[list[int]]:
    """The permitted chunks nearest each query by cosine over the vectors as generated."""
    ids, vectors = truth_vectors
    sql, params = readable_versions_sql(principal)
    with connection.cursor() as cur:
        cur.execute(
            f"WITH permitted AS ({sql}) SELECT e.chunk_id FROM documents_chunkembedding e"
            " JOIN permitted p ON p.version_id = e.version_id ORDER BY e.chunk_id",
            params,
        )
        permitted = np.array([r[0] for r in cur.fetchall()], dtype=np.int64)
    rows = np.searchsorted(ids, permitted)
    unit = np.stack([q / np.linalg.norm(q) for q in queries]).astype(np.float32)
    # In blocks of rows, so that 5M permitted vectors are never copied whole.
    best = [(np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)) for _ in queries]
    for start in range(0, len(rows), 500_000):
        block = rows[start : start + 500_000]
        scores = vectors[block] @ unit.T
        for j in range(len(queries)):
            merged = np.concatenate([best[j][0], scores[:, j]])
            chunk_ids = np.concatenate([best[j][1], permitted[start : start + 500_000]])
            top = np.argsort(-merged, kind="stable")[:k]
            best[j] = (merged[top], chunk_ids[top])
    return [[int(c) for c in chunk_ids] for _, chunk_ids in best]


def _permitted_chunks(principal) -> int:
    sql, params = readable_versions_sql(principal)
    with connection.cursor() as cur:
        cur.execute(
            f"WITH permitted AS ({sql}) SELECT count(*) FROM documents_chunkembedding e"
            " JOIN permitted p ON p.version_id = e.version_id",
            params,
        )
        return cur.fetchone()[0]


if __name__ == "__main__":
    main()
