"""Labels given in the background: how often they are right, on the demo handbook.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/classification.py [--fit]

The demo handbook (demo/corpus, its email's attachment included) and the eight handwritten vendor
contracts are ingested into a throwaway organization with the real MiniLM model, the six labels of
demo/labels/labels.json are defined, and every document is scored against every label (the
cosine of the document's centroid with the label's description). demo/labels/gold.jsonl says which
labels each document should have. Documents in external-id order alternate between a development
half and a held-out half.

`--fit` chooses the thresholds on the development half: ASSIGN_AT, the lowest score at which at
least 90% of the labels given are right; SUGGEST_AT, the highest at which labels given or
suggested cover 95% of the right ones. The held-out figures use the thresholds in
citadel/classification/scoring.py. A second round has people accept the right labels of the
development half, so they count as examples, and measures the held-out half again.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ingest_common import cleanup, embedder, ingest, setup_principal  # noqa: E402

from citadel.classification import scoring  # noqa: E402
from citadel.classification.services import LabelSet, centroids  # noqa: E402
from citadel.documents.models import Document, DocumentLabel, Label, LabelStatus  # noqa: E402
from citadel.ingestion.selectors import pending_attachment_versions  # noqa: E402
from citadel.ingestion.services import version_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABELS = json.loads((ROOT / "demo" / "labels" / "labels.json").read_text())
GOLD = {
    row["document"]: set(row["labels"])
    for row in map(json.loads, (ROOT / "demo" / "labels" / "gold.jsonl").read_text().splitlines())
}
FOLDERS = [ROOT / "demo" / "corpus", ROOT / "demo" / "contracts-handwritten"]
MIN_PRECISION = 0.9
MIN_COVERAGE = 0.95


def _ingest_all(principal) -> None:
    for folder in FOLDERS:
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".jsonl"):
            version, _ = ingest(principal, path.name, path.read_bytes(), path.stem)
            for attachment in pending_attachment_versions(document=version.document):
                version_run(version_id=attachment.pk)


def _pairs(org) -> list[tuple[str, str, float, bool]]:
    """(split, document, label, score, right) for every document and label."""
    known = LabelSet.load(org)
    documents = sorted(Document.objects.filter(organization=org, external_id__in=GOLD), key=lambda d: d.external_id)
    vectors = centroids(org, [d.current_version_id for d in documents])
    names = {label.pk: label.name for label in known.labels}
    pairs = []
    for index, document in enumerate(documents):
        split = "dev" if index % 2 == 0 else "held-out"
        for label_id, score in known.scores(document, vectors[document.current_version_id]).items():
            pairs.append(
                (split, document.external_id, names[label_id], score, names[label_id] in GOLD[document.external_id])
            )
    return pairs


def _fit(pairs, kind: str = "description") -> tuple[float, float]:
    dev = [(getattr(score, kind), right) for split, _, _, score, right in pairs if split == "dev"]
    grid = [t / 100 for t in range(101)]
    assign = next(
        (t for t in grid if (given := [r for s, r in dev if s >= t]) and sum(given) / len(given) >= MIN_PRECISION), 1.0
    )
    total = sum(r for _, r in dev)
    suggest = max(
        (t for t in grid if t <= assign and sum(r for s, r in dev if s >= t) >= MIN_COVERAGE * total), default=0.0
    )
    return assign, suggest


def _report(pairs, split: str, title: str) -> None:
    mine = [(d, label, s, r) for sp, d, label, s, r in pairs if sp == split]
    decided = [(d, label, scoring.decision(s), r) for d, label, s, r in mine]
    assigned = [r for _, _, status, r in decided if status == "assigned"]
    suggested = [r for _, _, status, r in decided if status == "suggested"]
    right = sum(r for *_, r in decided)
    documents = {d for d, *_ in mine}
    top_right = 0
    for document in documents:
        best = max((p for p in mine if p[0] == document), key=lambda p: p[2].confidence)
        top_right += best[3]
    print(
        f"{title}: {len(documents)} documents, {right} right labels; "
        f"given {len(assigned)} ({sum(assigned)} right, precision {sum(assigned) / max(1, len(assigned)):.2f}), "
        f"suggested {len(suggested)} ({sum(suggested)} right); "
        f"right labels given {sum(assigned)}/{right}, given or suggested {sum(assigned) + sum(suggested)}/{right}; "
        f"best-scoring label right for {top_right}/{len(documents)}"
    )


# Data this repository does not hold: each SQuAD paragraph a document, labelled by its article.
# The descriptions were written before any score was seen; nothing is fitted to them.
SQUAD_LABELS = {
    "Rhine": (
        "Rivers and geography",
        "The course of a river, its tributaries, the cities and countries along it, its landscape and history.",
    ),
    "Computational_complexity_theory": (
        "Computer science theory",
        "Algorithms, how hard computational problems are, complexity classes and Turing machines.",
    ),
}


def squad_check(principal, org, path: Path) -> None:
    data = json.loads(path.read_text())
    gold = {}
    for article in data["data"]:
        name, _ = SQUAD_LABELS[article["title"]]
        for n, paragraph in enumerate(article["paragraphs"]):
            external_id = f"squad-{article['title'][:10]}-{n}"
            ingest(principal, f"{external_id}.txt", paragraph["context"].encode(), external_id)
            gold[external_id] = name
    for name, description in SQUAD_LABELS.values():
        Label.objects.create(organization=org, name=name, description=description)
    known = LabelSet.load(org)
    names = {label.pk: label.name for label in known.labels}
    documents = list(Document.objects.filter(organization=org, external_id__in=gold))
    vectors = centroids(org, [d.current_version_id for d in documents])
    given = suggested = given_right = suggested_right = top_right = 0
    for document in documents:
        scores = known.scores(document, vectors[document.current_version_id])
        best = max(scores, key=lambda label_id: scores[label_id].confidence)
        top_right += names[best] == gold[document.external_id]
        for label_id, score in scores.items():
            right = names[label_id] == gold[document.external_id]
            status = scoring.decision(score)
            given += status == "assigned"
            given_right += status == "assigned" and right
            suggested += status == "suggested"
            suggested_right += status == "suggested" and right
    print(
        f"SQuAD ({len(documents)} paragraphs, 2 labels, thresholds as fitted on the demo): given {given} "
        f"({given_right} right), suggested {suggested} ({suggested_right} right); right labels given "
        f"{given_right}/{len(documents)}, given or suggested {given_right + suggested_right}/{len(documents)}; "
        f"best-scoring label right for {top_right}/{len(documents)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--squad", help="Also check the thresholds on SQuAD's articles (a path to its JSON).")
    args = parser.parse_args()
    if args.squad:
        org, principal = setup_principal()
        try:
            embedder(org)
            squad_check(principal, org, Path(args.squad))
        finally:
            cleanup(org)
    org, principal = setup_principal()
    try:
        embedder(org)
        _ingest_all(principal)
        for label in LABELS:
            Label.objects.create(organization=org, **label)
        pairs = _pairs(org)
        if args.fit:
            assign, suggest = _fit(pairs)
            print(f"fitted on the development half: ASSIGN_AT {assign}, SUGGEST_AT {suggest}")
        print(f"thresholds in use: ASSIGN_AT {scoring.ASSIGN_AT}, SUGGEST_AT {scoring.SUGGEST_AT}")
        _report(pairs, "dev", "development half")
        _report(pairs, "held-out", "held-out half, descriptions only")
        # People accept the right labels of the development half: those documents become examples.
        labels = {label.name: label for label in Label.objects.filter(organization=org)}
        for document in Document.objects.filter(organization=org, external_id__in=GOLD):
            if document.external_id in {d for sp, d, *_ in pairs if sp == "dev"}:
                for name in GOLD[document.external_id]:
                    DocumentLabel.objects.update_or_create(
                        document=document, label=labels[name], defaults={"status": LabelStatus.ACCEPTED}
                    )
        pairs = _pairs(org)
        if args.fit:
            # Each development document against the others: its neighbours' labels, itself left out.
            assign, suggest = _fit([p for p in pairs if p[0] == "dev"], "neighbours")
            print(
                f"fitted on the development half, leaving each out: VOTE_ASSIGN_AT {assign}, VOTE_SUGGEST_AT {suggest}"
            )
        print(f"thresholds in use: VOTE_ASSIGN_AT {scoring.VOTE_ASSIGN_AT}, VOTE_SUGGEST_AT {scoring.VOTE_SUGGEST_AT}")
        _report(pairs, "held-out", "held-out half, with the development half labelled by people")
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
