"""Retrieval quality: dense only, lexical (BM25) only, Citadel's fused ranking, and a plain RRF of
Citadel's own two legs, side by side, on the demo golden set and on standard test collections.

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/retrieval_quality.py [--reuse] [--tune]
    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/retrieval_quality.py \
        --beir ../shared/datasets/cranfield [--beir DIR ...] [--reuse]

The demo set: demo/corpus/ is ingested with the real all-MiniLM-L6-v2 (the ingestion pipeline,
in-process) into a scratch organization; every question of demo/golden.jsonl is asked once and each
ranking is judged per document (recall@10, MRR, nDCG@10). --tune searches RRF weights and k on the
same set and prints the best (an in-sample figure: small gains are noise with 83 questions).

--beir DIR: a collection in BEIR's layout (corpus.jsonl with _id, title, text; queries.jsonl with _id,
text; qrels.tsv with query-id, corpus-id, score, where a score above 0 is relevant). Each document
is ingested through the real pipeline as a text file named by its _id (so its external id is the
_id), into an organization of its own. Per query it prints nDCG@10, recall@100 and MRR@100 of:
the dense leg alone and the lexical leg alone (each 100 passages deep), Citadel's fused ranking as
`retrieve` returns it (k = 10, the product's own candidate depth), and a plain reciprocal rank fusion
(k = 60, depth 100, equal weights) of the two legs' document rankings.
"""

import argparse
import csv
import itertools
import json
import os
import sys
import tempfile
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
from citadel.retrieval.services import _fuse, search  # noqa: E402
from citadel.retrieval.settings import RetrievalSettings  # noqa: E402
from citadel.retrieval.types import LegHit  # noqa: E402

SLUG = "bench-quality"
K = 10


def setup(reuse: bool):
    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(slug=SLUG).first()
    if org is not None and not reuse:
        org.delete()
        org = None
    if org is None:
        org = organization_create(slug=SLUG, name="Quality benchmark")
        user, _ = user_create_or_join(username="bench-quality-admin", organization=org, role="admin")
        files = sorted(str(p) for p in (ROOT / "demo" / "corpus").iterdir() if p.is_file())
        call_command(
            "ingest", *files, "--org", SLUG, "--as", user.username, "--sync", "--json", stdout=open(os.devnull, "w")
        )
        failed = org.documents.filter(current_version__isnull=True).values_list("external_id", flat=True)
        if failed:
            raise SystemExit(f"ingestion failed for {', '.join(failed)}; fix that first")
    user = org.memberships.get(user__username="bench-quality-admin").user
    return principal_for(user=user, organization=org)


def principal_documents(principal) -> int:
    return (
        Organization.objects.get(pk=principal.organization_id).documents.filter(current_version__isnull=False).count()
    )


def scores(rankings: list[list[str]], items) -> dict:
    return {
        "recall@10": mean(recall_at_k(r, i.expected, K) for r, i in zip(rankings, items, strict=True)),
        "mrr": mean(reciprocal_rank(r, i.expected, K) for r, i in zip(rankings, items, strict=True)),
        "ndcg@10": mean(ndcg_at_k(r, i.expected, K) for r, i in zip(rankings, items, strict=True)),
    }


def fused_ranking(result, settings: RetrievalSettings) -> list[str]:
    by_id = {h.chunk_id: h.external_id for h in result.dense + result.lexical}
    dense = [LegHit(h.chunk_id, h.dense_rank, 0.0) for h in result.dense[: settings.candidates]]
    lexical = [LegHit(h.chunk_id, h.lexical_rank, 0.0) for h in result.lexical[: settings.candidates]]
    return unique_in_order(by_id[h.chunk_id] for h in _fuse(dense, lexical, settings))


DEEP = 100
PLAIN_RRF_K = 60


