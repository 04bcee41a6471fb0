"""A folder on this machine (local or mounted), inside a root the operator granted to the
organization (`reach`). Links are followed only to files inside the folder; a link to a folder is
not followed (no loops), and a link leading outside is skipped with its reason, never read. A file
is opened one path segment at a time without following links, so one swapped for a link after it
was listed is refused.

With `"permissions_from": "owner_group"` each file's own permissions say who reads it: its group
(the team of that name, when the group may read it) and its owner (the member with that username), or everyone when the file
is readable by all (`chmod o-r` restricts it)."""

import grp
import os
import pwd
import stat as stat_
from collections.abc import Iterator, Mapping
from pathlib import Path

from citadel.sources.connectors.base import ConnectorError, Item, Known, Readers, Skipped
from citadel.sources.connectors.reach import Reach, open_inside

MAX_ITEMS = 200_000


class FolderConnector:
    secrets = ()
    concurrent_reads = 1

    def __init__(self, config: dict, reach: Reach):
        path = str(config.get("path") or "").strip()
        if not path:
            raise ConnectorError("A folder source needs a path.")
        if "\x00" in path:
            raise ConnectorError("A folder's path cannot hold a NUL character.")
        self.root = reach.folder(path)
        if not self.root.is_dir():
            raise ConnectorError(f"{path} is not a folder this machine can read.")
        permissions_from = config.get("permissions_from") or ""
        if permissions_from not in ("", "owner_group"):
            raise ConnectorError('A folder\'s "permissions_from" is "owner_group" or absent.')
        self.own_permissions = permissions_from == "owner_group"

    def list(self, known: Mapping[str, Known]) -> Iterator[Item | Skipped]:
        count = 0
        stack = [self.root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                yield Skipped(self._key(Path(folder)), f"the folder could not be read ({exc.strerror})")
                continue
            for entry in entries:
                path = Path(entry.path)
                key = self._key(path)
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(self.root):
                        yield Skipped(key, "a link to outside the folder, not followed")
                        continue
                    if target.is_dir():
                        yield Skipped(key, "a link to a folder, not followed")
                        continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                    continue
                if not entry.is_file():
                    continue
                count += 1
                if count > MAX_ITEMS:
                    yield Skipped(key, f"the folder holds more than {MAX_ITEMS} files; the rest were not read")
                    return
                stat = entry.stat()
                readers = _readers(stat) if self.own_permissions else None
                yield Item(key=key, size=stat.st_size, modified=stat.st_mtime, readers=readers)

    def read(self, key: str, *, max_bytes: int) -> bytes:
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise ValueError("the path leads outside the folder")
        try:
            with os.fdopen(open_inside(self.root, path.relative_to(self.root)), "rb") as file:
                stat = os.fstat(file.fileno())
                if not stat_.S_ISREG(stat.st_mode):
                    raise ValueError("it is not a file")
                if stat.st_size > max_bytes:
                    raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
                data = file.read(max_bytes + 1)
        except OSError as exc:
            raise ValueError(f"it could not be read ({exc.strerror or exc})") from None
        if len(data) > max_bytes:
            raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
        return data

    def close(self) -> None:
        pass

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _readers(stat: os.stat_result) -> Readers:
    if stat.st_mode & stat_.S_IROTH:
        return Readers(everyone=True)
    groups = _names(grp.getgrgid, stat.st_gid) if stat.st_mode & stat_.S_IRGRP else ()
    return Readers(groups=groups, people=_names(pwd.getpwuid, stat.st_uid))


def _names(lookup, number: int) -> tuple[str, ...]:
    try:
        return (lookup(number)[0],)
    except KeyError:  # an id this machine has no name for: nobody to map it to
        return ()
