"""The offline summariser: a document's central, non-redundant sentences, quoted verbatim.

An overview of the few sentences that best carry the document's own vocabulary and lie closest
to its centre (the mean of its passages' vectors), then key points: the best sentence of each
section the overview left out, in document order. Nothing is written: every sentence is a span
of one passage, so it is cited like an answer's quote. No Django here.
"""

import math
from collections import Counter
from dataclasses import dataclass

from citadel.providers import text as T

OVERVIEW_SENTENCES = 3
KEY_POINTS = 6
# A sentence sharing more than this share of its terms with one already chosen says it again.
REDUNDANT = 0.5
MIN_WORDS = 6


@dataclass(frozen=True)
class SummaryPassage:
    chunk_id: int
    text: str
    section: str
    vector: list[float] | None = None


@dataclass(frozen=True)
class Picked:
    chunk_id: int
    start: int
    end: int
    text: str
    kind: str  # "overview" or "point"


@dataclass
class _Sentence:
    order: int
    passage: SummaryPassage
    start: int
    end: int
    stems: frozenset[str]
    score: float = 0.0


def summarize(passages: list[SummaryPassage]) -> list[Picked]:
    """The overview sentences, then the key points; empty when the passages hold no sentence."""
    sentences = _sentences(passages)
    if not sentences:
        return []
    _score(sentences, passages)
    chosen: list[_Sentence] = []
    for sentence in sorted(sentences, key=lambda s: (-s.score, s.order)):
        if len(chosen) == OVERVIEW_SENTENCES:
            break
        if not _repeats(sentence, chosen):
            chosen.append(sentence)
    overview = sorted(chosen, key=lambda s: s.order)
    best_by_section: dict[str, _Sentence] = {}
    for sentence in sorted(sentences, key=lambda s: (-s.score, s.order)):
        section = sentence.passage.section
        if section in best_by_section or sentence in chosen or _repeats(sentence, chosen):
            continue
        best_by_section[section] = sentence
    points = sorted(best_by_section.values(), key=lambda s: -s.score)[:KEY_POINTS]
    return [_picked(s, "overview") for s in overview] + [
        _picked(s, "point") for s in sorted(points, key=lambda s: s.order)
    ]


def _sentences(passages: list[SummaryPassage]) -> list[_Sentence]:
    found, seen = [], set()
    for passage in passages:
        for start, end in T.sentence_spans(passage.text):
            sentence = passage.text[start:end]
            # Headings and fragments ("Purpose", "Owner: Payroll") are not statements.
            if len(T.words(sentence)) < MIN_WORDS or sentence.rstrip()[-1:] not in ".!?":
                continue
            key = " ".join(sentence.split()).lower()
            if key in seen:  # chunk overlap repeats sentences
                continue
            seen.add(key)
            found.append(_Sentence(len(found), passage, start, end, frozenset(T.content_stems(sentence))))
    return found


def _score(sentences: list[_Sentence], passages: list[SummaryPassage]) -> None:
    """Half the document's vocabulary (terms frequent in it and not spread over every passage),
    half the passage's closeness to the document's centre."""
    df = Counter(stem for p in passages for stem in set(T.content_stems(p.text)))
    tf = Counter(stem for s in sentences for stem in s.stems)
    total = len(passages)
    weight = {stem: count * math.log(1 + total / df[stem]) for stem, count in tf.items() if df[stem]}
    vocabulary = [sum(weight.get(stem, 0.0) for stem in s.stems) / math.sqrt(len(s.stems) or 1) for s in sentences]
    top = max(vocabulary) or 1.0
    closeness = _closeness(passages)
    for sentence, value in zip(sentences, vocabulary, strict=True):
        sentence.score = 0.5 * value / top + 0.5 * closeness.get(sentence.passage.chunk_id, 0.0)


def _closeness(passages: list[SummaryPassage]) -> dict[int, float]:
    vectors = [(p.chunk_id, p.vector) for p in passages if p.vector is not None]
    if not vectors:
        return {}
    dimensions = len(vectors[0][1])
    centre = [sum(v[i] for _, v in vectors) / len(vectors) for i in range(dimensions)]
    centre_norm = math.sqrt(sum(x * x for x in centre)) or 1.0
    closeness = {}
    for chunk_id, vector in vectors:
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        closeness[chunk_id] = sum(a * b for a, b in zip(vector, centre, strict=True)) / (norm * centre_norm)
    return closeness


def _repeats(sentence: _Sentence, chosen: list[_Sentence]) -> bool:
    for other in chosen:
        shared = len(sentence.stems & other.stems)
        if shared / (min(len(sentence.stems), len(other.stems)) or 1) > REDUNDANT:
            return True
    return False


def _picked(sentence: _Sentence, kind: str) -> Picked:
    return Picked(
        sentence.passage.chunk_id,
        sentence.start,
        sentence.end,
        sentence.passage.text[sentence.start : sentence.end],
        kind,
    )
