"""Retrieval quality on every collection, side by side: the dense leg alone, the lexical (BM25) leg
alone, Citadel's fused ranking, and a plain reciprocal rank fusion of Citadel's own two legs.

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/retrieval_quality.py \
        [--beir ../shared/datasets/cranfield ...] [--squad ../shared/datasets/squad2-dev-rhine-complexity.json] \
        [--reuse] [--cross-validate] [--embedding-model all-MiniLM-L6-v2-int8]

Collections: the demo set (demo/corpus/ and demo/golden.jsonl) always; each --beir DIR, a collection
in BEIR's layout (corpus.jsonl with _id, title, text; queries.jsonl with _id, text; qrels.tsv with
query-id, corpus-id, score, where a score above 0 is relevant); each article of a --squad file (SQuAD
2.0 JSON: a paragraph is a document, an answerable question is a query whose paragraph is relevant).
Each collection is ingested through the real pipeline (real all-MiniLM-L6-v2, in-process) into an
organization of its own; --reuse keeps one ingested before (Cranfield takes some 25 minutes).

Per collection it prints nDCG@10, recall@100 and MRR@100, judged per document (a document counts at
its first passage): the dense leg alone and the lexical leg alone (each 100 passages deep), the fused
ranking as `retrieve` returns it (100 passages), a plain RRF (k = 60, equal weights) of the two
legs' document rankings, and the documents of fused's first 10 passages alone (what `evaluate`
judges by default, at the product's own candidate depth); then how far fused lies above the
better leg and above plain RRF.

--embedding-model: the organizations' embedding model (all-MiniLM-L6-v2 unless given), each model's
collections in organizations of their own, to set two models side by side.

--cross-validate: for each collection in turn, the legs' weights are chosen on the other collections
(best mean nDCG@10 over a small grid) and reported on the one held out, so no figure printed there
was fitted to the collection it describes.
"""

import argparse
import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from citadel.accounts.models import Organization  # noqa: E402
from citadel.accounts.selectors import principal_for  # noqa: E402
from citadel.accounts.services import organization_create, user_create_or_join  # noqa: E402
from citadel.evaluation.golden import parse_golden_jsonl  # noqa: E402
from citadel.evaluation.metrics import mean, ndcg_at_k, recall_at_k, reciprocal_rank, unique_in_order  # noqa: E402
from citadel.evaluation.retrieval_judge import retrieval_query  # noqa: E402
from citadel.evaluation.scoring import reciprocal_rank_fusion  # noqa: E402
from citadel.providers.embeddings import MINILM  # noqa: E402
from citadel.retrieval.services import search  # noqa: E402

K = 10
DEEP = 100
# Dense share of the legs' weights tried by --cross-validate (the lexical leg takes the rest).
DENSE_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass
class Collection:
    name: str
    files: Callable[[Path], list[Path]]  # writes the documents into a scratch directory
    queries: list[tuple[str, str]]  # (id, text)
    relevant: dict[str, list[str]]  # query id -> relevant document external ids


def demo_collection() -> Collection:
    items = parse_golden_jsonl((ROOT / "demo" / "golden.jsonl").read_bytes())
    return Collection(
        name="demo",
        files=lambda _: sorted(p for p in (ROOT / "demo" / "corpus").iterdir() if p.is_file()),
        queries=[(str(i.line), i.question) for i in items],
        relevant={str(i.line): list(i.expected) for i in items},
    )


def _text_files(documents: list[tuple[str, str]]) -> Callable[[Path], list[Path]]:
    """Each (id, text) as a text file named by its id, so the id is the document's external id."""

    def write(scratch: Path) -> list[Path]:
        paths = []
        for doc_id, text in documents:
            if not text.strip():
                continue  # an empty document (Cranfield has two) is refused by ingestion, rightly
            path = scratch / f"{doc_id}.txt"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        return paths

    return write


