"""PostgreSQL advisory locks: the one home for every lock Citadel takes outside a row.

A lock is named by a namespace ("citadel.audit") and an integer key (an organization's or a
question's id). Two kinds:

* transaction locks (`xact_lock`, `try_xact_lock`) are released at commit or rollback: one writer
  of a hash chain, one reaper at a time;
* session locks (`try_session_lock` / `session_unlock`, or the `session_lock` context manager)
  outlive transactions and are released by PostgreSQL when the holder's connection dies, which is
  what lets a retried task take over work whose worker was killed.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# (hashtext(namespace), key folded into int4): the two-integer form of the advisory lock functions.
_KEY = "hashtext(%s), CAST(%s AS int4)"
_HELD = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
    " AND classid = hashtext(%s)::oid AND objid = CAST(%s AS int4)::oid)"
)


def _args(namespace: str, key: int) -> list:
    # Ids map one to one onto int4 below 2**32.
    return [namespace, key % 2**32 - 2**31]


def _scalar(sql: str, args: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchone()[0]


def xact_lock(namespace: str, key: int = 0) -> None:
    """Wait for the lock; it is released when the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"The {namespace} lock must be taken inside a transaction.")
    _scalar(f"SELECT pg_advisory_xact_lock({_KEY})::text", _args(namespace, key))


def try_xact_lock(namespace: str, key: int = 0) -> bool:
    """Take the lock if it is free, until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"The {namespace} lock must be taken inside a transaction.")
    return _scalar(f"SELECT pg_try_advisory_xact_lock({_KEY})", _args(namespace, key))


def session_lock_held(namespace: str, key: int) -> bool:
    """Whether any session, this one included, holds the session lock."""
    return _scalar(f"SELECT {_HELD}", _args(namespace, key))


def try_session_lock(namespace: str, key: int) -> bool:
    """Take the session lock if no session holds it. Unlike PostgreSQL's own re-entrant advisory
    locks, one already held by this session counts as taken, so a second request served by the
    same pooled connection is refused as any other would be."""
    args = _args(namespace, key)
    return _scalar(f"SELECT CASE WHEN {_HELD} THEN false ELSE pg_try_advisory_lock({_KEY}) END", args + args)


def session_unlock(namespace: str, key: int) -> None:
    _scalar(f"SELECT pg_advisory_unlock({_KEY})", _args(namespace, key))


@contextmanager
def session_lock(namespace: str, key: int) -> Iterator[bool]:
    """`with session_lock(ns, id) as acquired:` runs the block either way; `acquired` says
    whether this session holds the lock, which is released on exit."""
    acquired = try_session_lock(namespace, key)
    try:
        yield acquired
    finally:
        if acquired:
            session_unlock(namespace, key)
