"""The extractive generator: answers by quoting source sentences, never by writing.

Every sentence of the permitted passages is first ranked against the question, cheaply:

    coverage  = IDF-weighted share of the question's content stems the sentence contains
    evidence  = c * coverage + s * cosine(question, sentence) + p * cosine(question, passage)
    rank      = 0.8 * evidence + 0.2 * relative retrieval score of the passage
                + TYPE_BONUS when the sentence holds a value of the asked-for type

The weights (c = 1 - s - p) come from the calibration of the embedder that serves the organization.
Questions ("What should I do if...?") and headings are never candidates: they ask or name a topic,
they answer nothing.

Whether to answer at all is the support. With the reader on (CITADEL_READER=local), the reader
(citadel.reading.reader, a cross-encoder trained here) reads the best candidates (the policy's
`candidates`, at most 16) in one batched call and gives each the probability that it answers the
question; the support is the best probability, the answerer declines below the policy's abstain_below
and flags "low_scores" below confident_from, and the answer quotes the best sentence and every other
candidate the reader judges to answer too (from include_from, at most MAX_SENTENCES), in the
documents' order, verbatim with [n] markers: no word that is not in a source.

Without the reader, for an embedder with a fitted answerability model (citadel.reading.answerability:
the best sentence's evidence, cosines and lead, and what coverage finds missing from it, in one
logistic score) that score, otherwise the best evidence; it abstains below the calibration's
abstain_below and flags "low_scores" below confident_from, and quotes the best few sentences by rank
(the best one, then at most MAX_SENTENCES, at most two per passage, none repeating another, each with
evidence of at least the calibration's floor).

Evidence weights (a grid over the demo golden and unanswerable questions): with all-MiniLM-L6-v2,
s = 0.6 (the sentence cosine bridges vocabulary: "vacation" for "PTO"), p = 0.1, c = 0.3 with IDF
over the retrieved passages (a word found in every passage weighs nothing, one found in none weighs
most), and fragments under FRAGMENT_STEMS content words lose 0.1 of cosine. Other embedders (the
tests' fake one, OpenAI models) use lexical coverage alone (IDF over sentences) and abstain below an
evidence of 0.45: cosines on another scale would void the fitted weights.
Abstaining on a question the documents answer is the cheap error (the asker sees the closest
passages); quoting unrelated policy as an answer is the expensive one.
"""

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from citadel.providers import text as T
from citadel.providers.generation import EXTRACTIVE, Generation, SourcePassage
from citadel.reading import answerability, coverage
from citadel.reading import reader as reading
from citadel.reading.answerability import AnswerabilityModel

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
    # Without the reader, answers between abstain_below and this evidence are given but flagged
    # "low_scores".
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
    # Without the reader: the fitted answerability model for this embedder; None: the support is
    # the best evidence.
    answerability: AnswerabilityModel | None = None

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


def _answers_nothing(sentence: str, headings: str) -> bool:
    """A question ("What do I do?") or a heading of the passage's section ("My laptop was lost or
    stolen."): it asks or names a topic, and quoting it as an answer says nothing."""
    folded = " ".join(T.MARKER.sub("", sentence).split())
    return folded.endswith("?") or (bool(headings) and folded.lower() in headings)


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
        headings = " ".join(passage.section.split()).lower()
        for start, end in T.sentence_spans(passage.text):
            sentence = passage.text[start:end]
            if len(T.words(sentence)) < MIN_SENTENCE_WORDS or _answers_nothing(sentence, headings):
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
class Read:
    """A candidate sentence as the reader read it."""

    sentence: ScoredSentence
    probability: float
    span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Assessment:
    """Whether the passages answer the question: the support and what it is (the reader's
    probability, or the best evidence without the reader), its thresholds, the signals behind it and
    the verdict, for the answer and its receipt."""

    evidence: float
    support: float
    signals: dict[str, float]
    abstain: bool
    confident: bool
    score: str = "evidence"  # "reader" | "answerability" | "evidence"
    abstain_below: float = 0.0
    confident_from: float = 0.0
    model: str = ""
    # Best first; empty without the reader.
    read: tuple[Read, ...] = field(default_factory=tuple)


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
    reader: reading.Reader | None = None,
) -> Assessment:
    if not scored:
        return Assessment(evidence=0.0, support=0.0, signals={}, abstain=True, confident=False)
    if reader is not None:
        return _read(question, scored, reader)
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
            abstain_below=calibration.abstain_below,
            confident_from=calibration.confident_from,
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
        score="answerability",
        abstain_below=model.abstain_below,
        confident_from=model.confident_from,
    )


