"""The lifecycle cleanup over a large index: its time, the sizes before and after, and asking's
latency during it against asking alone.

    CITADEL_DATA_DIR=/work/var-cleanupbench .venv/bin/python bench/versions_cleanup.py \
        --superseded 1000000 --live-chunks 100000 --clients 4 --seconds 30

1. Loads, as bench/ask_load.py does (its loader, the fake embedder, 384-d vectors in the one HNSW
   index every organization shares), organization "askbench" with --live-chunks current chunks,
   then --superseded chunk vectors of superseded versions: documents whose version 1 (100 chunks,
   their vectors and lexical fields) was superseded 60 days ago by a version 2 of one chunk.
   Autovacuum is switched off on the chunk and vector tables while the bench runs (restored at the
   end), so the sizes it prints are the cleanup's and the VACUUM's, not a background worker's.
2. Starts gunicorn as bench/ask_load.py does and measures asking alone (its `measure`).
3. Starts `manage.py versions_cleanup --org askbench` (a process of its own, as the maintenance
   worker runs it, at the worker's niceness) and, once it holds the organization's lock, measures
   asking again while it runs.
4. Prints the cleanup's time and counts, asking's p50/p95 alone, during the cleanup and after the
   VACUUM side by side, and the table and index sizes before the cleanup, after it, with --reindex
   after REINDEX INDEX CONCURRENTLY of the dense index (timed), and after a VACUUM of the two tables
   (timed). Without --reindex the VACUUM repairs the HNSW graph around each deleted vector itself,
   which is much slower (see the README's figures).

Use a data dir of its own: the script owns the "askbench" organization in it.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["CITADEL_EMBEDDER"] = "fake"

import ask_load  # noqa: E402 - after the environment it reads

CHUNKS_PER_VERSION = ask_load.CHUNKS_PER_DOC
TABLES = ("documents_chunkembedding", "documents_chunk")
DENSE_INDEX = "retrieval_embedding_hnsw_384"
LEXICAL_INDEX = "chunk_search_vector_gin"


def load_superseded(target: int) -> int:
    """Superseded chunk vectors of the askbench organization, topped up to `target`."""
    import random
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from citadel.accounts.models import Organization
    from citadel.documents.models import (
        AccessGrant,
        ChunkEmbedding,
        Document,
        DocumentVersion,
        GrantScope,
        VersionStatus,
    )
    from citadel.providers.embeddings import get_embedder

    org = Organization.objects.get(slug=ask_load.ORG)
    embedder = get_embedder(org.embedding_model)
    have = ChunkEmbedding.objects.filter(organization=org, version__status=VersionStatus.SUPERSEDED).count()
    rng = random.Random(have)
    vocab = ask_load.vocabulary(3000, random.Random(7))
    index = Document.objects.filter(organization=org, external_id__startswith="edited-").count()
    superseded_at = timezone.now() - timedelta(days=60)
    start = time.time()
    while have < target:
        with transaction.atomic():
            topic = ask_load.TOPICS[index % len(ask_load.TOPICS)]
            document = Document.objects.create(
                organization=org, external_id=f"edited-{index:07d}", title=f"{topic.title()} memo {index}"
            )
            AccessGrant.objects.create(document=document, scope=GrantScope.ORGANIZATION)
            texts = [
                " ".join(ask_load.sentence(rng, vocab, topic) for _ in range(3)) for _ in range(CHUNKS_PER_VERSION)
            ]
            versions = []
            for number, version_texts in ((1, texts), (2, [f"The {topic} memo {index} was withdrawn."])):
                versions.append(
                    ask_load.ready_version(
                        document=document, number=number, texts=version_texts, embedder=embedder, key=str(index)
                    )
                )
            old, new = versions
            DocumentVersion.objects.filter(pk=old.pk).update(
                status=VersionStatus.SUPERSEDED, status_changed_at=superseded_at
            )
            document.current_version = new
            document.save(update_fields=["current_version"])
        have += CHUNKS_PER_VERSION
        index += 1
        if index % 100 == 0:
            print(f"superseded: {have} chunk vectors ({time.time() - start:.0f}s)", file=sys.stderr)
    return have


def sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_relation_size(%s), pg_relation_size(%s),
                   pg_relation_size('documents_chunkembedding'), pg_total_relation_size('documents_chunkembedding'),
                   pg_relation_size('documents_chunk'), pg_total_relation_size('documents_chunk'),
                   (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'documents_chunkembedding'),
                   (SELECT count(*) FROM documents_chunkembedding)
            """,
            [DENSE_INDEX, LEXICAL_INDEX],
        )
        row = cursor.fetchone()
    mb = [round(v / 2**20, 1) for v in row[:6]]
    return {
        "dense_index_mb": mb[0],
        "lexical_index_mb": mb[1],
        "vector_table_mb": mb[2],
        "vector_table_total_mb": mb[3],
        "chunk_table_mb": mb[4],
        "chunk_table_total_mb": mb[5],
        "vector_dead_tuples": row[6],
        "vectors": row[7],
    }


