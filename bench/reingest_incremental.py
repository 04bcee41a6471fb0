"""Re-ingesting a 200-page PDF after editing 1% of it (2 pages), next to its first ingestion
(goal: at most 0.10 of the first time).

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/reingest_incremental.py [--pages 200]

Both figures are wall time of upload -> ready with the real embedder. The second version reuses
the vectors of every chunk whose text did not change, so it embeds only the edited pages' chunks;
it still stores, parses and chunks the whole file.
"""

import argparse
import sys
from pathlib import Path

from _ingest_common import cleanup, embedder, ingest, sentence, setup_principal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.files import pdf_bytes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()

    org, principal = setup_principal()
    try:
        embedder(org)
        pages = [" ".join(sentence(p * 40 + i) for i in range(24)) for p in range(args.pages)]
        first, first_seconds = ingest(principal, "manual.pdf", pdf_bytes(pages), "manual")
        edited = max(1, args.pages // 100)
        for p in range(edited):
            index = (p + 1) * args.pages // (edited + 1)
            pages[index] = pages[index].replace("clause", "amended clause", 3)
        second, second_seconds = ingest(principal, "manual.pdf", pdf_bytes(pages), "manual")
        reused = second.chunks.count() - sum(
            1
            for text in second.chunks.values_list("content_hash", flat=True)
            if text not in set(first.chunks.values_list("content_hash", flat=True))
        )
        print(f"pages: {args.pages}; edited pages: {edited}; chunks: {first.chunks.count()} -> {second.chunks.count()}")
        print(f"vectors reused: {reused} of {second.chunks.count()}")
        print(f"first ingestion: {first_seconds:.2f} s; re-ingestion: {second_seconds:.2f} s")
        print(f"ratio {second_seconds / first_seconds:.3f} (goal <= 0.10)")
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