def _read(question: str, scored: list[ScoredSentence], reader: reading.Reader) -> Assessment:
    """The reader's verdict on the best-ranked candidates."""
    evidence = max(s.evidence for s in scored)
    policy = reading.policy()
    candidates = scored[: policy.candidates]
    readings = reader.read(question, [" ".join(s.text.split()) for s in candidates])
    read = sorted(
        (Read(sentence=s, probability=r.probability, span=r.span) for s, r in zip(candidates, readings, strict=True)),
        key=lambda r: (-r.probability, -r.sentence.score),
    )
    support = read[0].probability
    return Assessment(
        evidence=evidence,
        support=support,
        signals={"reader": support, "evidence": evidence},
        abstain=support < policy.abstain_below,
        confident=support >= policy.confident_from,
        score="reader",
        abstain_below=policy.abstain_below,
        confident_from=policy.confident_from,
        model=reader.version,
        read=tuple(read),
    )


def _repeats(sentence: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
    """The same sentence in two versions or overlapping chunks."""
    return any(len(sentence.stems & c.stems) >= 0.8 * max(1, len(sentence.stems)) for c in chosen)


def select_sentences(
    scored: list[ScoredSentence], calibration: Calibration = LEXICAL_ONLY, assessment: Assessment | None = None
) -> list[ScoredSentence]:
    """What the answer quotes, in the documents' order. With the reader: the best sentence and every
    other it judges to answer (a second part of the answer: the other parents' leave beside the
    birthing parent's). Without: the best sentence by rank, then up to MAX_SENTENCES in all that come
    close to it and reach the evidence floor."""
    if not scored:
        return []
    chosen: list[ScoredSentence] = []
    if assessment is not None and assessment.read:
        include_from = reading.policy().include_from
        for r in assessment.read:
            if len(chosen) == MAX_SENTENCES or (chosen and r.probability < include_from):
                break
            if not _repeats(r.sentence, chosen):
                chosen.append(r.sentence)
        return sorted(chosen, key=lambda s: (s.n, s.start))
    best = scored[0].score
    chosen = [scored[0]]
    per_passage: Counter[int] = Counter({scored[0].n: 1})
    for sentence in scored[1:]:
        if len(chosen) == MAX_SENTENCES:
            break
        if sentence.evidence < calibration.abstain_below or sentence.score < 0.7 * best:
            continue
        if per_passage[sentence.n] == 2 or _repeats(sentence, chosen):
            continue
        chosen.append(sentence)
        per_passage[sentence.n] += 1
    return chosen


class ExtractiveGenerator:
    name = EXTRACTIVE
    model = "extractive-v1"
    streams = False

    def __init__(
        self,
        calibration: Calibration = LEXICAL_ONLY,
        aligner: coverage.TokenAligner | None = None,
        reader: reading.Reader | None = None,
    ) -> None:
        self.calibration = calibration
        self.aligner = aligner
        self.reader = reader

    @classmethod
    def for_embedder(cls, embedding_model: str | None) -> "ExtractiveGenerator":
        """The generator for an organization searching with `embedding_model`, with the reader
        where it is on."""
        calibration = calibration_for(embedding_model)
        return cls(calibration, aligner_for(calibration), reading.get_reader())

    def assess(self, *, question: str, passages: list[SourcePassage]) -> tuple[list[ScoredSentence], Assessment]:
        scored = score_sentences(question, passages, self.calibration)
        return scored, assess(question, passages, scored, self.calibration, self.aligner, self.reader)

    def generate(self, *, question: str, passages: list[SourcePassage]) -> Generation:
        scored, assessment = self.assess(question=question, passages=passages)
        return self.quote(question=question, scored=scored, assessment=assessment)

    def quote(self, *, question: str, scored: list[ScoredSentence], assessment: Assessment) -> Generation:
        chosen = [] if assessment.abstain else select_sentences(scored, self.calibration, assessment)
        # Line breaks inside a quoted sentence are the source's wrapping, not sentence ends: fold
        # them so the answer's sentences are exactly the quoted ones (the checks re-split it).
        text = " ".join(f"{' '.join(s.text.split())} [{s.n}]" for s in chosen)
        details: dict = {"candidates": len(scored), "chosen": [(s.n, round(s.score, 4)) for s in chosen]}
        if assessment.read:
            picked = {(s.n, s.start) for s in chosen}
            details["reader"] = {
                "model": assessment.model,
                "read": [
                    {
                        "n": r.sentence.n,
                        "start": r.sentence.start,
                        "end": r.sentence.end,
                        "probability": round(r.probability, 4),
                        "quoted": (r.sentence.n, r.sentence.start) in picked,
                        "answer_span": list(r.span) if r.span else None,
                    }
                    for r in assessment.read
                ],
            }
        return Generation(
            text=text,
            model=self.model,
            abstained=not chosen,
            support=assessment.support,
            signals=assessment.signals,
            confident=assessment.confident,
            prompt_text=question,
            details=details,
        )

    def stream(self, *, question: str, passages: list[SourcePassage]) -> Iterator[str | Generation]:
        generation = self.generate(question=question, passages=passages)
        if generation.text:
            yield generation.text
        yield generation
