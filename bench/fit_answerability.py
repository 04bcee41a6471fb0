"""Fit the answerability model (citadel/reading/answerability.py) and report it held out.

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/fit_answerability.py \
        --squad ../shared/datasets/squad2-dev-rhine-complexity.json [--reuse] [--write]

Development data: the demo corpus with demo/golden.jsonl (answerable) and demo/unanswerable.jsonl,
and each SQuAD 2.0 article ingested as its own organization (bench/answer_quality.py's, so one data
dir serves both; --reuse skips ingesting again), with its answerable and unanswerable questions and
a third of the other articles' questions (which it never answers). demo/phrased.jsonl is held out:
never read here.

Every question goes through the product's own path: retrieval as a member, the extractive scorer,
the coverage checks and answerability.signals. A question is labelled answered-right when its best
sentence holds a gold answer (SQuAD, after SQuAD's normalisation) or comes from an expected document
(demo golden); unanswerable and foreign questions are labelled wrong.

Steps, each printed:
1. The alignment threshold: the lowest at which token alignment rescues at most 2% of the qualifiers,
   named things and roles that unanswerable questions change (the rest it rescues are paraphrases).
2. Leaving each collection out (demo, each article), a logistic model and its thresholds fitted on
   the others, applied to the one left out: AUC; the answerable questions whose best sentence
   answers that stay answered; the unanswerable ones declined (abstained or partial); the share of
   answers it would show directly that do not answer; foreign questions abstained.
3. The model fitted on everything, with its thresholds; --write stores it in answerability.json.
Thresholds: abstain_below is the highest keeping KEEP_RIGHT of the right best sentences of every
collection answered; confident_from the lowest at which DIRECT_PRECISION of the answers shown
directly (no missing part, support above it) answer, over the collections pooled.
"""

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import answer_quality as aq  # noqa: E402  (sets up Django)
import numpy as np  # noqa: E402

from citadel.accounts.models import Organization  # noqa: E402
from citadel.accounts.selectors import principal_for_username  # noqa: E402
from citadel.answers.models import Question  # noqa: E402
from citadel.answers.pipeline import Run, prepare_passages  # noqa: E402
from citadel.reading import answerability, coverage, extractive  # noqa: E402
from citadel.retrieval.services import retrieve  # noqa: E402

KEEP_RIGHT = 0.95
DIRECT_PRECISION = 0.75
ALIGNMENT_LEAK = 0.02
FOREIGN_WEIGHT = 0.2  # foreign questions are many and easy; they should not drown the hard ones
L2 = 1.0


def load_items(squad_paths: list[Path], *, reuse: bool) -> list[dict]:
    items = []
    aq.organization(
        "answers-demo", "Demo", lambda _: sorted((ROOT / "demo" / "corpus").iterdir()), reuse=reuse, policy="none"
    )
    for name, kind in (("golden", "answerable"), ("unanswerable", "unanswerable")):
        for line in (ROOT / "demo" / f"{name}.jsonl").read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                items.append(
                    {"collection": "demo", "slug": "answers-demo", "question": item["question"], "kind": kind,
                     "expected": item.get("expected", [])}
                )  # fmt: skip
    for path in squad_paths:
        articles = json.loads(path.read_text(encoding="utf-8"))["data"]
        for article in articles:
            slug = "answers-" + re.sub(r"[^a-z0-9]+", "-", article["title"].lower())[:40]
            paragraphs = [p["context"] for p in article["paragraphs"]]
            aq.organization(slug, article["title"], aq.paragraph_files(paragraphs), reuse=reuse, policy="none")
            for p in article["paragraphs"]:
                for qa in p["qas"]:
                    items.append(
                        {"collection": article["title"], "slug": slug, "question": qa["question"],
                         "kind": "unanswerable" if qa.get("is_impossible") else "answerable",
                         "gold": [a["text"] for a in qa["answers"]]}
                    )  # fmt: skip
            others = [qa["question"] for a in articles if a is not article for p in a["paragraphs"] for qa in p["qas"]]
            items += [
                {"collection": article["title"], "slug": slug, "question": q, "kind": "foreign"} for q in others[::3]
            ]
    return items


def best_sentences(items: list[dict]) -> None:
    """Retrieve and score each question as the product does; keep what the fit needs."""
    calibration = extractive.CALIBRATIONS["all-MiniLM-L6-v2"]
    principals = {}
    for item in items:
        slug = item["slug"]
        if slug not in principals:
            principals[slug] = principal_for_username(username=f"{slug}-member", org_slug=slug)
        principal = principals[slug]
        organization = Organization.objects.get(pk=principal.organization_id)
        run = Run(
            principal=principal,
            question=Question(text=item["question"], organization=organization),
            organization=organization,
            started=0.0,
        )
        run.hits = retrieve(principal=principal, query=item["question"], k=8)
        prepare_passages(run)
        item["passages"] = run.passages
        item["scored"] = extractive.score_sentences(item["question"], run.passages, calibration)
        item["right"] = bool(item["scored"]) and is_right(item, run)


