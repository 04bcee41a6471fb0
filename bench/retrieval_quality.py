"""Retrieval quality on the demo golden set: dense only, lexical (BM25) only, and fused.

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/retrieval_quality.py [--reuse] [--tune]

Ingests demo/corpus/ with the real all-MiniLM-L6-v2 (the ingestion pipeline, in-process) into a
scratch organization, then asks every question of demo/golden.jsonl once and judges each leg's
ranking and the fused one per document (recall@10, MRR, nDCG@10). --tune searches RRF weights and
k on the same set and prints the best (an in-sample figure: small gains are noise with 83 questions).
"""

import argparse
import itertools
import os
import sys
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="reuse the scratch organization if ingested before")
    parser.add_argument("--tune", action="store_true", help="grid-search the fusion weights")
    args = parser.parse_args()

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
