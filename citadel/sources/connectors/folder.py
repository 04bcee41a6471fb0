"""A folder on this machine (local or mounted). Links are followed only to files inside the
folder; a link to a folder is not followed (no loops), and a link leading outside is skipped."""

import os
from collections.abc import Iterator
from pathlib import Path

from citadel.sources.connectors.base import ConnectorError, Item, Skipped

MAX_ITEMS = 200_000


class FolderConnector:
    def __init__(self, config: dict):
        path = str(config.get("path") or "").strip()
        if not path:
            raise ConnectorError("A folder source needs a path.")
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise ConnectorError(f"{path} is not a folder this machine can read.")

    def list(self) -> Iterator[Item | Skipped]:
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
                yield Item(key=key, size=stat.st_size, modified=stat.st_mtime)

    def read(self, key: str, *, max_bytes: int) -> bytes:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("the path leads outside the folder")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
            return path.read_bytes()
        except OSError as exc:
            raise ValueError(f"it could not be read ({exc.strerror})") from None

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
