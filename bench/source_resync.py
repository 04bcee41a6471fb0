"""Re-syncing a large folder: a first sync of `--files` files, then, with 1% of them edited, a
second sync; time and files read of each, side by side in one run (goal: the re-sync takes at most
5% of the first sync's time).

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/source_resync.py [--files 5000]

Both syncs run as the worker runs them, the ingestion of what they upload left to the workers (it
is ingestion's cost, measured by bench/ingest_throughput.py): listing the folder, comparing each
file with what was seen, reading and storing the new and changed ones, archiving the removed.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ingest_common import cleanup, sentence, setup_principal  # noqa: E402

from citadel.sources.connectors import folder as folder_connector  # noqa: E402
from citadel.sources.services import (  # noqa: E402
    source_create,
    source_root_grant,
    source_sync_run,
    source_sync_start,
)


class CountingFolder(folder_connector.FolderConnector):
    reads = 0

    def read(self, key: str, *, max_bytes: int) -> bytes:
        CountingFolder.reads += 1
        return super().read(key, max_bytes=max_bytes)


def _sync(principal, source) -> tuple[float, int, object]:
    CountingFolder.reads = 0
    started = time.perf_counter()
    sync = source_sync_start(principal=principal, source_id=source.pk, enqueue=False)
    result = source_sync_run(sync_id=sync.pk, enqueue=False)
    return time.perf_counter() - started, CountingFolder.reads, result.sync


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    from citadel.sources import services

    services.CONNECTORS["folder"] = CountingFolder
    root = Path(tempfile.mkdtemp(prefix="citadel-resync-"))
    org, principal = setup_principal()
    try:
        for n in range(args.files):
            folder = root / f"team-{n % 20:02d}"
            folder.mkdir(exist_ok=True)
            (folder / f"note-{n:05d}.md").write_text(f"# Note {n}\n\n{sentence(n)} {sentence(n + 1)}\n")
        source_root_grant(organization_id=org.pk, path=str(root))
        source = source_create(principal=principal, kind="folder", name="Bench", config={"path": str(root)})
        first_seconds, first_reads, first = _sync(principal, source)
        print(f"first sync: {args.files} files, {first_seconds:.1f} s, {first_reads} read, {first.added} added")
        changed = max(1, args.files // 100)
        for n in range(0, args.files, args.files // changed):
            path = root / f"team-{n % 20:02d}" / f"note-{n:05d}.md"
            path.write_text(path.read_text() + "\nEdited.\n")
            os.utime(path, (time.time() + 10, time.time() + 10))
        second_seconds, second_reads, second = _sync(principal, source)
        print(
            f"re-sync with {changed} edited: {second_seconds:.2f} s, {second_reads} read, {second.updated} updated, "
            f"{second.unchanged} unchanged; {second_seconds / first_seconds:.1%} of the first sync's time "
            f"(goal <= 5%), {second_reads / max(1, first_reads):.1%} of its reads"
        )
    finally:
        cleanup(org)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
