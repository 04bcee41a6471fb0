"""gunicorn for Citadel: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Every value can be overridden from the environment (GUNICORN_WORKERS, ...). Sizing: web workers
are processes (CPU-bound template rendering, retrieval SQL waits) with a few threads each for I/O
waits (database, model providers). Answers that stream hold a thread for the whole generation, so
raise GUNICORN_THREADS (or put the streaming endpoint behind uvicorn) when many users ask at once.

Each process keeps a pool of up to CITADEL_DB_POOL_MAX database connections (on by default;
CITADEL_DB_POOL=0 opens one per thread and request instead). Keep workers x that under
PostgreSQL's max_connections, or put PgBouncer (transaction mode) in between.
"""

import multiprocessing
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104 - a container's port, behind the proxy
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request slower than this is killed and its worker replaced; model calls have their own
# (shorter) timeout, CITADEL_PROVIDER_TIMEOUT_SECONDS, so only a wedged worker reaches this.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak (a big PDF's parse, a model client's buffers) never
# accumulates; the jitter keeps them from restarting together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Import the app before forking: faster worker starts, shared memory pages.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs: JSON lines on stderr, like the application's own.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "citadel.core.gunicorn_logging.JsonAccessLogger"

# Prometheus: each worker process writes its counters to files here and /metrics adds them up.
# It must exist before the app is imported (preload_app imports it in the master, before any hook).
_data_dir = Path(os.environ.get("CITADEL_DATA_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_data_dir / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def on_starting(server):
    # Counters of a previous run must not leak into this one. The master's own files go too;
    # the master serves no requests, the workers forked after this write fresh ones.
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
