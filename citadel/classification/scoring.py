"""How well a label fits a document, from vectors alone. Two kinds of evidence:

* the label's description: the cosine of the document's centroid (the mean of its passages'
  vectors) with the description's vector;
* the documents people gave labels: among the document's nearest such documents (by centroid
  cosine), the share that carry the label. Documents of one organization all resemble each other,
  so a raw cosine with one of them says little; which labels its nearest neighbours carry does.

Pure: the services bring the vectors."""

from dataclasses import dataclass

import numpy as np

# Fitted on the development half of the demo handbook's labels (bench/classification.py --fit);
# the held-out half is reported. A label is given when either kind of evidence reaches its
# ASSIGN threshold, suggested for review when either reaches its SUGGEST threshold.
ASSIGN_AT = 0.46
SUGGEST_AT = 0.22
NEIGHBOURS = 5
VOTE_ASSIGN_AT = 1.0
VOTE_SUGGEST_AT = 0.2


@dataclass(frozen=True)
class Score:
    description: float
    # The share of the nearest people-labelled documents carrying the label; None without any.
    neighbours: float | None = None

    @property
    def confidence(self) -> float:
        return max(self.description, self.neighbours or 0.0)


def _unit(vector) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


def label_scores(
    document, descriptions: dict[int, list[float]], examples: dict[int, set[int]], vectors: dict[int, list[float]]
) -> dict[int, Score]:
    """Each label's score for a document. `examples`: per label, the documents people gave it;
    `vectors`: those documents' centroids (the document itself left out by the caller)."""
    doc = _unit(document)
    nearest: list[int] = []
    if vectors:
        ids = list(vectors)
        sims = np.stack([_unit(vectors[i]) for i in ids]) @ doc
        nearest = [ids[j] for j in np.argsort(-sims)[:NEIGHBOURS]]
    scores = {}
    for label_id, description in descriptions.items():
        share = sum(i in examples.get(label_id, ()) for i in nearest) / len(nearest) if nearest else None
        scores[label_id] = Score(round(float(doc @ _unit(description)), 4), None if share is None else round(share, 4))
    return scores


def decision(score: Score) -> str | None:
    """assigned, suggested, or None (not proposed)."""
    votes = score.neighbours if score.neighbours is not None else -1.0
    if score.description >= ASSIGN_AT or votes >= VOTE_ASSIGN_AT:
        return "assigned"
    if score.description >= SUGGEST_AT or votes >= VOTE_SUGGEST_AT:
        return "suggested"
    return None
