"""Extraction: accuracy on the demo's contracts, and throughput over a hundred documents.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/extraction.py [--docs 100] [--fit]

1. Accuracy: demo/contracts/*.md (generated vendor contracts whose six field values are in
   values.jsonl) and demo/contracts-handwritten/*.md (eight contracts written by hand in other words)
   are ingested into a throwaway organization and the demo's "contract terms" schema is run over
   them. Per field type: values correct, missing and wrong, for the development half (contracts
   1-10), the held-out half (11-20) and the handwritten ones; then how many values the review threshold sends to review and how
   many wrong ones it lets through. `--fit` chooses the threshold on the development half (the lowest
   at which at most 5% of the values let through are wrong) and says so; the held-out figures use
   the threshold in citadel/extraction/services.py.
2. Throughput: `--docs` contracts generated the same way (another seed), six fields each, extracted
   in one run as the worker does it: documents per second.
"""

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ingest_common import cleanup, embedder, ingest, setup_principal  # noqa: E402

from citadel.extraction.models import ExtractionValue  # noqa: E402
from citadel.extraction.services import (  # noqa: E402
    REVIEW_BELOW,
    extraction_execute,
    extraction_schema_create,
    extraction_start,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "demo"))
from build_contracts import build  # noqa: E402

SCHEMA = json.loads((ROOT / "demo" / "schemas" / "contract-terms.json").read_text())
TYPES = {f["name"]: f["type"] for f in SCHEMA["fields"]}
MAX_WRONG_LET_THROUGH = 0.05
# The generated contracts (dev and held-out halves) and eight written by hand in other words,
# never used to fit anything.
FOLDERS = [ROOT / "demo" / "contracts", ROOT / "demo" / "contracts-handwritten"]


def _ingest_folder(principal, folder: Path) -> dict[str, int]:
    ids = {}
    for path in sorted(folder.glob("*.md")):
        version, _ = ingest(principal, path.name, path.read_bytes(), path.stem)
        ids[path.stem] = version.document_id
    return ids


def _extract(principal, document_ids: list[int]):
    extraction = extraction_start(
        principal=principal, schema_slug=SCHEMA["slug"], document_ids=document_ids, enqueue=False
    )
    started = time.perf_counter()
    extraction = extraction_execute(extraction_id=extraction.pk)
    return extraction, time.perf_counter() - started


def _judged(cells, expected: dict[str, dict], ids: dict[str, int]) -> list[tuple[str, str, str, float, str]]:
    """(split, field, correct | missing | wrong, confidence, what was read and wanted) per cell."""
    external = {pk: e for e, pk in ids.items()}
    rows = []
    for cell in cells:
        truth = expected[external[cell.document_id]]
        want = truth["values"][cell.field_name]
        verdict = "missing" if not cell.value else "correct" if cell.value == want else "wrong"
        note = f"{external[cell.document_id]} {cell.field_name}: read {cell.value!r}, want {want!r}"
        rows.append((truth["split"], cell.field_name, verdict, cell.confidence, note))
    return rows


def _fit(rows) -> float:
    found = [(c, v) for split, _, v, c, _ in rows if split == "dev" and v != "missing"]
    for threshold in [t / 20 for t in range(21)]:
        through = [v for c, v in found if c >= threshold]
        if not through or sum(v == "wrong" for v in through) / len(through) <= MAX_WRONG_LET_THROUGH:
            return threshold
    return 1.0


def accuracy(principal, *, fit: bool) -> None:
    expected, ids = {}, {}
    for folder in FOLDERS:
        expected |= {json.loads(line)["document"]: json.loads(line) for line in (folder / "values.jsonl").open()}
        ids |= _ingest_folder(principal, folder)
    extraction, _ = _extract(principal, list(ids.values()))
    rows = _judged(ExtractionValue.objects.filter(extraction=extraction), expected, ids)
    for split in ("dev", "held-out", "handwritten"):
        print(f"{split}:")
        by_type = defaultdict(lambda: defaultdict(int))
        for s, name, verdict, _, _ in rows:
            if s == split:
                by_type[TYPES[name]][verdict] += 1
        for kind, counts in sorted(by_type.items()):
            total = sum(counts.values())
            print(
                f"  {kind:10} {counts['correct']:2}/{total} correct, {counts['missing']} missing, {counts['wrong']} wrong"
            )
        mine = [(c, v) for s, _, v, c, _ in rows if s == split]
        total = len(mine)
        correct = sum(v == "correct" for _, v in mine)
        to_review = sum(v == "missing" or c < REVIEW_BELOW for c, v in mine)
        let_through = [v for c, v in mine if v != "missing" and c >= REVIEW_BELOW]
        wrong_through = sum(v == "wrong" for v in let_through)
        print(
            f"  all: {correct}/{total} correct ({correct / total:.1%}); at the review threshold {REVIEW_BELOW}: "
            f"{to_review} sent to review, {len(let_through)} accepted of which {wrong_through} wrong"
        )
        for s, _, verdict, confidence, note in rows:
            if s == split and verdict != "correct":
                print(f"    {verdict} ({confidence:.2f}): {note}")
    if fit:
        print(f"threshold fitted on the development half: {_fit(rows)} (configured: {REVIEW_BELOW})")


def throughput(principal, docs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(docs, Path(tmp), seed=1234)
        started = time.perf_counter()
        ids = _ingest_folder(principal, Path(tmp))
        print(f"{docs} contracts ingested in {time.perf_counter() - started:.1f} s")
    _, seconds = _extract(principal, list(ids.values()))
    print(
        f"extraction of {len(SCHEMA['fields'])} fields over {docs} documents: {seconds:.1f} s, {docs / seconds:.1f} docs/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    org, principal = setup_principal()
    try:
        embedder(org)
        extraction_schema_create(organization_id=org.pk, data=SCHEMA)
        accuracy(principal, fit=args.fit)
        throughput(principal, args.docs)
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
