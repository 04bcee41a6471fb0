"""Calibrate the extractive abstention threshold on the demo golden set.

    CITADEL_DATA_DIR=... .venv/bin/python bench/calibrate_abstention.py --as acme-member [--org acme]

Needs the demo corpus ingested (manage.py ingest demo/corpus/* --org acme --as acme-admin --sync).
For every question of demo/golden.jsonl (answerable) and demo/unanswerable.jsonl (not), retrieves
as the user, scores the passages with the extractive scorer and records the best sentence's
evidence. Prints both distributions and, for each candidate threshold, how many answerable
questions are answered, how many unanswerable ones abstain, and for how many answered ones the
sentence the extractive answer quotes first comes from an expected document."""

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.conf import settings

    from citadel.accounts.selectors import principal_for_username
    from citadel.providers import extractive
    from citadel.providers.generation import SourcePassage
    from citadel.retrieval.services import retrieve

    parser = argparse.ArgumentParser()
    parser.add_argument("--as", dest="username", default="acme-member")
    parser.add_argument("--org", default=None)
    parser.add_argument("--golden", default=str(ROOT / "demo/golden.jsonl"))
    parser.add_argument("--unanswerable", default=str(ROOT / "demo/unanswerable.jsonl"))
    args = parser.parse_args()
    principal = principal_for_username(username=args.username, org_slug=args.org)
    from citadel.accounts.models import Organization

    embedding_model = Organization.objects.get(pk=principal.organization_id).embedding_model
    calibration = extractive.calibration_for(embedding_model)
    print(f"embedding model {embedding_model}: {calibration}")
    k = int(settings.CITADEL.get("ANSWER_K", 8))

    rows = []
    for path in (args.golden, args.unanswerable):
        for line in Path(path).read_text().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            hits = retrieve(principal=principal, query=item["question"], k=k)
            best = max((h.score for h in hits), default=1.0) or 1.0
            passages = [
                SourcePassage(
                    n=i,
                    text=h.text,
                    title=h.title,
                    score=h.score,
                    relative_score=h.score / best,
                    dense_score=h.dense_score,
                )
                for i, h in enumerate(hits, start=1)
            ]
            scored = extractive.score_sentences(item["question"], passages, calibration)
            evidence = max((s.evidence for s in scored), default=0.0)
            # What the answer would quote first were the threshold no obstacle.
            first = extractive.select_sentences(scored, replace(calibration, abstain_below=0.0))[:1]
            rows.append(
                {
                    "question": item["question"],
                    "answerable": bool(item["expected"]),
                    "evidence": evidence,
                    "first_from_expected": bool(first) and hits[first[0].n - 1].external_id in item["expected"],
                }
            )

    answerable = sorted(r["evidence"] for r in rows if r["answerable"])
    unanswerable = sorted(r["evidence"] for r in rows if not r["answerable"])

    def describe(values):
        if not values:
            return "none"
        q = statistics.quantiles(values, n=10) if len(values) > 1 else values
        return f"n={len(values)} min={values[0]:.3f} p10={q[0]:.3f} median={statistics.median(values):.3f} max={values[-1]:.3f}"

    print("answerable:  ", describe(answerable))
    print("unanswerable:", describe(unanswerable))
    print("unanswerable evidence:", ", ".join(f"{v:.3f}" for v in unanswerable))
    print("threshold  answered(answerable)  abstained(unanswerable)  first quote from expected doc")
    thresholds = sorted({x / 100 for x in range(20, 75, 5)} | {x / 100 for x in range(40, 50)})
    for t in thresholds:
        answered = [r for r in rows if r["answerable"] and r["evidence"] >= t]
        abstained = sum(r["evidence"] < t for r in rows if not r["answerable"])
        correct = sum(r["first_from_expected"] for r in answered)
        print(
            f"  {t:.2f}      {len(answered):3d}/{len(answerable)}                "
            f"{abstained}/{len(unanswerable)}                      {correct}/{len(answered)}"
        )
    threshold = calibration.abstain_below
    quoted = [r for r in rows if r["answerable"] and r["evidence"] >= threshold]
    print(
        f"at the current threshold {threshold}: {len(quoted)}/{len(answerable)} answerable answered, "
        f"{sum(v < threshold for v in unanswerable)}/{len(unanswerable)} unanswerable abstained, first quoted "
        f"sentence from an expected document for {sum(r['first_from_expected'] for r in quoted)}/{len(quoted)}"
    )
    for r in rows:
        if r["answerable"] and r["evidence"] < threshold:
            print(f"  abstains on answerable ({r['evidence']:.3f}): {r['question']}")
        if r["answerable"] and r["evidence"] >= threshold and not r["first_from_expected"]:
            print(f"  quotes another document first ({r['evidence']:.3f}): {r['question']}")
        if not r["answerable"] and r["evidence"] >= threshold:
            print(f"  answers unanswerable ({r['evidence']:.3f}): {r['question']}")


if __name__ == "__main__":
    main()