def is_right(item: dict, run: Run) -> bool:
    top = item["scored"][0]
    if item["kind"] != "answerable":
        return False
    if "gold" in item:
        text = aq.normalise(top.text)
        return any(aq.normalise(g) and aq.normalise(g) in text for g in item["gold"])
    return run.hits[top.n - 1].external_id in item["expected"]


def alignment_threshold(items: list[dict]) -> float:
    aligner = extractive.aligner_for(extractive.CALIBRATIONS["all-MiniLM-L6-v2"])
    sims = {"unanswerable": [], "right": []}
    for item in items:
        label = "unanswerable" if item["kind"] == "unanswerable" else "right" if item["right"] else None
        if label is None:
            continue
        top = item["scored"][0]
        passage = next(p for p in item["passages"] if p.n == top.n)
        for part in coverage.uncovered(item["question"], [top.text], [passage.text], None):
            if part.kind in ("qualifier", "entity", "role"):
                sims[label].append(aligner.similarity(item["question"], part, top.text))
    print("1. token alignment of the qualifiers and named things the best sentence does not say in words")
    chosen = None
    for threshold in np.arange(0.95, 0.45, -0.05):
        leak = sum(s >= threshold for s in sims["unanswerable"]) / max(1, len(sims["unanswerable"]))
        rescued = sum(s >= threshold for s in sims["right"])
        print(
            f"   at {threshold:.2f}: unanswerable questions' parts counted as said {leak:.1%} "
            f"(of {len(sims['unanswerable'])}), right answers' parts rescued {rescued} (of {len(sims['right'])})"
        )
        if leak <= ALIGNMENT_LEAK:
            chosen = round(float(threshold), 2)
    print(f"   chosen: {chosen}")
    return chosen


def compute_signals(items: list[dict], threshold: float) -> None:
    """The product's own assessment of each question, with the alignment threshold chosen above."""
    calibration = extractive.CALIBRATIONS["all-MiniLM-L6-v2"]
    for item in items:
        if not item["scored"]:
            item["signals"] = None
            continue
        aligner = extractive.aligner_for(calibration)
        aligner.threshold = threshold
        assessment = extractive.assess(item["question"], item["passages"], item["scored"], calibration, aligner)
        item["signals"] = assessment.signals
        item["floor"] = assessment.evidence < calibration.abstain_below
        item["missing"] = any(
            item["signals"][k] for k in ("qualifier_missing", "number_missing", "negation_missing", "entity_missing")
        )


def matrix(items):
    return np.array([[i["signals"][k] for k in answerability.SIGNALS] for i in items])


def fit(items: list[dict]) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression by gradient descent on standardised signals; returns
    the intercept and weights in the signals' own units."""
    x = matrix(items)
    y = np.array([1.0 if i["right"] else 0.0 for i in items])
    w8 = np.array([FOREIGN_WEIGHT if i["kind"] == "foreign" else 1.0 for i in items])
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (w8 * (p - y)) / w8.sum() + L2 * w / len(y))
        b -= 0.5 * float((w8 * (p - y)).sum() / w8.sum())
    weights = w / sd
    return b - float((weights * mu).sum()), weights


def scores(items, intercept, weights):
    """Each question's support; 0 where the evidence floor already abstains."""
    return [
        0.0
        if i["signals"] is None or i["floor"]
        else 1 / (1 + math.exp(-(intercept + float(matrix([i])[0] @ weights))))
        for i in items
    ]


def thresholds(items: list[dict], p: list[float]) -> tuple[float, float]:
    collections = sorted({i["collection"] for i in items})
    abstain = 0.0
    for a in np.arange(0.01, 0.95, 0.01):
        kept = []
        for c in collections:
            right = [s for i, s in zip(items, p, strict=True) if i["collection"] == c and i["right"]]
            kept.append(sum(s >= a for s in right) / max(1, len(right)))
        if min(kept) >= KEEP_RIGHT:
            abstain = round(float(a), 2)
    confident = 1.0
    for c in np.arange(0.99, abstain, -0.01):
        direct = [i for i, s in zip(items, p, strict=True) if s >= c and not i["missing"] and i["kind"] != "foreign"]
        if direct and sum(i["right"] for i in direct) / len(direct) >= DIRECT_PRECISION:
            confident = round(float(c), 2)
    return abstain, max(abstain, confident)


