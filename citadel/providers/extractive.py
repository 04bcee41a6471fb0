"""The extractive generator: answers by quoting source sentences, never by writing.

Every sentence of the permitted passages is scored against the question:

    coverage  = IDF-weighted share of the question's content stems the sentence contains
    evidence  = c * coverage + s * cosine(question, sentence) + p * cosine(question, passage)
    rank      = 0.8 * evidence + 0.2 * relative retrieval score of the passage
                + TYPE_BONUS when the sentence holds a value of the asked-for type

The weights (c = 1 - s - p) come from the calibration of the embedder that serves the organization.
The best few sentences (the best one, then at most MAX_SENTENCES, at most two per passage, none
repeating another, each with evidence of at least the calibration's floor) are quoted verbatim with [n]
markers. The output holds no word that is not in a source: only the quoted sentences, [n] markers
and joining spaces.

Whether to answer at all is the support: for an embedder with a fitted answerability model
(citadel.providers.answerability: the best sentence's evidence, cosines and lead, and what coverage
finds missing from it, in one logistic score) that score, otherwise the best evidence. It abstains
below the calibration's abstain_below and flags "low_scores" below confident_from.

Evidence weights (a grid over the demo golden and unanswerable questions, preferring the most
answers given with a margin above the highest unanswerable score): with all-MiniLM-L6-v2,
s = 0.6 (the sentence cosine bridges vocabulary: "vacation" for "PTO"), p = 0.1, c = 0.3 with IDF
over the retrieved passages (a word found in every passage weighs nothing, one found in none weighs
most: "CEO", "revenue", "dog" mark questions the documents do not answer), and fragments under
FRAGMENT_STEMS content words lose 0.1 of cosine. Other embedders (the tests' fake one, OpenAI
models) use lexical coverage alone (IDF over sentences) and abstain below an evidence of 0.45:
cosines on another scale would void the fitted weights.
Abstaining on a question the documents answer is the cheap error (the asker sees the closest
passages); quoting unrelated policy as an answer is the expensive one.
"""

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from citadel.providers import answerability, coverage
from citadel.providers import text as T
from citadel.providers.answerability import AnswerabilityModel
from citadel.providers.generation import EXTRACTIVE, Generation, SourcePassage

MAX_SENTENCES = 3
MIN_SENTENCE_WORDS = 4
RETRIEVAL_WEIGHT = 0.2
# "How many days" prefers the sentence with the count over one that merely mentions days. Chosen on
# the demo and SQuAD development questions: the share whose best sentence answers rose at 0.05 and
# no further above it (demo golden 82 -> 83 of 83, Rhine 234 -> 235 of 290, Complexity unchanged).
TYPE_BONUS = 0.05


@dataclass(frozen=True, slots=True)
class Calibration:
    # The evidence floor: below it nothing in the sources is close enough to quote (with MiniLM,
    # fitted to the demo: all 8 unanswerable questions abstain at 0.45).
    abstain_below: float
    # Where no answerability model is fitted, answers between abstain_below and this evidence are
    # given but flagged "low_scores".
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
    # The fitted answerability model for this embedder; None: the support is the best evidence.
    answerability: AnswerabilityModel | None = None

    @property
    def coverage_weight(self) -> float:
        return 1.0 - self.sentence_weight - self.passage_weight

    @property
    def support_thresholds(self) -> tuple[float, float]:
        """(abstain below, confident from) on the support's own scale."""
        if self.answerability is None:
            return self.abstain_below, self.confident_from
        return self.answerability.abstain_below, self.answerability.confident_from

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
        answerability=answerability.models()["all-MiniLM-L6-v2"],
    ),
}
# An organization searching with the int8 model is answered as the fp32 model's: its sentences are
# scored by the model these thresholds were fitted on (the calibration names it).
CALIBRATIONS["all-MiniLM-L6-v2-int8"] = CALIBRATIONS["all-MiniLM-L6-v2"]


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
    # Holds a value of the type the question asks for (True when it asks for none in particular).
    holds_type: bool = True


