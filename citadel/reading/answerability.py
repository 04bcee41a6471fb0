"""How likely the best quoted sentence answers the question: one score from several signals.

Similarity says a sentence is about the question; it does not say the sentence answers it. The
answerability score combines what the extractive scorer measures of the best sentence (its evidence,
its cosine and its passage's cosine to the question, its lead over the best sentence of another
passage) with what coverage finds missing (a qualifier, a number, a negation, a named thing or a
role the question asks about and the sentence does not say; a value of the asked-for type) in a logistic
model: score = 1 / (1 + exp(-(intercept + sum(weight * signal)))).

The coefficients and the thresholds are fitted, per embedder whose cosines they were fitted to, by

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/fit_answerability.py \
        --squad ../shared/datasets/squad2-dev-rhine-complexity.json --write

on the demo golden and unanswerable questions and the SQuAD 2.0 articles together, cross-validated
by leaving each collection out (the held-out figures are in answerability.json beside the
coefficients). demo/phrased.jsonl is never used for fitting.
"""

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from citadel.reading import coverage

MODELS_FILE = Path(__file__).with_name("answerability.json")

SIGNALS = (
    "evidence",
    "similarity",
    "passage_similarity",
    "margin",
    "qualifier_missing",
    "number_missing",
    "negation_missing",
    "entity_missing",
    "type_missing",
)


@dataclass(frozen=True, slots=True)
class AnswerabilityModel:
    embedding_model: str
    intercept: float
    weights: dict[str, float]
    abstain_below: float
    confident_from: float
    # Token alignment above this counts a qualifier or a named thing as said (coverage.TokenAligner).
    alignment_threshold: float

    def score(self, signals: dict[str, float]) -> float:
        z = self.intercept + sum(w * signals.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@cache
def models() -> dict[str, AnswerabilityModel]:
    data = json.loads(MODELS_FILE.read_text(encoding="utf-8"))
    return {
        name: AnswerabilityModel(
            embedding_model=name,
            intercept=m["intercept"],
            weights={k: m["weights"][k] for k in SIGNALS},
            abstain_below=m["abstain_below"],
            confident_from=m["confident_from"],
            alignment_threshold=m["alignment_threshold"],
        )
        for name, m in data["models"].items()
    }


def signals(question: str, top, passage_text: str, passage_similarity: float | None, others_best: float, aligner):
    """The signals of the best sentence (an extractive.ScoredSentence) in its passage."""
    missing = {p.kind for p in coverage.uncovered(question, [top.text], [passage_text], aligner)}
    return {
        "evidence": top.evidence,
        "similarity": top.similarity or 0.0,
        "passage_similarity": passage_similarity or 0.0,
        "margin": top.score - others_best,
        "qualifier_missing": float("qualifier" in missing),
        "number_missing": float("number" in missing),
        "negation_missing": float("negation" in missing),
        "entity_missing": float(bool({"entity", "role"} & missing)),
        "type_missing": float(not top.holds_type),
    }
