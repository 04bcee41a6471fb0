"""The Prometheus exposition served at /metrics.

Two kinds:
* Events counted in the process where they happen (citadel.core.metrics).
* State read from the database at scrape time (queue depth, task and document counts, worker
  heartbeats, model calls, tokens and cost from PromptLog): the same answer whichever process
  is scraped, and no bookkeeping to lose when a process dies.
"""

import logging
import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector:
    """State read from the database at scrape time. A failing query drops its family and sets
    citadel_metrics_database_up to 0 rather than failing the scrape."""

    def collect(self):
        from citadel.ops import selectors

        up = 1
        try:
            yield from self._queues(selectors)
            yield from self._workers(selectors)
            yield from self._documents(selectors)
            yield from self._model_calls(selectors)
        except Exception:  # noqa: BLE001 - process metrics must still be served when the database is down
            logger.exception("metrics.database_collect_failed")
            up = 0
        yield GaugeMetricFamily("citadel_metrics_database_up", "Whether the database-backed metrics were read.", up)

    def _queues(self, selectors):
        depth = GaugeMetricFamily("citadel_task_queue_depth", "Tasks ready to run, per queue.", labels=["queue"])
        for queue, n in selectors.queue_depths(scope=None).items():
            depth.add_metric([queue], n)
        yield depth
        if selectors.uses_database_queue():
            tasks = GaugeMetricFamily("citadel_tasks", "Task rows per queue and status.", labels=["queue", "status"])
            for (queue, status), n in sorted(selectors.task_status_counts().items()):
                tasks.add_metric([queue, status.lower()], n)
            yield tasks
            yield GaugeMetricFamily(
                "citadel_tasks_stuck",
                "Running tasks whose worker stopped sending heartbeats.",
                selectors.stuck_task_count(),
            )

    def _workers(self, selectors):
        workers = GaugeMetricFamily("citadel_workers", "Workers by heartbeat freshness.", labels=["state"])
        for state, n in selectors.heartbeat_counts().items():
            workers.add_metric([state], n)
        yield workers

    def _documents(self, selectors):
        docs = GaugeMetricFamily(
            "citadel_document_versions", "Document versions per ingestion state.", labels=["state"]
        )
        for state, n in sorted(selectors.documents_per_state().items()):
            docs.add_metric([state], n)
        yield docs

    def _model_calls(self, selectors):
        calls = CounterMetricFamily("citadel_model_calls", "Model calls.", labels=["provider", "status"])
        tokens = CounterMetricFamily("citadel_model_tokens", "Model tokens.", labels=["provider", "direction"])
        cost = CounterMetricFamily("citadel_model_cost_usd", "Model cost in US dollars.", labels=["provider"])
        latency = HistogramMetricFamily(
            "citadel_model_call_duration_seconds", "Model call latency.", labels=["provider", "status"]
        )
        per_provider: dict[str, dict] = {}
        for row in selectors.model_call_stats():
            provider, status = row["provider"], row["status"]
            calls.add_metric([provider, status], row["calls"])
            totals = per_provider.setdefault(provider, {"in": 0, "out": 0, "cost": 0.0})
            totals["in"] += row["tokens_in"] or 0
            totals["out"] += row["tokens_out"] or 0
            totals["cost"] += float(row["cost_usd"] or 0)
            buckets = [(str(b / 1000), row[f"le_{b}"]) for b in selectors.LATENCY_BUCKETS_MS]
            buckets.append(("+Inf", row["timed"]))
            latency.add_metric([provider, status], buckets, (row["latency_ms_sum"] or 0) / 1000)
        for provider, totals in sorted(per_provider.items()):
            tokens.add_metric([provider, "in"], totals["in"])
            tokens.add_metric([provider, "out"], totals["out"])
            cost.add_metric([provider], totals["cost"])
        yield from (calls, tokens, cost, latency)


def render() -> bytes:
    """The full exposition: in-process (or all processes') event metrics, then database state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        events = generate_latest(registry)
    else:
        events = generate_latest(REGISTRY)
    return events + generate_latest(DatabaseCollector())