def beir_load(directory: Path) -> tuple[list[dict], list[tuple[str, str]], dict[str, list[str]]]:
    """The corpus, the queries as (id, text) and each query's relevant document ids."""
    with open(directory / "corpus.jsonl", encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    with open(directory / "queries.jsonl", encoding="utf-8") as f:
        queries = [(str(q["_id"]), q["text"]) for q in map(json.loads, filter(str.strip, f))]
    relevant: dict[str, list[str]] = {}
    with open(directory / "qrels.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if float(row["score"]) > 0:
                relevant.setdefault(str(row["query-id"]), []).append(str(row["corpus-id"]))
    return corpus, [(qid, text) for qid, text in queries if qid in relevant], relevant


def beir_setup(directory: Path, reuse: bool):
    slug = "bench-" + "".join(c if c.isalnum() else "-" for c in directory.resolve().name.lower())
    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(slug=slug).first()
    if org is not None and not reuse:
        org.delete()
        org = None
    username = f"{slug}-admin"
    corpus, queries, relevant = beir_load(directory)
    if org is None:
        org = organization_create(slug=slug, name=f"Benchmark {directory.name}")
        user_create_or_join(username=username, organization=org, role="admin")
        with tempfile.TemporaryDirectory() as scratch:
            files = []
            for doc in corpus:
                text = "\n\n".join(filter(None, [doc.get("title", "").strip(), doc["text"].strip()]))
                if not text:
                    continue  # an empty document (Cranfield has two) is refused by ingestion, rightly
                path = Path(scratch) / f"{doc['_id']}.txt"
                path.write_text(text, encoding="utf-8")
                files.append(str(path))
            for start in range(0, len(files), 200):
                call_command(
                    "ingest", *files[start : start + 200], "--org", slug, "--as", username, "--sync", "--json",
                    stdout=open(os.devnull, "w"),
                )  # fmt: skip
        failed = org.documents.filter(current_version__isnull=True).count()
        if failed:
            raise SystemExit(f"{failed} documents of {directory} failed to ingest; fix that first")
    user = org.memberships.get(user__username=username).user
    return principal_for(user=user, organization=org), queries, relevant


def plain_rrf(*rankings: list[str], k: int = PLAIN_RRF_K) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return [doc for doc, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def beir_report(directory: Path, reuse: bool) -> None:
    principal, queries, relevant = beir_setup(directory, reuse)
    rows: dict[str, list[list[str]]] = {
        "dense only": [],
        "lexical only": [],
        "fused (retrieve, k=10)": [],
        "plain RRF": [],
    }
    for _, text in queries:
        deep = search(principal=principal, query=text, k=DEEP)
        dense = unique_in_order(h.external_id for h in deep.dense)
        lexical = unique_in_order(h.external_id for h in deep.lexical)
        rows["dense only"].append(dense)
        rows["lexical only"].append(lexical)
        rows["fused (retrieve, k=10)"].append(
            unique_in_order(h.external_id for h in search(principal=principal, query=text, k=K).hits)
        )
        rows["plain RRF"].append(plain_rrf(dense, lexical))
    expected = [relevant[qid] for qid, _ in queries]
    print(
        f"{directory.name}: {len(queries)} queries over {principal_documents(principal)} documents, judged per document"
    )
    print(f"{'':<26} {'nDCG@10':>8} {'recall@100':>11} {'MRR':>6}")
    for name, rankings in rows.items():
        pairs = list(zip(rankings, expected, strict=True))
        ndcg = mean(ndcg_at_k(r, e, K) for r, e in pairs)
        recall = mean(recall_at_k(r, e, DEEP) for r, e in pairs)
        mrr = mean(reciprocal_rank(r, e, DEEP) for r, e in pairs)
        print(f"{name:<26} {ndcg:>8.3f} {recall:>11.3f} {mrr:>6.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="reuse the scratch organization if ingested before")
    parser.add_argument("--tune", action="store_true", help="grid-search the fusion weights")
    parser.add_argument("--beir", action="append", type=Path, default=[], help="a BEIR-layout collection directory")
    args = parser.parse_args()
    for directory in args.beir:
        beir_report(directory, args.reuse)
    if args.beir:
        return

    principal = setup(args.reuse)
    items = parse_golden_jsonl((ROOT / "demo" / "golden.jsonl").read_bytes())
    settings = RetrievalSettings()
    # One query per question with wide legs (k=50 each), fused offline for every setting tried.
    results = [search(principal=principal, query=i.question, k=50) for i in items]

    rows = {
        "dense only": [unique_in_order(h.external_id for h in r.dense) for r in results],
        "lexical only": [unique_in_order(h.external_id for h in r.lexical) for r in results],
        f"fused (RRF k={settings.rrf_k}, weights {settings.dense_weight}/{settings.lexical_weight})": [
            fused_ranking(r, settings) for r in results
        ],
    }
    corpus = principal_documents(principal)
    print(f"{len(items)} questions over {corpus} documents, judged per document, k={K}")
    print(f"{'':<44} {'nDCG@10':>8} {'recall@10':>10} {'MRR':>6}")
    for name, rankings in rows.items():
        s = scores(rankings, items)
        print(f"{name:<44} {s['ndcg@10']:>8.3f} {s['recall@10']:>10.3f} {s['mrr']:>6.3f}")

    if args.tune:
        grid = []
        for rrf_k, dense_w, lexical_w, candidates in itertools.product(
            [10, 20, 40, 60, 100], [0.5, 0.75, 1.0], [0.5, 0.75, 1.0], [20, 50]
        ):
            tried = RetrievalSettings(
                rrf_k=rrf_k, dense_weight=dense_w, lexical_weight=lexical_w, candidates=candidates
            )
            s = scores([fused_ranking(r, tried) for r in results], items)
            grid.append((s["ndcg@10"], s["mrr"], s["recall@10"], rrf_k, dense_w, lexical_w, candidates))
        grid.sort(reverse=True)
        print("best fusion settings (in-sample):")
        for ndcg, mrr, recall, rrf_k, dense_w, lexical_w, candidates in grid[:8]:
            print(
                f"  rrf_k={rrf_k:<4} dense={dense_w:<5} lexical={lexical_w:<5} candidates={candidates:<3} "
                f"nDCG@10 {ndcg:.3f} recall@10 {recall:.3f} MRR {mrr:.3f}"
            )


if __name__ == "__main__":
    main()
