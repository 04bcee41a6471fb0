"""Load test: bulk ingestion with 1, 2 and 4 workers, and asking while a bulk upload runs.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/load_ingest_and_ask.py [--docs 5000]
        [--workers 1,2,4] [--askers 4] [--asks 10] [--embedder local|fake] [--json]

What it does, against the database the settings point at (the embedded one under
CITADEL_DATA_DIR unless DATABASE_URL is set), in fresh organizations named bench-<time>-...:

1. Ingestion throughput. For each worker count: upload --docs generated Markdown documents
   (workers stopped, so the ingestion queue fills), start that many `manage.py worker
   --queue-name ingestion` processes and time until every version is ready or failed.
   Reported: upload rate, wall time (worker start-up and model load included) and steady
   throughput (first to last document ready).
2. Asking under load. --askers threads each ask --asks questions through the same service the
   web page and the `ask` command use (retrieval + generation, in this process): first with
   nothing else running, then while a second bulk upload of --docs documents is being ingested
   by two workers. Reported: p50/p95/max latency of each phase; the goal (--goal-p95-ms) holds
   if the loaded p95 stays under it.

The web tier is not in the loop: requests would add gunicorn's overhead, not contention.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOPICS = {
    "refunds": ["refund", "purchase", "receipt", "days", "store credit", "damaged", "exchange"],
    "travel": ["travel", "flight", "hotel", "per diem", "expense report", "mileage", "booking"],
    "security": ["password", "laptop", "VPN", "phishing", "badge", "encryption", "incident"],
    "leave": ["vacation", "sick leave", "parental leave", "holiday", "carry over", "manager", "calendar"],
    "onboarding": ["new hire", "buddy", "equipment", "training", "first week", "accounts", "checklist"],
    "payroll": ["salary", "payslip", "bonus", "tax", "bank account", "overtime", "pay date"],
}
QUESTIONS = [
    "How many days do customers have to request a refund?",
    "What is the per diem for travel abroad?",
    "What should I do if I receive a phishing email?",
    "How much vacation can I carry over to next year?",
    "What equipment does a new hire get in the first week?",
    "When is the pay date for overtime?",
    "Do I need a receipt for a store credit exchange?",
    "Who approves a hotel booking above the limit?",
]


def document(i: int, rng: random.Random) -> str:
    topic = rng.choice(list(TOPICS))
    words = TOPICS[topic]
    sentences = [
        f"Policy {i} covers {topic}.",
        *(
            f"For {rng.choice(words)}, employees must contact the {rng.choice(['HR', 'finance', 'IT', 'facilities'])} "
            f"team within {rng.randint(2, 60)} days and keep the {rng.choice(words)} on file."
            for _ in range(rng.randint(4, 9))
        ),
        f"Document reference BENCH-{i:06d}.",
    ]
    return f"# {topic.title()} policy {i}\n\n" + " ".join(sentences) + "\n"


def setup_org(slug: str):
    from citadel.accounts.selectors import principal_for
    from citadel.accounts.services import organization_create, user_create_or_join

    org = organization_create(slug=slug, name=slug)
    user, _ = user_create_or_join(username=f"{slug}-admin", organization=org, role="admin", password=None, teams=[])
    return org, principal_for(user=user, organization=org)


def upload(principal, count: int, seed: int) -> float:
    from django.core.files.base import ContentFile

    from citadel.documents.services import document_upload

    rng = random.Random(seed)
    started = time.perf_counter()
    for i in range(count):
        body = document(i, rng).encode()
        document_upload(principal=principal, file=ContentFile(body, name=f"policy-{i}.md"), filename=f"policy-{i}.md")
    return time.perf_counter() - started


def start_workers(n: int, embedder: str) -> list[subprocess.Popen]:
    env = os.environ | {"CITADEL_EMBEDDER": embedder, "LOG_LEVEL": "WARNING"}
    return [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "worker", "--queue-name", "ingestion", "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()


def wait_ingested(organization_id: int, count: int, timeout: float) -> dict:
    from django.db import close_old_connections
    from django.db.models import Count, Max, Min, Q

    from citadel.documents.models import DocumentVersion

    started = time.perf_counter()
    while True:
        close_old_connections()
        versions = DocumentVersion.objects.filter(document__organization_id=organization_id)
        stats = versions.aggregate(
            ready=Count("pk", filter=Q(status="ready")),
            failed=Count("pk", filter=Q(status="failed")),
            first=Min("ready_at"),
            last=Max("ready_at"),
        )
        if stats["ready"] + stats["failed"] >= count:
            break
        if time.perf_counter() - started > timeout:
            stats["timed_out"] = True
            break
        time.sleep(0.5)
    stats["wall_seconds"] = round(time.perf_counter() - started, 2)
    return stats


def ingestion_run(n_workers: int, docs: int, embedder: str, stamp: str, timeout: float) -> dict:
    org, principal = setup_org(f"bench-{stamp}-w{n_workers}")
    upload_seconds = upload(principal, docs, seed=n_workers)
    workers = start_workers(n_workers, embedder)
    try:
        stats = wait_ingested(org.pk, docs, timeout)
    finally:
        stop_workers(workers)
    steady = (stats["last"] - stats["first"]).total_seconds() if stats["first"] and stats["last"] else 0
    return {
        "workers": n_workers,
        "documents": docs,
        "ready": stats["ready"],
        "failed": stats["failed"],
        "timed_out": stats.get("timed_out", False),
        "upload_docs_per_s": round(docs / upload_seconds, 1),
        "wall_seconds": stats["wall_seconds"],
        "docs_per_s_wall": round(stats["ready"] / stats["wall_seconds"], 2) if stats["wall_seconds"] else None,
        "docs_per_s_steady": round((stats["ready"] - 1) / steady, 2) if steady > 0 else None,
        "organization": org.slug,
    }


def ask_phase(principal, askers: int, asks: int, until: threading.Event | None = None) -> dict:
    from django.db import connection

    from citadel.answers.services import answer_question

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def asker(k: int):
        rng = random.Random(k)
        try:
            for _ in range(asks):
                if until is not None and until.is_set():
                    break
                started = time.perf_counter()
                try:
                    answer = answer_question(principal=principal, text=rng.choice(QUESTIONS))
                    status = answer.status
                except Exception as exc:  # noqa: BLE001 - a load test counts failures instead of stopping
                    status = "error"
                    with lock:
                        errors.append(type(exc).__name__)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    threads = [threading.Thread(target=asker, args=(k,)) for k in range(askers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, statuses, errors, time.perf_counter() - started)


def summary(latencies: list[float], statuses: dict, errors: list[str], seconds: float) -> dict:
    if not latencies:
        return {"asks": 0}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "asks": len(latencies),
        "p50_ms": round(statistics.median(ordered) * 1000),
        "p95_ms": round(p95 * 1000),
        "max_ms": round(ordered[-1] * 1000),
        "asks_per_s": round(len(latencies) / seconds, 2),
        "statuses": statuses,
        "errors": sorted(set(errors)),
    }


def ask_under_load(args, stamp: str, ask_principal) -> dict:
    from citadel.answers.services import answer_question

    # Warm-up, not measured: the first question loads the embedding model into this process.
    answer_question(principal=ask_principal, text=QUESTIONS[0])
    quiet = ask_phase(ask_principal, args.askers, args.asks)
    bulk_org, bulk_principal = setup_org(f"bench-{stamp}-bulk")
    # The bulk upload itself runs beside the askers, as a user's upload would, then two workers
    # ingest it while the askers keep asking.
    done = threading.Event()
    bulk: dict = {}

    def bulk_upload_and_ingest():
        from django.db import connection

        try:
            bulk["upload_seconds"] = round(upload(bulk_principal, args.docs, seed=99), 2)
            workers = start_workers(2, args.embedder)
            try:
                bulk.update(wait_ingested(bulk_org.pk, args.docs, args.timeout))
            finally:
                stop_workers(workers)
        finally:
            done.set()
            connection.close()

    loader = threading.Thread(target=bulk_upload_and_ingest)
    loader.start()
    time.sleep(2)  # let the upload get going before the first question
    loaded = ask_phase(ask_principal, args.askers, args.asks)
    still_running = not done.is_set()
    loader.join()
    return {
        "quiet": quiet,
        "during_bulk_ingestion": loaded | {"bulk_still_running_at_end": still_running},
        "bulk": {k: v for k, v in bulk.items() if k in {"upload_seconds", "ready", "failed", "wall_seconds"}},
        "goal_p95_ms": args.goal_p95_ms,
        "goal_met": loaded.get("p95_ms", 0) <= args.goal_p95_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000, help="Documents per ingestion run (default 5000).")
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to measure (default 1,2,4).")
    parser.add_argument("--askers", type=int, default=4, help="Concurrent askers (default 4).")
    parser.add_argument("--asks", type=int, default=10, help="Questions per asker per phase (default 10).")
    parser.add_argument("--embedder", default=os.environ.get("CITADEL_EMBEDDER", "local"), choices=["local", "fake"])
    parser.add_argument(
        "--goal-p95-ms", type=int, default=300, help="Ask latency goal under load (default 300, as idle)."
    )
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for one ingestion run.")
    parser.add_argument("--skip-ask", action="store_true")
    parser.add_argument("--ask-org", help="Ask in this existing organization (default: the first ingestion run's).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["CITADEL_EMBEDDER"] = args.embedder

    import django

    django.setup()
    from django.core.management import call_command
    from django.tasks import task_backends
    from django_tasks_db import DatabaseBackend

    if not isinstance(task_backends["default"], DatabaseBackend):
        sys.exit("This benchmark measures the database queue: unset CITADEL_TASKS_BACKEND.")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    stamp = time.strftime("%Y%m%d%H%M%S")
    report: dict = {"documents": args.docs, "embedder": args.embedder, "cpus": os.cpu_count(), "ingestion": []}
    for n in [int(x) for x in args.workers.split(",") if x]:
        run = ingestion_run(n, args.docs, args.embedder, stamp, args.timeout)
        report["ingestion"].append(run)
        if not args.json:
            print(f"ingestion with {n} worker(s): {run}", flush=True)
    if not args.skip_ask:
        from citadel.accounts.models import Organization
        from citadel.accounts.selectors import principal_for

        source = Organization.objects.get(slug=args.ask_org or report["ingestion"][0]["organization"])
        admin = source.memberships.get(role="admin").user
        report["ask"] = ask_under_load(args, stamp, principal_for(user=admin, organization=source))
        if not args.json:
            print(f"asking: {json.dumps(report['ask'], indent=2)}", flush=True)
    if args.json:
        print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
