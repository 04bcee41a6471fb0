"""Asking through HTTP under load: the extractive provider over a large synthetic corpus.

    CITADEL_DATA_DIR=/work/var-askbench .venv/bin/python bench/ask_load.py --chunks 100000 --clients 8 --seconds 60

1. Loads (once; --reuse-able by default) organization "askbench" with --chunks synthetic chunks:
   documents of 100 chunks, each chunk three sentences drawn from a 3,000-word vocabulary with
   topic words, embedded with the deterministic fake embedder (CITADEL_EMBEDDER=fake: no model
   download, and the server embeds queries with the same function so the dense leg is coherent),
   lexical fields filled by chunks_lexical_update, versions made current as ingestion does.
   The server gets --shared-buffers (1GB: the corpus's tables and indexes fit, as on a production
   server; the embedded default of 128MB sends most page reads to the OS).
2. Starts gunicorn with the production configuration (deploy/gunicorn.conf.py; --workers and --threads
   override its sizing) on 127.0.0.1 with the same data dir and embedder; its log goes to the data dir.
3. Runs --clients concurrent clients for --seconds: each logs in, then POSTs questions to the ask
   page as htmx does (the full path: retrieve, extractive answer, citation checks, answer,
   passages, citations, prompt log, review gate, receipt, audit event, rendered card).
4. Prints p50/p95/p99 latency, throughput, errors and the machine's CPU time per request as JSON.
   With --follow-ups every client alternates a first question and a follow-up in its thread ("and
   for <word>?", "who approves it?", ...: the thread id comes back in the response's HX-Trigger, as
   the page's script reads it), so the follow-up path (the thread locked and read, the rewrite) is
   measured too: twice the difference in CPU per request from a run without it, side by side, is
   what a follow-up costs more than a first question. Latency is then also given per kind.
5. With --ingest-docs N: N generated documents are uploaded into another organization first; after
   the idle measurement, --ingest-workers workers (real MiniLM, their default niceness) start,
   and once they have ingested a first document (model loaded) the same measurement runs again
   while they ingest the rest: questions during a bulk upload, side by side.

The ask and login rate limits (CITADEL["RATE_LIMITS"]) are switched off for the server under
test: one bench user asks and logs in far more often than they allow.

Use a data dir of its own: the script owns the "askbench" organization in it.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["CITADEL_EMBEDDER"] = "fake"

ORG = "askbench"
USER = "askbench-user"
PASSWORD = "askbench-password-1"  # noqa: S105 - a throwaway local account
CHUNKS_PER_DOC = 100
TOPICS = [
    "refund",
    "travel",
    "expense",
    "password",
    "laptop",
    "parking",
    "holiday",
    "parental",
    "security",
    "vendor",
    "invoice",
    "onboarding",
    "payroll",
    "pension",
    "insurance",
    "training",
    "badge",
    "printer",
    "meeting",
    "budget",
]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    return sorted(words)


def sentence(rng: random.Random, vocab: list[str], topic: str) -> str:
    words = rng.sample(vocab, 9)
    return (
        f"The {topic} {words[0]} requires {words[1]} {words[2]} within {rng.randint(2, 90)} days "
        f"for every {words[3]} {words[4]} and {words[5]} {words[6]} {words[7]} {words[8]}."
    )


def load(chunks: int) -> None:
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import transaction

    from citadel.accounts.models import Organization
    from citadel.accounts.services import organization_create, user_create_or_join
    from citadel.documents.models import (
        AccessGrant,
        Chunk,
        Document,
        GrantScope,
    )
    from citadel.providers.embeddings import get_embedder

    call_command("migrate", verbosity=0)  # a fresh data dir has no tables yet
    org = Organization.objects.filter(slug=ORG).first() or organization_create(slug=ORG, name="Ask bench")
    org.review_policy = "none"
    org.generation_provider = "extractive"
    org.save()
    user_create_or_join(username=USER, organization=org, role="member", password=PASSWORD, teams=[])
    have = Chunk.objects.filter(organization=org).count()
    if have >= chunks:
        print(f"reusing {have} chunks", file=sys.stderr)
        return
    embedder = get_embedder(org.embedding_model)
    rng = random.Random(7)
    vocab = vocabulary(3000, rng)
    start = time.time()
    doc_index = Document.objects.filter(organization=org).count()
    while have < chunks:
        with transaction.atomic():
            topic = TOPICS[doc_index % len(TOPICS)]
            document = Document.objects.create(
                organization=org, external_id=f"doc-{doc_index:06d}", title=f"{topic.title()} handbook {doc_index}"
            )
            AccessGrant.objects.create(document=document, scope=GrantScope.ORGANIZATION)
            texts = [" ".join(sentence(rng, vocab, topic) for _ in range(3)) for _ in range(CHUNKS_PER_DOC)]
            version = ready_version(document=document, number=1, texts=texts, embedder=embedder, key=ORG)
            document.current_version = version
            document.save(update_fields=["current_version"])
        have += CHUNKS_PER_DOC
        doc_index += 1
        if doc_index % 50 == 0:
            print(f"loaded {have} chunks in {time.time() - start:.0f}s", file=sys.stderr)


def ready_version(*, document, number: int, texts: list[str], embedder, key: str):
    """A ready version of `document` made of `texts`, its chunks embedded by `embedder` and their
    lexical fields filled, as ingestion leaves one (bench/versions_cleanup.py builds with it too).
    `key` makes the stored file's name unique."""
    import hashlib

    from django.utils import timezone

    from citadel.documents.lexical import chunks_lexical_update
    from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion, VersionStatus

    full = "\n\n".join(texts)
    sha = hashlib.sha256(f"{key}:{document.external_id}:{number}:{full}".encode()).hexdigest()
    version = DocumentVersion.objects.create(
        document=document, number=number, file=f"originals/bench/{sha}", original_filename=f"{document.external_id}.txt",
        sha256=sha, size_bytes=len(full), content_type="text/plain", status=VersionStatus.READY,
        chunks_total=len(texts), chunks_done=len(texts), text=full, ready_at=timezone.now(),
    )  # fmt: skip
    offset, rows = 0, []
    for ordinal, text in enumerate(texts):
        rows.append(
            Chunk(
                version=version,
                document=document,
                organization=document.organization,
                ordinal=ordinal,
                text=text,
                page=ordinal // 5 + 1,
                char_start=offset,
                char_end=offset + len(text),
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                token_count=embedder.count_tokens(text),
            )  # fmt: skip
        )
        offset += len(text) + 2
    rows = Chunk.objects.bulk_create(rows)
    ChunkEmbedding.objects.bulk_create(
        ChunkEmbedding(
            chunk=c,
            version=version,
            organization=document.organization,
            model=document.organization.embedding_model,
            dimensions=embedder.dimensions,
            embedding=v,
        )  # fmt: skip
        for c, v in zip(rows, embedder.embed(texts), strict=True)
    )
    chunks_lexical_update(version_id=version.pk)
    return version