def score_sentences(
    question: str, passages: list[SourcePassage], calibration: Calibration = LEXICAL_ONLY
) -> list[ScoredSentence]:
    """Every candidate sentence of the passages, best first."""
    q_stems = list(dict.fromkeys(T.content_stems(question)))
    asked = coverage.AskedFor.of(question)
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
        lexical = sum(idf[s] for s in q_stems if s in stems) / weight_sum
        evidence = calibration.coverage_weight * lexical
        if similarity is not None:
            if len(stems) < FRAGMENT_STEMS:
                similarity -= calibration.fragment_penalty
            evidence += calibration.sentence_weight * similarity
        if calibration.passage_weight:
            evidence += calibration.passage_weight * (passage.dense_score or 0.0)
        score = (1 - RETRIEVAL_WEIGHT) * evidence + RETRIEVAL_WEIGHT * passage.relative_score
        holds_type = asked.held_by(passage.text[start:end])
        if asked.kind is not None and holds_type:
            score += TYPE_BONUS
        scored.append(
            ScoredSentence(
                n=passage.n,
                start=start,
                end=end,
                text=passage.text[start:end],
                coverage=lexical,
                evidence=evidence,
                score=score,
                stems=stems,
                similarity=similarity,
                holds_type=holds_type,
            )
        )
    scored.sort(key=lambda s: (-s.score, s.n, s.start))
    return scored


@dataclass(frozen=True, slots=True)
class Assessment:
    """Whether the passages answer the question: the best evidence, the support (see the module
    docstring), the signals behind it and the verdict, for the answer and its receipt."""

    evidence: float
    support: float
    signals: dict[str, float]
    abstain: bool
    confident: bool


def aligner_for(calibration: Calibration) -> coverage.TokenAligner | None:
    """A token aligner over the calibrated embedder, where it provides token vectors."""
    if calibration.answerability is None:
        return None
    from citadel.providers.embeddings import get_embedder

    embedder = get_embedder(calibration.embedding_model)
    return coverage.TokenAligner.for_embedder(embedder, calibration.answerability.alignment_threshold)


def assess(
    question: str,
    passages: list[SourcePassage],
    scored: list[ScoredSentence],
    calibration: Calibration = LEXICAL_ONLY,
    aligner: coverage.TokenAligner | None = None,
) -> Assessment:
    if not scored:
        return Assessment(evidence=0.0, support=0.0, signals={}, abstain=True, confident=False)
    evidence = max(s.evidence for s in scored)
    floor = evidence < calibration.abstain_below
    model = calibration.answerability
    if model is None:
        return Assessment(
            evidence=evidence,
            support=evidence,
            signals={"evidence": evidence},
            abstain=floor,
            confident=evidence >= calibration.confident_from,
        )
    top = scored[0]
    passage = next(p for p in passages if p.n == top.n)
    others_best = max((s.score for s in scored if s.n != top.n), default=0.0)
    signals = answerability.signals(question, top, passage.text, passage.dense_score, others_best, aligner)
    support = model.score(signals)
    return Assessment(
        evidence=evidence,
        support=support,
        signals=signals,
        abstain=floor or support < model.abstain_below,
        confident=support >= model.confident_from,
    )


def select_sentences(scored: list[ScoredSentence], calibration: Calibration = LEXICAL_ONLY) -> list[ScoredSentence]:
    """The best sentence, then up to MAX_SENTENCES in all that come close to it and reach the
    evidence floor."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[ScoredSentence] = [scored[0]]
    per_passage: Counter[int] = Counter({scored[0].n: 1})
    for sentence in scored[1:]:
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

    def __init__(self, calibration: Calibration = LEXICAL_ONLY, aligner: coverage.TokenAligner | None = None) -> None:
        self.calibration = calibration
        self.aligner = aligner

    def assess(self, *, question: str, passages: list[SourcePassage]) -> tuple[list[ScoredSentence], Assessment]:
        scored = score_sentences(question, passages, self.calibration)
        return scored, assess(question, passages, scored, self.calibration, self.aligner)

    def generate(self, *, question: str, passages: list[SourcePassage]) -> Generation:
        scored, assessment = self.assess(question=question, passages=passages)
        return self.quote(question=question, scored=scored, assessment=assessment)

    def quote(self, *, question: str, scored: list[ScoredSentence], assessment: Assessment) -> Generation:
        chosen = [] if assessment.abstain else select_sentences(scored, self.calibration)
        # Line breaks inside a quoted sentence are the source's wrapping, not sentence ends: fold
        # them so the answer's sentences are exactly the quoted ones (the checks re-split it).
        text = " ".join(f"{' '.join(s.text.split())} [{s.n}]" for s in chosen)
        return Generation(
            text=text,
            model=self.model,
            abstained=not chosen,
            support=assessment.support,
            signals=assessment.signals,
            confident=assessment.confident,
            prompt_text=question,
            details={"candidates": len(scored), "chosen": [(s.n, round(s.score, 4)) for s in chosen]},
        )

    def stream(self, *, question: str, passages: list[SourcePassage]) -> Iterator[str | Generation]:
        generation = self.generate(question=question, passages=passages)
        if generation.text:
            yield generation.text
        yield generation
