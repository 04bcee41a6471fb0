"""Ranking metrics, judged per document: `ranked` is the list of document external ids in the
order retrieval returned their chunks (repeats allowed; a document counts at its first position),
`relevant` the expected external ids. Binary relevance. Pure functions, no database.

With no relevant documents, recall, MRR and nDCG are undefined and return None so callers can leave
such questions out of averages instead of counting them as misses or hits.
"""

import math
from collections.abc import Iterable, Sequence


def unique_in_order(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _top(ranked: Sequence[str], k: int) -> list[str]:
    if k < 1:
        raise ValueError("k must be at least 1")
    return unique_in_order(ranked)[:k]


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    relevant = set(relevant)
    if not relevant:
        return None
    return len(relevant.intersection(_top(ranked, k))) / len(relevant)


def precision_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    relevant = set(relevant)
    return len(relevant.intersection(_top(ranked, k))) / k


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str], k: int | None = None) -> float | None:
    relevant = set(relevant)
    if not relevant:
        return None
    docs = unique_in_order(ranked) if k is None else _top(ranked, k)
    for position, doc in enumerate(docs, start=1):
        if doc in relevant:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    relevant = set(relevant)
    if not relevant:
        return None
    dcg = sum(1.0 / math.log2(position + 1) for position, doc in enumerate(_top(ranked, k), start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def mean(values: Iterable[float | None]) -> float | None:
    judged = [v for v in values if v is not None]
    return sum(judged) / len(judged) if judged else None