def autovacuum(enabled: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = {str(enabled).lower()})")


def timed_sql(statements: list[str]) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return round(time.perf_counter() - started, 1)


def cleanup_started(since: float) -> float:
    """When the cleanup process took the organization's lock (it has started deleting): measuring
    from then leaves out its Python start-up."""
    from citadel.accounts.models import Organization
    from citadel.core.locks import session_lock_held
    from citadel.ingestion.cleanup import CLEANUP_LOCK

    organization_id = Organization.objects.get(slug=ask_load.ORG).pk
    while time.perf_counter() - since < 120 and not session_lock_held(CLEANUP_LOCK, organization_id):
        time.sleep(0.05)
    return time.perf_counter()


def server_start(args):
    """gunicorn with the production configuration, as bench/ask_load.py starts it."""
    from django.conf import settings

    env = {**os.environ, "CITADEL_EMBEDDER": "fake", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    off = {"limit": 0, "window": 60}
    env["CITADEL_RATE_LIMITS"] = json.dumps({name: off for name in ("ask_user", "ask_org", "login_user", "login_ip")})
    env |= {"GUNICORN_BIND": f"127.0.0.1:{args.port}"}
    log = open(settings.DATA_DIR / "versions_cleanup_server.log", "w")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "config.wsgi"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    import http.client

    for _ in range(120):
        try:
            http.client.HTTPConnection("127.0.0.1", args.port, timeout=2).request("GET", "/login/")
            break
        except OSError:
            time.sleep(0.5)
    return server, log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--superseded", type=int, default=1_000_000, help="Superseded chunk vectors to clean up.")
    parser.add_argument("--live-chunks", type=int, default=100_000, help="Current chunks asking searches.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=30, help="Each measurement's length.")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument(
        "--batch", type=int, help="CITADEL_VERSIONS_CLEANUP_BATCH for the cleanup (default: the setting's)."
    )
    parser.add_argument("--reindex", action="store_true", help="Also time REINDEX CONCURRENTLY of the dense index.")
    parser.add_argument("--shared-buffers", default="1GB")
    args = parser.parse_args()
    args.follow_ups = False

    ask_load.load(args.live_chunks)
    from _pg import ensure_shared_buffers

    ensure_shared_buffers(args.shared_buffers)
    superseded = load_superseded(args.superseded)
    autovacuum(False)
    server, server_log = server_start(args)
    report: dict = {
        "superseded_chunk_vectors": superseded,
        "live_chunks": args.live_chunks,
        "clients": args.clients,
        "embedder": "fake (deterministic hashing, 384-d)",
    }
    try:
        qs = ask_load.questions(250) + ask_load.answerable_questions(250)
        report["sizes_before"] = sizes()
        report["asking_alone"] = ask_load.measure(args, qs)
        env = {**os.environ, "CITADEL_EMBEDDER": "fake"}
        if args.batch:
            env["CITADEL_VERSIONS_CLEANUP_BATCH"] = str(args.batch)
        started = time.perf_counter()
        cleanup = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "manage.py", "versions_cleanup", "--org", ask_load.ORG, "--json"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        deleting_from = cleanup_started(started)
        report["asking_during_cleanup"] = ask_load.measure(args, qs)
        window_closed = time.perf_counter() - deleting_from
        output, _ = cleanup.communicate()
        seconds = time.perf_counter() - started
        deleted = json.loads(output)
        report["cleanup"] = {
            "seconds": round(seconds, 1),
            "chunks": deleted["chunks"],
            "vectors": deleted["vectors"],
            "versions": deleted["versions"],
            "batches": deleted["batches"],
            "seconds_in_cleanup": deleted["seconds"],
            "vectors_per_second": round(deleted["vectors"] / max(deleted["seconds"], 0.001)),
            # False: the cleanup ended before the measurement did, which then also counts asking alone.
            "ran_through_the_whole_window": deleted["seconds"] >= window_closed,
        }
        report["sizes_after_cleanup"] = sizes()
        if args.reindex:
            # pgvector's advice: a VACUUM repairs the HNSW graph around every deleted element, a
            # rebuild of what is left is faster; the VACUUM after it only clears the heap.
            report["reindex_seconds"] = timed_sql([f"REINDEX INDEX CONCURRENTLY {DENSE_INDEX}"])
            report["sizes_after_reindex"] = sizes()
        report["vacuum_seconds"] = timed_sql([f"VACUUM (ANALYZE) {table}" for table in TABLES])
        report["sizes_after_vacuum"] = sizes()
        report["asking_after_vacuum"] = ask_load.measure(args, qs)
        side = ("p50_ms", "p95_ms", "p99_ms", "throughput_rps", "errors")
        report["side_by_side"] = {
            key: {
                "alone": report["asking_alone"][key],
                "during_cleanup": report["asking_during_cleanup"][key],
                "after_vacuum": report["asking_after_vacuum"][key],
            }
            for key in side
        }
        print(json.dumps(report, indent=2))
    finally:
        autovacuum(True)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()


if __name__ == "__main__":
    main()
