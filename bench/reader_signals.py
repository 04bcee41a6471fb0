"""Do coverage and type signals add to the reader? Fit a logistic model over the reader's logits and
what coverage finds missing, on the calibration articles only, and compare it with the reader's
probability alone on the held-out articles (Rhine, Computational complexity theory).

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/reader_signals.py [--cache F]

Each question is read as bench/fit_reader.py reads it (the policy's candidates from its article,
through the shipped int8 reader). Printed per set: the AUC of right answers against unanswerable
questions, and at the threshold the calibration articles give for at most 10% of direct answers
failing to answer, the share of answerable questions answered right directly and the share of
direct answers that do not answer.
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fit_reader  # noqa: E402  (sets Django up)
import train_reader  # noqa: E402

from citadel.providers import text as T  # noqa: E402
from citadel.reading import coverage  # noqa: E402
from citadel.reading import reader as reading  # noqa: E402

SIGNALS = (
    "best",
    "margin",
    "above_zero",
    "span_holds_type",
    "type_missing",
    "qualifier_missing",
    "number_missing",
    "negation_missing",
    "entity_missing",
    "lexical",
)


def signals(reader, question: str, sentences, own: int | None) -> dict:
    stems = set(T.content_stems(question))
    ranked = sorted(sentences, key=lambda s: -(s[0] == own) * 0.5 - len(stems & s[2]))
    candidates = ranked[: reading.policy().candidates]
    logits, spans, encodings = reader.logits(question, [c[1] for c in candidates])
    order = np.argsort(-logits)
    b = int(order[0])
    paragraph, best, best_stems = candidates[b]
    span = reading._span(spans[b], encodings[b])
    asked = coverage.AskedFor.of(question)
    passage = " ".join(s for p, s, _ in sentences if p == paragraph)
    missing = {part.kind for part in coverage.uncovered(question, [best], [passage])}
    return {
        "best": float(logits[b]),
        "margin": float(logits[b] - logits[order[1]]) if len(order) > 1 else 0.0,
        "above_zero": float((logits > 0).sum()),
        "span_holds_type": float(
            asked.kind is not None and span is not None and asked.held_by(best[span[0] : span[1]])
        ),
        "type_missing": float(not asked.held_by(best)),
        "qualifier_missing": float("qualifier" in missing),
        "number_missing": float("number" in missing),
        "negation_missing": float("negation" in missing),
        "entity_missing": float(bool({"entity", "role"} & missing)),
        "lexical": len(stems & best_stems) / max(1, len(stems)),
        "sentence": best,
    }


def read(reader, articles: list[dict]) -> list[dict]:
    items = []
    for article in articles:
        sentences = fit_reader.article_sentences(article)
        for p, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                item = signals(reader, qa["question"], sentences, p)
                gold = [train_reader.fold(a["text"]).lower() for a in qa["answers"]]
                answerable = not qa.get("is_impossible")
                right = answerable and any(g and g in item["sentence"].lower() for g in gold)
                items.append({**item, "article": article["title"], "answerable": answerable, "right": right})
        print(f"read {article['title']}", flush=True)
    return items


def fit(items: list[dict], l2: float = 1.0):
    """A logistic model of "the best sentence answers" over SIGNALS (standardised), by Newton's method."""
    x = np.array([[i[s] for s in SIGNALS] for i in items])
    y = np.array([float(i["right"]) for i in items])
    mean, spread = x.mean(0), x.std(0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mean) / spread]
    w = np.zeros(z.shape[1])
    ridge = l2 * np.diag(np.r_[0.0, np.ones(len(SIGNALS))])
    for _ in range(50):
        p = train_reader.sigmoid(z @ w)
        w -= np.linalg.solve((z * (p * (1 - p))[:, None]).T @ z + ridge, z.T @ (p - y) + ridge @ w)

    def score(item: dict) -> float:
        return float(train_reader.sigmoid(w[0] + ((np.array([item[s] for s in SIGNALS]) - mean) / spread) @ w[1:]))

    return score, dict(zip(("intercept", *SIGNALS), np.round(w, 3).tolist(), strict=True))


def threshold(items: list[dict], score) -> float:
    for t in (i / 100 for i in range(1, 100)):
        shown = [i for i in items if score(i) >= t]
        if shown and sum(not i["right"] for i in shown) / len(shown) <= fit_reader.TARGET_WRONG_SHOWN:
            return t
    return 1.0


def line(name: str, items: list[dict], score, t: float) -> str:
    answerable = [i for i in items if i["answerable"]]
    shown = [i for i in items if score(i) >= t]
    auc = train_reader.auc([score(i) for i in items if i["right"]], [score(i) for i in items if not i["answerable"]])
    right_shown = sum(i["right"] and score(i) >= t for i in answerable) / len(answerable)
    wrong = sum(not i["right"] for i in shown) / len(shown) if shown else 0.0
    return (
        f"  {name:44} auc {auc:.3f}  at {t:.2f}: answered right directly {right_shown:.1%}, "
        f"direct not answering {wrong:.1%} of {len(shown)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=fit_reader.ROOT.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, help="keep the readings here and reuse them")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        items = json.loads(args.cache.read_text())
    else:
        reader = reading.Reader(quantized=True)
        with gzip.open(args.data / "squad2-dev-32-articles.json.gz", "rt", encoding="utf-8") as handle:
            held_out = [a for a in json.load(handle)["data"] if a["title"] in train_reader.HELD_OUT]
        items = {
            "calibration": read(reader, fit_reader.calibration_articles(args.data)),
            "held out": read(reader, held_out),
        }
        if args.cache:
            args.cache.write_text(json.dumps(items))
    a, b = (float(v) for v in (reading._metadata()["platt_a"], reading._metadata()["platt_b"]))

    def alone(item: dict) -> float:
        return float(train_reader.sigmoid(a * item["best"] + b))

    combined, weights = fit(items["calibration"])
    print("combined weights (fitted on the calibration articles):", json.dumps(weights))
    for name, score in (("the reader alone", alone), ("the reader with coverage and type", combined)):
        t = threshold(items["calibration"], score)
        print(f"{name}:")
        print(line("calibration articles (fitted)", items["calibration"], score, t))
        for title in train_reader.HELD_OUT:
            print(line(f"{title} (held out)", [i for i in items["held out"] if i["article"] == title], score, t))


if __name__ == "__main__":
    main()
