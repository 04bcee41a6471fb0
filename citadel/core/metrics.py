"""Prometheus event metrics, counted in the process where they happen (requests, task runs,
retrieval latency). Under gunicorn each worker process has its own; with PROMETHEUS_MULTIPROC_DIR
set (the gunicorn config sets it) prometheus-client writes them to files there and the scrape
(citadel.ops.metrics) adds them up across processes. Task workers on the same machine may share
the directory.

Other code observes retrieval latency with `RETRIEVAL_LATENCY.time()` (a context manager) or
`RETRIEVAL_LATENCY.observe(seconds)`.
"""

from prometheus_client import Counter, Histogram

REQUESTS = Counter("citadel_http_requests", "HTTP requests served.", ["view", "method", "status"])
REQUEST_LATENCY = Histogram(
    "citadel_http_request_duration_seconds",
    "Time to serve an HTTP request.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS_FINISHED = Counter("citadel_tasks_finished", "Background tasks finished.", ["task", "queue", "status"])
TASK_DURATION = Histogram(
    "citadel_task_duration_seconds",
    "Time a background task ran.",
    ["task", "queue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
RETRIEVAL_LATENCY = Histogram(
    "citadel_retrieval_duration_seconds",
    "Time to run one retrieval (vector + lexical + fusion).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
