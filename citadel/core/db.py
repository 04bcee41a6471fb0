"""Read-replica routing for search.

With DATABASE_REPLICA_URL set, settings add a "replica" database. Only search reads go there:
retrieval's raw SQL through `search_connection()`, and ORM reads made inside `search_reads()`.
Everything else stays on the primary, because ingestion and answers read what they just wrote
and a replica may lag behind by a moment. A search that misses a document ingested a second ago
is acceptable; a pipeline that cannot see its own chunks is not.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_search_reads: ContextVar[bool] = ContextVar("citadel_search_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def search_alias() -> str:
    return REPLICA if replica_configured() else DEFAULT_DB_ALIAS


def search_connection():
    """The connection retrieval's raw SQL should run on: the replica when configured."""
    return connections[search_alias()]


@contextmanager
def search_reads() -> Iterator[None]:
    """ORM reads inside this block go to the replica (when configured)."""
    token = _search_reads.set(True)
    try:
        yield
    finally:
        _search_reads.reset(token)


class ReplicaRouter:
    """Listed in DATABASE_ROUTERS only when a replica is configured."""

    def db_for_read(self, model, **hints):
        return REPLICA if _search_reads.get() and replica_configured() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data, so objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