def auc(p, y) -> float | None:
    """The chance that a right answer scores above an unanswerable question (ties broken by order)."""
    order = np.argsort(p, kind="stable")
    y = np.array(y)[order]
    n1, n0 = y.sum(), len(y) - y.sum()
    if not (n1 and n0):
        return None
    return round(float((np.arange(1, len(y) + 1)[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)), 3)


def share(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def outcomes(items, p, abstain, confident) -> dict:
    answerable = [(i, s) for i, s in zip(items, p, strict=True) if i["kind"] == "answerable"]
    unanswerable = [(i, s) for i, s in zip(items, p, strict=True) if i["kind"] == "unanswerable"]
    foreign = [s for i, s in zip(items, p, strict=True) if i["kind"] == "foreign"]
    direct = [
        i for i, s in zip(items, p, strict=True) if i["kind"] != "foreign" and s >= confident and not i["missing"]
    ]
    right = [s for i, s in answerable if i["right"]]
    return {
        "auc (right vs unanswerable)": auc(
            [s for i, s in answerable if i["right"]] + [s for _, s in unanswerable],
            [1] * len(right) + [0] * len(unanswerable),
        ),
        "right kept answered": share(sum(s >= abstain and not i["missing"] for i, s in answerable if i["right"]), len(right)),
        "unanswerable declined": share(sum(s < abstain or i["missing"] for i, s in unanswerable), len(unanswerable)),
        "shown directly": len(direct),
        "shown directly not answering": share(sum(not i["right"] for i in direct), len(direct)),
        "foreign abstained": share(sum(s < abstain for s in foreign), len(foreign)),
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", action="append", type=Path, default=[], help="a SQuAD 2.0 JSON file")
    parser.add_argument("--reuse", action="store_true", help="reuse organizations ingested before")
    parser.add_argument("--write", action="store_true", help="store the fitted model in answerability.json")
    args = parser.parse_args()
    aq.call_command("migrate", verbosity=0)
    items = load_items(args.squad, reuse=args.reuse)
    best_sentences(items)
    threshold = alignment_threshold(items)
    compute_signals(items, threshold)
    # The evidence floor abstains on its own; the model decides among the questions above it.
    usable = [i for i in items if i["signals"] is not None and not i["floor"]]
    collections = sorted({i["collection"] for i in usable})
    print("2. held out (fitted on the other collections)")
    held_out = {}
    for left_out in collections:
        train = [i for i in usable if i["collection"] != left_out]
        test = [i for i in items if i["collection"] == left_out]
        intercept, weights = fit(train)
        abstain, confident = thresholds(train, scores(train, intercept, weights))
        figures = outcomes(test, scores(test, intercept, weights), abstain, confident)
        held_out[left_out] = figures
        print(f"   {left_out} (abstain below {abstain}, confident from {confident}): " + ", ".join(
            f"{k} {'n/a' if v is None else v}" for k, v in figures.items()
        ))  # fmt: skip
    intercept, weights = fit(usable)
    abstain, confident = thresholds(usable, scores(usable, intercept, weights))
    print("3. fitted on everything")
    print(
        f"   intercept {intercept:.3f}; "
        + ", ".join(f"{k} {w:.3f}" for k, w in zip(answerability.SIGNALS, weights, strict=True))
    )
    print(f"   abstain below {abstain}, confident from {confident}, alignment threshold {threshold}")
    p = scores(usable, intercept, weights)
    for c in np.arange(0.3, 0.95, 0.05):
        direct = [i for i, s in zip(usable, p, strict=True) if s >= c and not i["missing"] and i["kind"] != "foreign"]
        right = sum(i["right"] for i in direct)
        print(f"   direct from {c:.2f}: {len(direct)} shown, {right / max(1, len(direct)):.1%} answer; " + ", ".join(
            f"{col} {sum(1 for i in direct if i['collection'] == col)}" for col in collections))  # fmt: skip
    if args.write:
        data = json.loads(answerability.MODELS_FILE.read_text(encoding="utf-8"))
        data["models"]["all-MiniLM-L6-v2"] = {
            "intercept": round(intercept, 4),
            "weights": {k: round(float(w), 4) for k, w in zip(answerability.SIGNALS, weights, strict=True)},
            "abstain_below": abstain,
            "confident_from": confident,
            "alignment_threshold": threshold,
            "held_out": held_out,
        }
        answerability.MODELS_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"   written to {answerability.MODELS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
