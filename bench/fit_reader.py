"""Choose the reader's policy (citadel/reading/model/policy.json) on development data, never on the
articles reported.

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/fit_reader.py [--write]

The calibration articles are the SQuAD 2.0 development articles bench/train_reader.py kept out of
training for this (the same seed picks them); Rhine and Computational complexity theory are never
read here. Each question is read as the product reads it: the sentences of its paragraph and the
sentences of the article most like it (what retrieval brings beside its paragraph), the
reader.MAX_CANDIDATES most alike, through the shipped reader (the delta merged into the ONNX graph).
Questions of another calibration article stand for questions the documents never answer.

* confident_from: the lowest probability at which at most TARGET_WRONG_SHOWN of the answers shown
  directly fail to answer (the best sentence holds no gold answer, or the question has none);
* abstain_below: the highest probability below it that still keeps KEEP_RIGHT of the right answers
  (shown or sent to review), so the rest of the unanswerable ones are declined;
* include_from: a further sentence is quoted beside the best one when the reader is this sure it
  answers too (confident_from: a second quote must be as sure as an answer shown on its own).
"""

import argparse
import gzip
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import train_reader  # noqa: E402

from citadel.providers import text as T  # noqa: E402
from citadel.reading import reader as reading  # noqa: E402

TARGET_WRONG_SHOWN = 0.10
KEEP_RIGHT = 0.85
FOREIGN_PER_ARTICLE = 100