def beir_collection(directory: Path) -> Collection:
    with open(directory / "corpus.jsonl", encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    with open(directory / "queries.jsonl", encoding="utf-8") as f:
        queries = [(str(q["_id"]), q["text"]) for q in map(json.loads, filter(str.strip, f))]
    relevant: dict[str, list[str]] = {}
    with open(directory / "qrels.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if float(row["score"]) > 0:
                relevant.setdefault(str(row["query-id"]), []).append(str(row["corpus-id"]))
    documents = [
        (str(d["_id"]), "\n\n".join(filter(None, [d.get("title", "").strip(), d["text"].strip()]))) for d in corpus
    ]
    return Collection(
        name=directory.resolve().name,
        files=_text_files(documents),
        queries=[(qid, text) for qid, text in queries if qid in relevant],
        relevant=relevant,
    )


def squad_collections(path: Path) -> list[Collection]:
    """One collection per article: its paragraphs, and its answerable questions."""
    collections = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        documents, queries, relevant = [], [], {}
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            doc_id = f"p{number}"
            documents.append((doc_id, paragraph["context"]))
            for qa in paragraph["qas"]:
                if not qa.get("is_impossible"):
                    queries.append((qa["id"], qa["question"]))
                    relevant[qa["id"]] = [doc_id]
        name = "squad-" + article["title"].lower().replace("_", "-")
        collections.append(Collection(name, _text_files(documents), queries, relevant))
    return collections


def ingested(collection: Collection, reuse: bool, embedding_model: str = MINILM):
    """A principal of the collection's organization, ingesting it first unless --reuse finds it."""
    slug = "bench-" + "".join(c if c.isalnum() else "-" for c in collection.name.lower())[:40]
    if embedding_model != MINILM:
        slug = slug[:39] + "-" + "".join(c if c.isalnum() else "-" for c in embedding_model.lower())[-10:]
    username = f"{slug}-admin"
    org = Organization.objects.filter(slug=slug).first()
    if org is not None and not reuse:
        org.delete()
        org = None
    if org is None:
        org = organization_create(slug=slug, name=f"Benchmark {collection.name}")
        org.embedding_model = embedding_model
        org.save(update_fields=["embedding_model"])
        user_create_or_join(username=username, organization=org, role="admin")
        with tempfile.TemporaryDirectory() as scratch:
            files = [str(p) for p in collection.files(Path(scratch))]
            for start in range(0, len(files), 200):
                call_command(
                    "ingest", *files[start : start + 200], "--org", slug, "--as", username, "--sync", "--json",
                    stdout=open(os.devnull, "w"),
                )  # fmt: skip
        failed = org.documents.filter(current_version__isnull=True).count()
        if failed:
            raise SystemExit(f"{failed} documents of {collection.name} failed to ingest; fix that first")
    user = org.memberships.get(user__username=username).user
    return principal_for(user=user, organization=org)


def fused_rankings(principal, collection: Collection, settings: dict | None = None) -> list[list[str]]:
    return [
        unique_in_order(
            h.external_id
            for h in search(principal=principal, query=retrieval_query(text), k=DEEP, settings=settings).hits
        )
        for _, text in collection.queries
    ]


def figures(rankings: list[list[str]], collection: Collection) -> tuple[float, float, float]:
    pairs = [(r, collection.relevant[qid]) for r, (qid, _) in zip(rankings, collection.queries, strict=True)]
    return (
        mean(ndcg_at_k(r, e, K) for r, e in pairs),
        mean(recall_at_k(r, e, DEEP) for r, e in pairs),
        mean(reciprocal_rank(r, e, DEEP) for r, e in pairs),
    )


def report(principal, collection: Collection) -> dict[str, float]:
    rows: dict[str, list[list[str]]] = {"dense only": [], "lexical only": [], "plain RRF of the legs": []}
    for _, text in collection.queries:
        deep = search(principal=principal, query=retrieval_query(text), k=DEEP)
        dense = unique_in_order(h.external_id for h in deep.dense)
        lexical = unique_in_order(h.external_id for h in deep.lexical)
        rows["dense only"].append(dense)
        rows["lexical only"].append(lexical)
        rows["plain RRF of the legs"].append(reciprocal_rank_fusion(dense, lexical))
    rows["fused (retrieve)"] = fused_rankings(principal, collection)
    rows["fused, first 10 passages"] = [
        unique_in_order(h.external_id for h in search(principal=principal, query=retrieval_query(text), k=K).hits)
        for _, text in collection.queries
    ]
    documents = Organization.objects.get(pk=principal.organization_id).documents.filter(current_version__isnull=False)
    print(f"\n{collection.name}: {len(collection.queries)} queries over {documents.count()} documents")
    print(f"{'':<24} {'nDCG@10':>8} {'recall@100':>11} {'MRR':>6}")
    ndcg = {}
    for name in ("dense only", "lexical only", "fused (retrieve)", "plain RRF of the legs", "fused, first 10 passages"):
        ndcg[name], recall, mrr = figures(rows[name], collection)
        print(f"{name:<24} {ndcg[name]:>8.3f} {recall:>11.3f} {mrr:>6.3f}")
    best_leg = max(ndcg["dense only"], ndcg["lexical only"])
    print(
        f"fused - better leg {ndcg['fused (retrieve)'] - best_leg:+.3f}, "
        f"fused - plain RRF {ndcg['fused (retrieve)'] - ndcg['plain RRF of the legs']:+.3f}"
    )
    return ndcg


def cross_validate(principals: dict, collections: list[Collection]) -> None:
    """Leave one collection out: weights chosen on the others, reported on it."""
    grid = {share: {"dense_weight": share, "lexical_weight": round(1 - share, 4)} for share in DENSE_SHARES}
    table = {
        (share, c.name): figures(fused_rankings(principals[c.name], c, settings), c)[0]
        for share, settings in grid.items()
        for c in collections
    }
    print("\ncross-validation of the legs' weights (nDCG@10 of fused)")
    print(f"{'dense share':<12}" + "".join(f"{c.name[:18]:>20}" for c in collections))
    for share in DENSE_SHARES:
        print(f"{share:<12}" + "".join(f"{table[share, c.name]:>20.3f}" for c in collections))
    for held in collections:
        others = [c for c in collections if c is not held]
        chosen = max(DENSE_SHARES, key=lambda share: mean(table[share, c.name] for c in others))
        print(
            f"held out {held.name}: the others choose dense share {chosen}, which scores {table[chosen, held.name]:.3f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="reuse a collection's organization if ingested before")
    parser.add_argument("--beir", action="append", type=Path, default=[], help="a BEIR-layout collection directory")
    parser.add_argument("--squad", action="append", type=Path, default=[], help="a SQuAD 2.0 JSON file")
    parser.add_argument("--cross-validate", action="store_true", help="choose the weights leaving one collection out")
    parser.add_argument("--embedding-model", default=MINILM, help="the organizations' embedding model")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    collections = [demo_collection(), *map(beir_collection, args.beir)]
    for path in args.squad:
        collections.extend(squad_collections(path))
    principals = {}
    for collection in collections:
        principals[collection.name] = ingested(collection, args.reuse, args.embedding_model)
        report(principals[collection.name], collection)
    if args.cross_validate:
        cross_validate(principals, collections)


if __name__ == "__main__":
    main()
