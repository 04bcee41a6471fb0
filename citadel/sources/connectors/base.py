"""The connector interface: what a source kind must do for a sync.

A connector lists its source's items (a path or key, a size, a modification time) and skipped
entries with the reason (a link leading outside the folder), then reads one item's bytes. It
holds no state between syncs: the sync compares the listing with what it saw last time.

A new connector must test, against a real server the tests start: listing and reading; an item
changed, added, removed and renamed; items it cannot read (each a failed outcome with a
sentence, the rest still synced); and its hostile inputs (loops, huge listings, huge items).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Item:
    key: str  # the path inside the source, "/"-separated
    size: int
    modified: float  # seconds since the epoch
    # What the source says identifies this content (an S3 ETag), where times are too coarse.
    tag: str = ""


@dataclass(frozen=True)
class Skipped:
    key: str
    reason: str


class ConnectorError(Exception):
    """The source itself cannot be listed (a folder that does not exist): the sync fails."""


class Connector(Protocol):
    def list(self) -> Iterator[Item | Skipped]: ...

    def read(self, key: str, *, max_bytes: int) -> bytes:
        """The item's bytes; ValueError with a sentence when it cannot be read or is too large."""
        ...