def calibration_articles(data: Path) -> list[dict]:
    with gzip.open(data / "squad2-dev-32-articles.json.gz", "rt", encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    rest = sorted((a for a in articles if a["title"] not in train_reader.HELD_OUT), key=lambda a: a["title"])
    random.Random(train_reader.SEED).shuffle(rest)
    return rest[: train_reader.CALIBRATION_ARTICLES]


def article_sentences(article: dict) -> list[tuple[int, str, frozenset[str]]]:
    result = []
    for p, paragraph in enumerate(article["paragraphs"]):
        context = paragraph["context"]
        for s, e in train_reader.sentences_of(context):
            sentence = train_reader.fold(context[s:e])
            if not sentence.endswith("?"):
                result.append((p, sentence, frozenset(T.content_stems(sentence))))
    return result


def read_question(reader, question: str, sentences, own: int | None) -> list[tuple[float, str]]:
    """The candidates' probabilities and sentences, in the order of their lexical rank."""
    stems = set(T.content_stems(question))
    ranked = sorted(sentences, key=lambda s: -(s[0] == own) * 0.5 - len(stems & s[2]))
    candidates = [s[1] for s in ranked[: reading.MAX_CANDIDATES]]
    return [(r.probability, s) for r, s in zip(reader.read(question, candidates), candidates, strict=True)]


def best_of(read: list[tuple[float, str]], k: int) -> tuple[float, str]:
    return max(read[:k], key=lambda r: r[0])


def fit(items: list[dict], foreign: list[float]) -> dict:
    grid = [round(0.01 * i, 2) for i in range(1, 100)]

    def wrong_shown(t: float) -> float:
        shown = [i for i in items if i["p"] >= t]
        return sum(not i["right"] for i in shown) / len(shown) if shown else 0.0

    confident_from = next(t for t in grid if wrong_shown(t) <= TARGET_WRONG_SHOWN)
    right = sorted(i["p"] for i in items if i["right"])
    abstain_below = min(confident_from, right[int(len(right) * (1 - KEEP_RIGHT))])
    abstain_below = float(int(abstain_below * 100) / 100)
    answerable = [i for i in items if i["answerable"]]
    unanswerable = [i for i in items if not i["answerable"]]
    return {
        "abstain_below": abstain_below,
        "confident_from": confident_from,
        "include_from": confident_from,
        "figures": {
            "questions": len(items),
            "answerable right and shown directly": round(
                sum(i["right"] and i["p"] >= confident_from for i in answerable) / len(answerable), 3
            ),
            "answerable right, shown or sent to review": round(
                sum(i["right"] and i["p"] >= abstain_below for i in answerable) / len(answerable), 3
            ),
            "unanswerable declined": round(sum(i["p"] < abstain_below for i in unanswerable) / len(unanswerable), 3),
            "shown directly not answering": round(wrong_shown(confident_from), 3),
            "foreign declined": round(sum(p < abstain_below for p in foreign) / len(foreign), 3),
        },
    }


def read_articles(args) -> tuple[dict, dict, list[dict]]:
    """Per candidate count: each calibration question's best probability and whether its sentence
    is right, and the best probabilities of other articles' questions."""
    reader = reading.Reader(quantized=args.int8)
    articles = calibration_articles(args.data)
    items_at: dict[int, list[dict]] = {args.candidates: [], reading.MAX_CANDIDATES: []}
    foreign_at: dict[int, list[float]] = {args.candidates: [], reading.MAX_CANDIDATES: []}
    rng = random.Random(train_reader.SEED)
    for article in articles:
        sentences = article_sentences(article)
        for p, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                read = read_question(reader, qa["question"], sentences, p)
                gold = [train_reader.fold(a["text"]).lower() for a in qa["answers"]]
                for k in (args.candidates, reading.MAX_CANDIDATES):
                    probability, sentence = best_of(read, k)
                    right = not qa.get("is_impossible") and any(g and g in sentence.lower() for g in gold)
                    items_at[k].append({"p": probability, "answerable": not qa.get("is_impossible"), "right": right})
        others = [qa["question"] for a in articles if a is not article for p in a["paragraphs"] for qa in p["qas"]]
        for question in rng.sample(others, FOREIGN_PER_ARTICLE):
            read = read_question(reader, question, sentences, None)
            for k in (args.candidates, reading.MAX_CANDIDATES):
                foreign_at[k].append(best_of(read, k)[0])
        print(f"read {article['title']}", flush=True)

    return items_at, foreign_at, articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument(
        "--candidates", type=int, default=reading.MAX_CANDIDATES, help="candidates the product reads (at most 16)"
    )
    parser.add_argument("--int8", action="store_true", help="read with the int8 graph (and say so in the policy)")
    parser.add_argument("--cache", type=Path, help="keep the articles' readings here and reuse them")
    parser.add_argument("--demo", type=Path, help="the demo's supports, from bench/answer_quality.py --supports-out")
    parser.add_argument("--write", action="store_true", help="store the policy in citadel/reading/model/policy.json")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        cached = json.loads(args.cache.read_text())
        items_at = {int(k): v for k, v in cached["items"].items()}
        foreign_at = {int(k): v for k, v in cached["foreign"].items()}
        articles = calibration_articles(args.data)
    else:
        items_at, foreign_at, articles = read_articles(args)
        if args.cache:
            args.cache.write_text(json.dumps({"items": items_at, "foreign": foreign_at}))
    demo = []
    if args.demo:
        # The demo's golden and unanswerable questions as the product answered them
        # (bench/answer_quality.py --supports-out): development data too.
        for item in json.loads(args.demo.read_text()):
            demo.append({"p": item["support"], "answerable": item["set"] == "golden", "right": item["right"]})
    for k in sorted(items_at):
        fitted = fit(items_at[k] + demo, foreign_at[k])
        print(f"reading the best {k} candidates:", json.dumps(fitted, indent=2), flush=True)
    fitted = fit(items_at[args.candidates] + demo, foreign_at[args.candidates])

    policy = {
        **{k: fitted[k] for k in ("abstain_below", "confident_from", "include_from")},
        "candidates": args.candidates,
        "int8": args.int8,
        "model": reading.version(),
        "fitted_on": [a["title"] for a in articles] + (["demo golden and unanswerable"] if demo else []),
        "figures on the articles fitted": fitted["figures"],
    }
    print(json.dumps(policy, indent=2))
    if args.write:
        reading.POLICY_FILE.write_text(json.dumps(policy, indent=2) + "\n", encoding="utf-8")
        print(f"written to {reading.POLICY_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
