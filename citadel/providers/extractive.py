"""The extractive generator: answers by quoting source sentences, never by writing.

Every sentence of the permitted passages is scored against the question:

    coverage  = IDF-weighted share of the question's content stems the sentence contains
    evidence  = c * coverage + s * cosine(question, sentence) + p * cosine(question, passage)
    rank      = 0.8 * evidence + 0.2 * relative retrieval score of the passage

The weights (c = 1 - s - p) and the threshold come from the calibration of the embedder that
serves the organization. The best few sentences (at most MAX_SENTENCES, at most two per passage,
none repeating another) are quoted verbatim with [n] markers. The output holds no word that is not
in a source: only the quoted sentences, [n] markers and joining spaces. It abstains when the best
sentence's evidence is under the threshold.

Calibration: `CITADEL_DATA_DIR=... .venv/bin/python bench/calibrate_abstention.py --as acme-member`
over the demo corpus seeded with `manage.py seed_demo --sync` (k=8; the 83 answerable questions of
demo/golden.jsonl against the 8 of demo/unanswerable.jsonl).
* Lexical coverage alone separates poorly: many answerable questions use other words than the
  handbook ("vacation" for "PTO"), and unanswerable ones share the company's name with everything.
  With IDF over the sentences of the passages and the passage cosine averaged in (the previous
  scorer), 54/83 were answered with one unanswerable question answered too.
* With all-MiniLM-L6-v2: s = 0.6 (the sentence cosine bridges vocabulary), p = 0.1, c = 0.3 with
  IDF over the retrieved passages (a word found in every passage weighs nothing, one found in none
  weighs most: "CEO", "revenue", "dog" are the mark of questions the documents do not answer), and
  fragments under FRAGMENT_STEMS content words lose 0.1 of cosine. The unanswerable questions score
  0.265-0.431, the answerable median 0.559. At 0.45 all 8 unanswerable abstain, 75/83 answerable
  are answered (0.44: 76, 0.46: 72, 0.48: 66) and the first quoted sentence comes from an expected
  document in 75/75. The weights were chosen by a grid over s, p, c, the penalty and the IDF scope,
  preferring the most answers still given with a 0.02 margin above the highest unanswerable score.
* Other embedders (the tests' fake one, OpenAI models) use lexical coverage alone (IDF over
  sentences) at 0.45: cosines on another scale would void the thresholds.
Abstaining on a question the handbook answers is the cheap error (the asker sees the closest
passages); quoting unrelated policy as an answer is the expensive one, so the threshold sits above
the highest unanswerable score.
"""

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from citadel.providers import text as T
from citadel.providers.generation import EXTRACTIVE, Generation, SourcePassage

MAX_SENTENCES = 3
MIN_SENTENCE_WORDS = 4
RETRIEVAL_WEIGHT = 0.2


@dataclass(frozen=True, slots=True)
class Calibration:
    abstain_below: float
    # Answers in the borderline band between abstain_below and this are given but flagged
    # "low_scores" (with MiniLM: the answered golden questions below the answerable median).
    confident_from: float
    # The embedder whose cosines the weights below were fitted to; None: lexical coverage alone.
    embedding_model: str | None = None
    sentence_weight: float = 0.0  # cosine(question, sentence)
    passage_weight: float = 0.0  # cosine(question, passage), from retrieval
    # IDF over the retrieved passages ("passages") or over their sentences ("sentences").
    idf_over: str = "sentences"
    # Subtracted from the sentence cosine of fragments with fewer content words than
    # FRAGMENT_STEMS: headings and greetings ("Welcome to Acme Corporation!") share a short
    # question's topic without answering it.
    fragment_penalty: float = 0.0

    @property
    def coverage_weight(self) -> float:
        return 1.0 - self.sentence_weight - self.passage_weight

    @property
    def dense_weight(self) -> float:
        """The share of evidence that comes from the embedder's cosines (answer receipts show it)."""
        return self.sentence_weight + self.passage_weight


FRAGMENT_STEMS = 4
LEXICAL_ONLY = Calibration(abstain_below=0.45, confident_from=0.55)
CALIBRATIONS = {
    "all-MiniLM-L6-v2": Calibration(
        abstain_below=0.45,
        confident_from=0.55,
        embedding_model="all-MiniLM-L6-v2",
        sentence_weight=0.6,
        passage_weight=0.1,
        idf_over="passages",
        fragment_penalty=0.1,
    ),
}


def calibration_for(embedding_model: str | None) -> Calibration:
    """The calibration for the embedder that actually serves `embedding_model`: a name served by
    another embedder (the tests' fake one stands in for every name) gets lexical coverage alone,
    because cosines from another embedder live on another scale."""
    calibration = CALIBRATIONS.get(embedding_model or "")
    if calibration is None:
        return LEXICAL_ONLY
    from citadel.providers.embeddings import get_embedder

    if get_embedder(calibration.embedding_model).model_name != calibration.embedding_model:
        return LEXICAL_ONLY
    return calibration


# Sentence vectors, so that the evidence gate and the generator scoring the same passages of one
# answer embed them once, and passages that recur across questions are not embedded again.
_VECTORS: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
_VECTORS_MAX = 4096
_vectors_lock = threading.Lock()


