"""Typed values on data this repository does not hold: SQuAD 2.0 questions whose gold answer is a
date, an amount, a duration or a percentage, read from their paragraph by the offline extractor.

    .venv/bin/python bench/extraction_squad.py ../shared/datasets/squad2-dev-rhine-complexity.json

For every answerable question, each gold answer is tried as a value of each type
(citadel.reading.values.find_value on the answer text alone); a question whose gold answer is
such a value is then asked of its paragraph the way an extraction field is
(citadel.reading.values.extract_field, the question as the field's words). A value equal to a
gold answer's is right; another value is wrong; none is missing. Nothing is fitted here.
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citadel.reading import values  # noqa: E402

KINDS = (values.DATE, values.AMOUNT, values.DURATION, values.PERCENTAGE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("squad")
    args = parser.parse_args()
    data = json.loads(Path(args.squad).read_text())
    counts: dict[str, Counter] = defaultdict(Counter)
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa.get("is_impossible"):
                    continue
                for kind in KINDS:
                    gold = {
                        found.value
                        for answer in qa["answers"]
                        if (found := values.find_value(kind, answer["text"])) is not None
                        and found.end - found.start >= len(answer["text"].strip()) * 0.6
                    }
                    if not gold:
                        continue
                    read = values.extract_field(kind, qa["question"], [paragraph["context"]])
                    verdict = "missing" if read is None else "right" if read.value in gold else "wrong"
                    counts[kind][verdict] += 1
    for kind in KINDS:
        c = counts[kind]
        total = sum(c.values())
        if total:
            print(
                f"{kind:10} {total:3} questions: {c['right']} right ({c['right'] / total:.0%}), {c['wrong']} wrong, {c['missing']} missing"
            )


if __name__ == "__main__":
    main()
