"""Abuse limits: fixed-window counters on the shared Django cache.

    ratelimit_check(scope="ask_user", key=str(user_id), limit=20, window=60)   # raises LimitExceeded
    limit_action("ask", principal)       # per user and per organization, from CITADEL["RATE_LIMITS"]
    limit_login(username="ann", ip="10.0.0.1")

The cache is the DatabaseCache, so every web process and worker counts against the same
windows. Its increment is a read then a write, so two requests racing in the same millisecond
may both be counted once: a limiter that is off by one under contention is still a limiter, and
it costs no lock.
"""

import hashlib
import math
from time import time as _clock

from django.conf import settings
from django.core.cache import cache

from citadel.core.errors import LimitExceeded

_MESSAGES = {
    "ask": "You are asking questions faster than allowed.",
    "upload": "Too many uploads in a short time.",
    "login": "Too many login attempts.",
}


def _cache_key(scope: str, key: str, window: int, bucket: int) -> str:
    # Keys may hold usernames and addresses; hashing keeps them out of the cache table verbatim.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"citadel:rl:{scope}:{window}:{bucket}:{digest}"


def ratelimit_check(*, scope: str, key: str, limit: int, window: int, message: str = "") -> None:
    """Count one event for `key` in `scope`; raise LimitExceeded once more than `limit` events
    fell in the current `window` seconds. retry_after is the time left in the window."""
    if limit <= 0 or window <= 0:
        return
    now = _clock()
    bucket = int(now // window)
    cache_key = _cache_key(scope, key, window, bucket)
    # add() is a no-op when the key exists, so the first event of a window starts it at zero.
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # Expired between add() and incr(): this event opens a fresh window.
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        retry_after = max(1, math.ceil((bucket + 1) * window - now))
        raise LimitExceeded(
            (message or "Too many requests.") + f" Try again in {_humanize(retry_after)}.",
            retry_after=retry_after,
        )


def _humanize(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 5400:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def _rule(name: str) -> tuple[int, int] | None:
    rule = settings.CITADEL.get("RATE_LIMITS", {}).get(name)
    if not rule:
        return None
    return int(rule["limit"]), int(rule["window"])


def _check(name: str, key: str, message: str) -> None:
    rule = _rule(name)
    if rule is not None:
        ratelimit_check(scope=name, key=key, limit=rule[0], window=rule[1], message=message)


def limit_action(action: str, principal) -> None:
    """One `action` ("ask", "upload") by a principal: counted against both the user's and the
    organization's limits (rules `<action>_user` and `<action>_org`)."""
    message = _MESSAGES.get(action, "Too many requests.")
    _check(f"{action}_user", f"{principal.organization_id}:{principal.user_id}", message)
    _check(f"{action}_org", str(principal.organization_id), message + " (your organization's limit)")


def limit_login(*, username: str, ip: str) -> None:
    """One login attempt: per username and address (guessing one account's password) and per
    address (spraying many accounts)."""
    message = _MESSAGES["login"]
    _check("login_ip", ip or "unknown", message)
    _check("login_user", f"{(username or '').strip().lower()}|{ip or 'unknown'}", message)


def client_ip(request) -> str:
    """The client's address. Behind the TLS terminator REMOTE_ADDR is the proxy; the rightmost
    X-Forwarded-For entry is the one our own proxy appended, so it cannot be forged by the client."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.CITADEL.get("TRUST_X_FORWARDED_FOR") else ""
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"
