"""Retries with jitter and a circuit breaker for calls to external providers.

The breaker's state lives in the Django cache (the DatabaseCache), so every web process and
worker sees the same state: after BREAKER_FAILURES consecutive failed calls the circuit opens for
BREAKER_COOLDOWN_SECONDS and calls fail fast; after the cool-down one caller probes, and a success
closes it. A broken cache never blocks answers: the breaker then behaves as closed.
"""

import logging
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from citadel.providers.generation import ProviderUnavailable

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure worth retrying: timeout, connection refused, 429 or 5xx."""

    def __init__(self, message: str, *, retry_after: float | None = None, kind: str = "transient"):
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind


def knob(name: str, default):
    return settings.CITADEL.get(name, default)


class CircuitBreaker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._failures_key = f"citadel:breaker:{name}:failures"
        self._open_key = f"citadel:breaker:{name}:open_until"
        self._probe_key = f"citadel:breaker:{name}:probe"

    @property
    def threshold(self) -> int:
        return int(knob("BREAKER_FAILURES", 5))

    @property
    def cooldown(self) -> float:
        return float(knob("BREAKER_COOLDOWN_SECONDS", 60))

    def state(self) -> str:
        open_until = self._get(self._open_key)
        if open_until is None:
            return "closed"
        return "open" if time.time() < open_until else "half_open"

    def allow(self) -> bool:
        state = self.state()
        if state == "closed":
            return True
        if state == "open":
            return False
        # Half-open: one caller across all processes gets to probe until the next cool-down.
        try:
            return cache.add(self._probe_key, 1, timeout=max(1, int(self.cooldown)))
        except Exception:  # noqa: BLE001 - the cache is an optimisation, never a gate
            logger.warning("circuit breaker cache unavailable", exc_info=True)
            return True

    def record_success(self) -> None:
        try:
            cache.delete_many([self._failures_key, self._open_key, self._probe_key])
        except Exception:  # noqa: BLE001
            logger.warning("circuit breaker cache unavailable", exc_info=True)

    def record_failure(self) -> None:
        try:
            cache.add(self._failures_key, 0, timeout=None)
            failures = cache.incr(self._failures_key)
            if failures >= self.threshold:
                cache.set(self._open_key, time.time() + self.cooldown, timeout=None)
                cache.delete(self._probe_key)
                logger.warning("circuit %s opened after %s failures", self.name, failures)
        except Exception:  # noqa: BLE001
            logger.warning("circuit breaker cache unavailable", exc_info=True)

    def _get(self, key: str):
        try:
            return cache.get(key)
        except Exception:  # noqa: BLE001
            logger.warning("circuit breaker cache unavailable", exc_info=True)
            return None


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential back-off with full jitter; a server's Retry-After wins when it is sooner than
    our cap (we never wait longer than RETRY_MAX_SECONDS for one attempt)."""
    base = float(knob("PROVIDER_RETRY_BASE_SECONDS", 0.5))
    cap = float(knob("PROVIDER_RETRY_MAX_SECONDS", 8))
    if retry_after is not None:
        return min(cap, max(0.0, retry_after))
    return random.uniform(0, min(cap, base * (2**attempt)))


def call_resilient[T](
    fn: Callable[[], T], *, breaker: CircuitBreaker, sleep: Callable[[float], None] = time.sleep
) -> tuple[T, int]:
    """Run `fn` with retries on TransientError; returns (result, attempts).

    Raises ProviderUnavailable when the breaker is open or the retries are spent. Any other
    exception (malformed output, a 400) passes through untouched and does not trip the breaker:
    the provider is up, our request or its answer is the problem."""
    if not breaker.allow():
        raise ProviderUnavailable(f"{breaker.name} is unavailable (circuit open after repeated failures).")
    retries = int(knob("PROVIDER_RETRIES", 2))
    attempt = 0
    while True:
        attempt += 1
        try:
            result = fn()
        except TransientError as exc:
            if attempt > retries:
                breaker.record_failure()
                raise ProviderUnavailable(f"{breaker.name} failed {attempt} times: {exc}") from exc
            sleep(backoff_delay(attempt - 1, exc.retry_after))
            continue
        breaker.record_success()
        return result, attempt
