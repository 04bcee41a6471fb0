"""Judging one question's retrieval or answer against its golden sources, and summing up a run.

The rank metrics themselves (recall@k, precision@k, reciprocal rank, nDCG@k) live in
citadel/evaluation/metrics.py; this module decides what counts as relevant and classifies answers.

Judging is per document: ranked hits collapse to their documents, first occurrence wins, so five
chunks of one right document count once. A question with expected passages is judged per passage
instead: a hit is relevant when its text contains one of the snippets (case and spacing ignored).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from citadel.evaluation import metrics
from citadel.evaluation.models import Classification

NDCG_AT = 10
# How a question fared, worst first; comparisons of two runs rank outcomes by it.
OUTCOME_ORDER = [Classification.RETRIEVAL_MISS, Classification.GENERATION_MISS, Classification.CORRECT]


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class Judged:
    """Ranked, de-duplicated keys of what was retrieved, and the keys that count as relevant."""

    ranked: list[str]
    relevant: frozenset[str]


def judge(hits: Iterable, *, expected_ids: Sequence[str], expected_passages: Sequence[str] = ()) -> Judged:
    """`hits` are objects with `external_id`, `text` and `chunk_id` (retrieval Hits, or passages
    of an answer), best first."""
    ranked: list[str] = []
    if expected_passages:
        snippets = [_normalise(p) for p in expected_passages]
        for hit in hits:
            text = _normalise(hit.text)
            key = next((f"passage:{i}" for i, s in enumerate(snippets) if s in text), f"chunk:{hit.chunk_id}")
            if key not in ranked:
                ranked.append(key)
        return Judged(ranked=ranked, relevant=frozenset(f"passage:{i}" for i in range(len(snippets))))
    for hit in hits:
        if hit.external_id not in ranked:
            ranked.append(hit.external_id)
    return Judged(ranked=ranked, relevant=frozenset(expected_ids))


# The plain reciprocal rank fusion the gate and bench/retrieval_quality.py set beside Citadel's own
# fusion: the textbook constant, equal weights.
PLAIN_RRF_K = 60


def reciprocal_rank_fusion(*rankings: Sequence, k: int = PLAIN_RRF_K) -> list:
    """Keys of `rankings` (each best first) by the sum of 1 / (k + rank) over the rankings."""
    scores: dict = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda key: (-scores[key], str(key)))


# The legs a retrieval run also judges on their own, beside the fused ranking: (key, label).
LEG_METRICS = [
    ("ndcg@10_dense", "nDCG@10, dense leg alone"),
    ("ndcg@10_lexical", "nDCG@10, lexical leg alone"),
    ("ndcg@10_rrf", "nDCG@10, plain RRF of the legs"),
]


def leg_metrics(*, dense: Sequence, lexical: Sequence, expected_ids, expected_passages=()) -> dict:
    """nDCG@10 of the dense leg, the lexical leg and a plain RRF of the two (hits best first), so a
    run shows whether fusion keeps what each leg finds."""
    by_chunk = {h.chunk_id: h for h in [*dense, *lexical]}
    fused = reciprocal_rank_fusion([h.chunk_id for h in dense], [h.chunk_id for h in lexical])
    rankings = {"dense": dense, "lexical": lexical, "rrf": [by_chunk[c] for c in fused]}
    out = {}
    for name, hits in rankings.items():
        judged = judge(hits, expected_ids=expected_ids, expected_passages=expected_passages)
        out[f"ndcg@10_{name}"] = metrics.ndcg_at_k(judged.ranked, judged.relevant, NDCG_AT)
    return out


def question_metrics(judged: Judged, *, k: int) -> dict:
    """Rank metrics of one question; None throughout for an unanswerable question (nothing is
    relevant), so run means leave it out."""
    ranked, relevant = judged.ranked, set(judged.relevant)
    first = next((i for i, key in enumerate(ranked[:k], start=1) if key in relevant), None)
    return {
        "recall@k": metrics.recall_at_k(ranked, relevant, k),
        "precision@k": metrics.precision_at_k(ranked, relevant, k) if relevant else None,
        "rr": metrics.reciprocal_rank(ranked, relevant, k),
        "ndcg@10": metrics.ndcg_at_k(ranked, relevant, NDCG_AT),
        "first_relevant_rank": first,
    }


def classify_answer(*, judged_retrieved: Judged, judged_cited: Judged, abstained: bool) -> Classification:
    """retrieval_miss: no expected source reached the generator; generation_miss: one did, but
    the answer abstained or cited none of them; correct: an expected source is cited.
    A question with no expected source is correct when the answer abstains, and a generation
    miss when it answers anyway."""
    if not judged_retrieved.relevant:
        return Classification.CORRECT if abstained else Classification.GENERATION_MISS
    if not judged_retrieved.relevant.intersection(judged_retrieved.ranked):
        return Classification.RETRIEVAL_MISS
    if abstained or not judged_cited.relevant.intersection(judged_cited.ranked):
        return Classification.GENERATION_MISS
    return Classification.CORRECT


def _mean(values: list[float | None]) -> float | None:
    value = metrics.mean(values)
    return None if value is None else round(value, 4)


def run_metrics(rows: list[dict], *, k: int, classifications: list[str] | None = None) -> dict:
    """Means over questions. `rows` are question_metrics() dicts plus "abstained"."""
    summary = {
        "k": k,
        "questions": len(rows),
        "recall@k": _mean([r["recall@k"] for r in rows]),
        "precision@k": _mean([r["precision@k"] for r in rows]),
        "mrr": _mean([r["rr"] for r in rows]),
        "ndcg@10": _mean([r["ndcg@10"] for r in rows]),
        "abstention_rate": _mean([1.0 if r.get("abstained") else 0.0 for r in rows]),
        "unanswerable": sum(1 for r in rows if r["recall@k"] is None),
    }
    for key, _ in LEG_METRICS:
        if any(key in r for r in rows):
            summary[key] = _mean([r.get(key) for r in rows])
    if classifications is not None:
        for choice in Classification:
            summary[choice.value] = sum(1 for c in classifications if c == choice)
        summary["correct_rate"] = _mean([1.0 if c == Classification.CORRECT else 0.0 for c in classifications])
    follow_ups = [i for i, r in enumerate(rows) if r.get("follow_up")]
    if follow_ups:
        # Follow-ups also count above, like any question; here they are told apart.
        summary["follow_ups"] = len(follow_ups)
        summary["follow_up_recall@k"] = _mean([rows[i]["recall@k"] for i in follow_ups])
        summary["follow_up_ndcg@10"] = _mean([rows[i]["ndcg@10"] for i in follow_ups])
        if classifications is not None:
            summary["follow_up_correct_rate"] = _mean(
                [1.0 if classifications[i] == Classification.CORRECT else 0.0 for i in follow_ups]
            )
    return summary


# Metrics shown and compared, in display order: (key, label, higher is better).
METRIC_LABELS = [
    ("recall@k", "Recall@k", True),
    ("precision@k", "Precision@k", True),
    ("mrr", "MRR", True),
    ("ndcg@10", "nDCG@10", True),
    *((key, label, True) for key, label in LEG_METRICS),
    ("abstention_rate", "Abstention rate", False),
    ("correct_rate", "Correct answers", True),
    ("follow_up_recall@k", "Recall@k, follow-ups", True),
    ("follow_up_ndcg@10", "nDCG@10, follow-ups", True),
    ("follow_up_correct_rate", "Correct answers, follow-ups", True),
]


def outcome_score(*, classification: str, metrics_row: dict) -> tuple:
    """Orders one question's outcome so two runs' results can be compared: the answer
    classification first (answer runs), then nDCG@10, then recall."""
    rank = OUTCOME_ORDER.index(classification) if classification in OUTCOME_ORDER else -1
    return (rank, round(metrics_row.get("ndcg@10") or 0.0, 4), round(metrics_row.get("recall@k") or 0.0, 4))