def _cosines(model: str, question: str, sentences: list[str]) -> list[float]:
    from citadel.providers.embeddings import get_embedder

    texts = list(dict.fromkeys([question, *sentences]))
    with _vectors_lock:
        missing = [t for t in texts if (model, t) not in _VECTORS]
    vectors = dict(zip(missing, get_embedder(model).embed(missing), strict=True)) if missing else {}
    with _vectors_lock:
        for text in texts:
            if text in vectors:
                _VECTORS[(model, text)] = vectors[text]
            else:
                vectors[text] = _VECTORS[(model, text)]
                _VECTORS.move_to_end((model, text))
        while len(_VECTORS) > _VECTORS_MAX:
            _VECTORS.popitem(last=False)
    q = vectors[question]
    # The embedders normalise their vectors, so the dot product is the cosine.
    return [sum(a * b for a, b in zip(q, vectors[s], strict=True)) for s in sentences]


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    n: int
    start: int
    end: int
    text: str
    coverage: float
    evidence: float
    score: float
    stems: frozenset[str]
    similarity: float | None = None


def score_sentences(
    question: str, passages: list[SourcePassage], calibration: Calibration = LEXICAL_ONLY
) -> list[ScoredSentence]:
    """Every candidate sentence of the passages, best first."""
    q_stems = list(dict.fromkeys(T.content_stems(question)))
    if not q_stems or not passages:
        return []
    candidates: list[tuple[SourcePassage, int, int, frozenset[str]]] = []
    df: Counter[str] = Counter()
    for passage in passages:
        passage_stems: set[str] = set()
        for start, end in T.sentence_spans(passage.text):
            sentence = passage.text[start:end]
            if len(T.words(sentence)) < MIN_SENTENCE_WORDS:
                continue
            stems = frozenset(T.content_stems(sentence))
            candidates.append((passage, start, end, stems))
            if calibration.idf_over == "sentences":
                df.update(stems & set(q_stems))
            passage_stems |= stems
        if calibration.idf_over == "passages":
            df.update(passage_stems & set(q_stems))
    if not candidates:
        return []
    if calibration.idf_over == "passages":
        # A word in every passage (the company's name) tells nothing; one in none weighs most,
        # so a question about something the sources never mention scores low.
        total = len(passages)
        idf = {s: math.log((total + 1) / (df[s] + 0.5)) for s in q_stems}
    else:
        total = len(candidates)
        idf = {s: math.log(1 + (total + 1) / (df[s] + 0.5)) for s in q_stems}
    weight_sum = sum(idf.values()) or 1.0
    similarities: list[float | None] = [None] * len(candidates)
    if calibration.sentence_weight:
        similarities = _cosines(calibration.embedding_model, question, [p.text[s:e] for p, s, e, _ in candidates])
    scored = []
    for (passage, start, end, stems), similarity in zip(candidates, similarities, strict=True):
        coverage = sum(idf[s] for s in q_stems if s in stems) / weight_sum
        evidence = calibration.coverage_weight * coverage
        if similarity is not None:
            if len(stems) < FRAGMENT_STEMS:
                similarity -= calibration.fragment_penalty
            evidence += calibration.sentence_weight * similarity
        if calibration.passage_weight:
            evidence += calibration.passage_weight * (passage.dense_score or 0.0)
        score = (1 - RETRIEVAL_WEIGHT) * evidence + RETRIEVAL_WEIGHT * passage.relative_score
        scored.append(
            ScoredSentence(
                n=passage.n,
                start=start,
                end=end,
                text=passage.text[start:end],
                coverage=coverage,
                evidence=evidence,
                score=score,
                stems=stems,
                similarity=similarity,
            )
        )
    scored.sort(key=lambda s: (-s.score, s.n, s.start))
    return scored


def best_evidence(question: str, passages: list[SourcePassage], calibration: Calibration = LEXICAL_ONLY) -> float:
    scored = score_sentences(question, passages, calibration)
    return max((s.evidence for s in scored), default=0.0)


def select_sentences(scored: list[ScoredSentence], calibration: Calibration = LEXICAL_ONLY) -> list[ScoredSentence]:
    if not scored or max(s.evidence for s in scored) < calibration.abstain_below:
        return []
    best = scored[0].score
    chosen: list[ScoredSentence] = []
    per_passage: Counter[int] = Counter()
    for sentence in scored:
        if len(chosen) == MAX_SENTENCES:
            break
        if sentence.evidence < calibration.abstain_below or sentence.score < 0.7 * best:
            continue
        if per_passage[sentence.n] == 2:
            continue
        # Skip near-repeats (the same sentence in two versions or overlapping chunks).
        if any(len(sentence.stems & c.stems) >= 0.8 * max(1, len(sentence.stems)) for c in chosen):
            continue
        chosen.append(sentence)
        per_passage[sentence.n] += 1
    return chosen


class ExtractiveGenerator:
    name = EXTRACTIVE
    model = "extractive-v1"
    streams = False

    def __init__(self, calibration: Calibration = LEXICAL_ONLY) -> None:
        self.calibration = calibration

    def generate(self, *, question: str, passages: list[SourcePassage]) -> Generation:
        scored = score_sentences(question, passages, self.calibration)
        support = max((s.evidence for s in scored), default=0.0)
        chosen = select_sentences(scored, self.calibration)
        # Line breaks inside a quoted sentence are the source's wrapping, not sentence ends: fold
        # them so the answer's sentences are exactly the quoted ones (the checks re-split it).
        text = " ".join(f"{' '.join(s.text.split())} [{s.n}]" for s in chosen)
        return Generation(
            text=text,
            model=self.model,
            abstained=not chosen,
            support=support,
            prompt_text=question,
            details={"candidates": len(scored), "chosen": [(s.n, round(s.score, 4)) for s in chosen]},
        )

    def stream(self, *, question: str, passages: list[SourcePassage]) -> Iterator[str | Generation]:
        generation = self.generate(question=question, passages=passages)
        if generation.text:
            yield generation.text
        yield generation