def questions(n: int) -> list[str]:
    rng = random.Random(11)
    vocab = vocabulary(3000, random.Random(7))
    out = []
    for _ in range(n):
        topic = rng.choice(TOPICS)
        a, b = rng.sample(vocab, 2)
        # Topic words sit in 5% of chunks and vocabulary words in a few hundred. The sentence
        # template's own words ("requires", "within", "days", "every") are in every chunk, which
        # no real corpus does, so questions avoid them (see the report: a query made of words
        # present in all 100,000 chunks costs the lexical leg over a second).
        out.append(f"What does the {topic} policy say about {a} {b}?")
    return out


SENTENCE = re.compile(r"The (\w+) (\w+) requires (\w+) (\w+) within \d+ days for every (\w+) (\w+)")


def answerable_questions(n: int) -> list[str]:
    """Questions about the first sentence of n chunks picked at random: the extractive answerer
    finds that sentence and answers with a citation (the full path: citation checks, source
    comparison on the card), where the other questions mostly abstain."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.text FROM documents_chunk c JOIN accounts_organization o ON o.id = c.organization_id"
            " WHERE o.slug = %s ORDER BY md5(c.id::text) LIMIT %s",
            [ORG, n],
        )
        texts = [row[0] for row in cursor.fetchall()]
    out = []
    for text in texts:
        m = SENTENCE.match(text)
        if m:
            topic, w0, w1, w2, w3, w4 = m.groups()
            out.append(f"How long does the {topic} {w0} take for {w1} {w2} of {w3} {w4}?")
    return out


FOLLOW_UPS = [
    "and for {a}?",
    "what about {a} {b}?",
    "who approves it?",
    "is that per day?",
    "and {a}?",
    "does that apply to {a} too?",
]


def follow_up(rng: random.Random, vocab: list[str]) -> str:
    a, b = rng.sample(vocab, 2)
    return rng.choice(FOLLOW_UPS).format(a=a, b=b)


class Client(threading.Thread):
    def __init__(
        self, port: int, deadline: float, qs: list[str], results: list, lock: threading.Lock, follow_ups: bool = False
    ):
        super().__init__(daemon=True)
        self.port, self.deadline, self.qs, self.results, self.lock = port, deadline, qs, results, lock
        self.follow_ups = follow_ups
        self.vocab = vocabulary(3000, random.Random(7))
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def request(self, conn, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        status, page = self.request(conn, "GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token})
        self.request(
            conn,
            "POST",
            "/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.port}/login/"},
        )
        rng = random.Random(id(self))
        thread = None
        while time.time() < self.deadline:
            if thread is None:
                body = urllib.parse.urlencode({"question": rng.choice(self.qs)})
            else:
                body = urllib.parse.urlencode({"question": follow_up(rng, self.vocab), "thread": thread})
            kind = "first" if thread is None else "follow_up"
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
                "Referer": f"http://127.0.0.1:{self.port}/answers/",
            }
            started = time.perf_counter()
            try:
                status, data = self.request(conn, "POST", "/answers/", body, headers)
                ok = status == 200 and b"answer-card" in data
                answered = b"badge-answered" in data
                asked = json.loads(self.headers.get("hx-trigger") or "{}").get("thread-continued") if ok else None
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status, ok, answered, asked = 0, False, False, None
            elapsed = (time.perf_counter() - started) * 1000
            # A first question opens a thread its follow-up continues; the next pair starts afresh.
            thread = asked if self.follow_ups and kind == "first" else None
            with self.lock:
                self.results.append((elapsed, ok, status, answered, kind))


def measure(args, qs: list[str]) -> dict:
    """--clients clients asking for --warmup + --seconds; figures of the last --seconds."""
    results: list = []
    lock = threading.Lock()
    deadline = time.time() + args.warmup + args.seconds
    clients = [Client(args.port, deadline, qs, results, lock, args.follow_ups) for _ in range(args.clients)]
    for c in clients:
        c.start()
    time.sleep(args.warmup)
    with lock:
        results.clear()
    measured_from = time.time()
    busy_from, steal_from = cpu_jiffies()
    for c in clients:
        c.join()
    duration = time.time() - measured_from
    busy_to, steal_to = cpu_jiffies()
    latencies = sorted(r[0] for r in results)
    errors = sum(1 for r in results if not r[1])
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "seconds": round(duration, 1),
        "requests": len(results),
        "answered_with_citations": sum(1 for r in results if r[3]),
        "errors": errors,
        "error_statuses": sorted({r[2] for r in results if not r[1]}),
        "throughput_rps": round(len(results) / duration, 1),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        # CPU time the whole machine spent per request (server, database and these clients):
        # steadier than latency on a shared machine, whose neighbours show up as steal instead.
        "cpu_ms_per_request": round((busy_to - busy_from) * 1000 / TICKS / max(len(results), 1), 1),
        "steal_share": round((steal_to - steal_from) / TICKS / duration / os.cpu_count(), 3),
        **(
            {
                kind: {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1)}
                for kind in ("first", "follow_up")
                if (ms := [r[0] for r in results if r[4] == kind])
            }
            if args.follow_ups
            else {}
        ),
    }


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_jiffies() -> tuple[int, int]:
    """Busy and stolen jiffies of all CPUs since boot (/proc/stat: user nice system idle iowait
    irq softirq steal ...)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def measure_during_ingestion(args, qs: list[str]) -> dict:
    """The same measurement while --ingest-workers real workers (real MiniLM, default niceness)
    ingest the queued bulk upload; also how far the ingestion got meanwhile."""
    from load_ingest_and_ask import start_workers, stop_workers

    from citadel.documents.models import DocumentVersion

    def ready() -> int:
        # Every organization's documents but the one asked: tasks an interrupted earlier run left
        # queued are ingested first, and they are a bulk upload as well.
        return DocumentVersion.objects.filter(status="ready").exclude(document__organization__slug=ORG).count()

    workers = start_workers(args.ingest_workers, "local")
    try:
        # Long-running workers have their model loaded when an upload arrives: measure from the
        # first document ingested, not while they start.
        started = ready()
        for _ in range(600):
            if ready() > started:
                break
            time.sleep(0.5)
        before = ready()
        figures = measure(args, qs)
        figures["ingested_docs_per_s_meanwhile"] = round((ready() - before) / figures["seconds"], 2)
    finally:
        stop_workers(workers)
    figures["ingest_workers"] = args.ingest_workers
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--warmup", type=int, default=5, help="Seconds of load not counted.")
    parser.add_argument("--ingest-docs", type=int, default=0, help="Also measure while this many documents ingest.")
    parser.add_argument("--ingest-workers", type=int, default=2, help="Workers ingesting them (default 2).")
    parser.add_argument(
        "--answerable",
        type=float,
        default=0.5,
        help="Share of questions taken from a chunk's own sentence (default 0.5).",
    )
    parser.add_argument(
        "--follow-ups", action="store_true", help="Every other question follows up in the thread of the one before."
    )
    parser.add_argument(
        "--shared-buffers",
        default="1GB",
        help="PostgreSQL shared_buffers for this data dir (ALTER SYSTEM, server restarted once); '' keeps it",
    )
    args = parser.parse_args()

    load(args.chunks)
    from _pg import ensure_shared_buffers

    ensure_shared_buffers(args.shared_buffers)
    env = {**os.environ, "CITADEL_EMBEDDER": "fake", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    # One bench user asks (and logs in, once per client per run) far more often than the abuse
    # limits allow; this measures the answer path, so those limits are off for the server under test.
    off = {"limit": 0, "window": 60}
    env["CITADEL_RATE_LIMITS"] = json.dumps({name: off for name in ("ask_user", "ask_org", "login_user", "login_ip")})
    # The production configuration (deploy/gunicorn.conf.py); its sizing is overridable from here.
    env |= {"GUNICORN_BIND": f"127.0.0.1:{args.port}", "LOG_LEVEL": "WARNING"}
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    from django.conf import settings

    server_log = open(settings.DATA_DIR / "ask_load_server.log", "w")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "config.wsgi"],
        cwd=ROOT, env=env, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=2).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.5)
        answerable = round(500 * args.answerable)
        qs = questions(500 - answerable) + answerable_questions(answerable)
        report = {
            "chunks": args.chunks,
            "clients": args.clients,
            "gunicorn": {"workers": args.workers or "config default", "threads": args.threads or "config default"},
            "embedder": "fake (deterministic hashing, 384-d)",
            "provider": "extractive",
            "follow_ups": args.follow_ups,
        }
        if args.ingest_docs:
            # Queued before anything is measured, so the idle phase has no workers and the loaded
            # phase differs from it only by the workers ingesting.
            from load_ingest_and_ask import setup_org, upload

            _, uploader = setup_org(f"askbench-ingest-{int(time.time())}")
            upload(uploader, args.ingest_docs, seed=1)
        report["idle"] = measure(args, qs)
        if args.ingest_docs:
            report["during_bulk_upload"] = measure_during_ingestion(args, qs)
        print(json.dumps(report, indent=2))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()


if __name__ == "__main__":
    main()
