"""The connector interface: what a source kind must do for a sync.

A connector is built from its source's settings (secrets included, opened for it) and checks them,
raising ConnectorError with a sentence. `list(known)` yields the source's items (a key, a size, a
modification time, and where the source has them a tag, the item's own readers and notes for next
time) and the entries it skipped, with the reason. `read(key)` returns one item's bytes. `close()`
lets go of connections and spooled files. A connector holds no state between syncs: the sync
compares the listing with what it saw last time and hands that back as `known`, so a connector that
can ask "changed since?" (a web server's ETag) does, and says an item is unchanged without reading it.

Add a kind: a module here with a class following `Connector`, an entry in `SourceKind` and in
`services.CONNECTORS`, its settings in the Sources form, and its secrets in `secrets`. It must test,
against a real server the tests start: listing and reading; an item changed, added, removed and
renamed; items it cannot read (each a failed outcome with a sentence, the rest still synced, the
document kept); the source itself unreachable (the sync fails, nothing is archived); its own
permissions, if it has any, becoming grants and changing with them; and its hostile inputs (loops,
huge listings, huge items).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Readers:
    """Who the source itself says may read an item: group names (teams by name), people (users by
    username or email), or everyone in it (the whole organization)."""

    groups: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    everyone: bool = False


@dataclass(frozen=True)
class Item:
    key: str  # the path inside the source, "/"-separated: what permission rules match
    size: int
    modified: float  # seconds since the epoch
    # What the source says identifies this content (an S3 ETag), where times are too coarse.
    tag: str = ""
    # The document's file name when the key's last segment is not one (a web page's URL).
    name: str = ""
    # The item's own access list, for connectors asked to read it; None: the source has none.
    readers: Readers | None = None
    # The connector's notes on the item, handed back in `known` on the next sync (a page's links).
    memo: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """What the last sync saw at a key."""

    size: int
    modified: float
    tag: str
    memo: dict


@dataclass(frozen=True)
class Skipped:
    """An entry not listed, with the reason. A document already synced from this key (or from
    under it, for a folder) is kept as it was: a page that failed to load is not a page removed."""

    key: str
    reason: str


class ConnectorError(Exception):
    """The source itself cannot be listed (a folder that does not exist): the sync fails."""


class Connector(Protocol):
    # The settings kept sealed (core.secrets) and never shown back.
    secrets: ClassVar[tuple[str, ...]]
    # How many reads may run at once (from threads): 1 for a connector holding one connection.
    concurrent_reads: ClassVar[int]

    def list(self, known: Mapping[str, Known]) -> Iterator[Item | Skipped]: ...

    def read(self, key: str, *, max_bytes: int) -> bytes:
        """The item's bytes; ValueError with a sentence when it cannot be read or is too large."""
        ...

    def close(self) -> None: ...
