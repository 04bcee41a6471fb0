"""What a question asks, and which of it a quoted sentence says.

A sentence can be close to a question and still not answer it: "the name of the Rhine in *ancient*
languages" against a sentence about *modern* languages, "who *approves*" against "who *submits*",
"how *many* days" against a sentence that only mentions days. Similarity alone cannot tell; this
module splits the question into parts (named things, numbers, qualifiers, negations and the other
content words), decides for each whether the quoted sentences cover it, and checks that a sentence
holds a value of the type asked for (a date for "when", a quantity for "how many").

A part is covered when a sentence holds its stems (the shared light stemmer, so "approvals" meets
"approved"), a word sharing its first five letters ("discovery" and "discovered"), or, where the
embedder provides contextual token vectors, a token close enough to it in context (the threshold
comes from the embedder's calibration: antonyms sit close to each other in these vectors, so it is high).
"""

import re
from dataclasses import dataclass

from citadel.providers import text as T

NEGATIONS = frozenset({"not", "no", "never", "without", "none", "neither", "nor", "cannot", "n't", "nothing"})
# Words that pick one fact out of several alike, where the sources often state a neighbour: order,
# extremes, era, direction, scope. Kept to contrasting sets: "before", "new" or "annual" frame far
# more answerable questions than they change (the demo questions and SQuAD's answerable ones).
QUALIFIERS = frozenset(
    """first last second third fourth fifth final earliest latest oldest newest modern ancient medieval
    most least largest smallest biggest highest lowest longest shortest greatest widest deepest best worst
    upper lower north south east west northern southern eastern western northeast northwest southeast
    southwest international domestic foreign""".split()
)
NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
    "billion": "1000000000",
    "half": "0.5",
    "once": "1",
    "twice": "2",
}
QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
# Words that frame a question rather than name what it is about ("what is the name of", "what
# type of", "is called"): a sentence that answers rarely repeats them.
FRAME_WORDS = frozenset(
    """name named call called type types kind kinds sort example examples way ways term terms refer referred
    known say said give given mean means meant describe described happen happened use used one thing things
    consider considered""".split()
)
PREFIX_LETTERS = 5

_WORD = re.compile(r"\d+(?:[.,]\d+)*(?:%|s\b)?|[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:%|s)?$")


@dataclass(frozen=True, slots=True)
class Part:
    text: str  # as the question words it
    stems: tuple[str, ...]
    kind: str  # "negation" | "number" | "entity" | "qualifier" | "term"
    start: int  # offsets in the question
    end: int


# Parts that change which fact is asked: left uncovered, the sentence answers another question.
SPECIFIC = frozenset({"negation", "number", "entity", "role", "qualifier"})
# Who a rule is for: the same rule asked for another group ("contractors" where the sources speak of
# employees) is another question.
ROLES = frozenset(
    """employee contractor intern trainee apprentice temp freelancer consultant manager supervisor director
    executive officer admin administrator engineer reviewer approver auditor customer client supplier vendor
    partner visitor guest candidate applicant student teacher parent child spouse retiree volunteer member
    staff worker owner""".split()
)
_ROLE_STEMS = frozenset(T.stem(r) for r in ROLES)


def _number(word: str) -> str | None:
    lowered = word.lower()
    if _NUMBER.match(lowered):
        # "1970s" is the decade of 1970; "5,000" is 5000.
        return lowered.rstrip("%s").replace(",", "")
    return NUMBER_WORDS.get(lowered)


def question_parts(question: str) -> list[Part]:
    """The question's parts in order: runs of capitalised words (not the question's first word)
    are one named thing; numbers, negations, qualifiers and roles stand alone; other content words
    are terms. Question words, framing words and stopwords are not parts."""
    parts: list[Part] = []
    entity: list[re.Match] = []

    def close_entity() -> None:
        if entity:
            stems = tuple(T.stem(m.group()) for m in entity if m.group().lower() not in T.STOPWORDS)
            if stems:
                start, end = entity[0].start(), entity[-1].end()
                parts.append(Part(text=question[start:end], stems=stems, kind="entity", start=start, end=end))
            entity.clear()

    for index, match in enumerate(_WORD.finditer(T.MARKER.sub(lambda m: " " * len(m.group()), question))):
        word, span = match.group(), {"start": match.start(), "end": match.end()}
        lowered = word.lower().replace("’", "'")
        if lowered in NEGATIONS or lowered.endswith("n't"):
            close_entity()
            parts.append(Part(text=word, stems=("not",), kind="negation", **span))
            continue
        # "one way", "two-factor", "three-year-old": words, not counts.
        hyphenated = (
            question[match.end() : match.end() + 1] == "-" or question[match.start() - 1 : match.start()] == "-"
        )
        number = _number(word) if lowered != "one" and not hyphenated else None
        if number is not None:
            close_entity()
            parts.append(Part(text=word, stems=(number,), kind="number", **span))
            continue
        if index > 0 and word[:1].isupper() and lowered not in QUESTION_WORDS | QUALIFIERS:
            entity.append(match)
            continue
        close_entity()
        if lowered in QUESTION_WORDS | FRAME_WORDS or (lowered in T.STOPWORDS and lowered not in QUALIFIERS):
            continue
        stem = T.stem(word)
        kind = "qualifier" if lowered in QUALIFIERS else "role" if stem in _ROLE_STEMS else "term"
        parts.append(Part(text=word, stems=(stem,), kind=kind, **span))
    close_entity()
    seen: set[tuple[str, ...]] = set()
    unique = []
    for part in parts:
        if part.stems not in seen:
            seen.add(part.stems)
            unique.append(part)
    return unique


@dataclass(frozen=True, slots=True)
class SentenceTerms:
    """What coverage compares a sentence with: its stems, numbers and whether it negates."""

    stems: frozenset[str]
    numbers: frozenset[str]
    negated: bool

    @classmethod
    def of(cls, text: str) -> "SentenceTerms":
        stems, numbers, negated = set(), set(), False
        for word in _WORD.findall(T.MARKER.sub(" ", text)):
            lowered = word.lower().replace("’", "'")
            if lowered in NEGATIONS or lowered.endswith("n't"):
                negated = True
            number = _number(word)
            if number is not None:
                numbers.add(number)
            stems.add(T.stem(word))
        return cls(stems=frozenset(stems), numbers=frozenset(numbers), negated=negated)


def _stem_covered(stem: str, terms: SentenceTerms) -> bool:
    if stem in terms.stems:
        return True
    if len(stem) >= PREFIX_LETTERS:
        prefix = stem[:PREFIX_LETTERS]
        return any(s.startswith(prefix) for s in terms.stems if len(s) >= PREFIX_LETTERS)
    return False


def part_covered(part: Part, terms: SentenceTerms) -> bool:
    """Whether the sentence says this part in words (lexically or by shared stem)."""
    if part.kind == "negation":
        return terms.negated
    if part.kind == "number":
        return part.stems[0] in terms.numbers
    return all(_stem_covered(s, terms) for s in part.stems)


# --- the type asked for ---------------------------------------------------------------------------

DATE, COUNT, QUANTITY, PERSON, PLACE = "date", "count", "quantity", "person", "place"
_ASKED = (
    (
        re.compile(
            r"\b(?:when|what (?:year|date|day|month|century|time)|which (?:year|date|day|month|century))\b", re.I
        ),
        DATE,
    ),
    (re.compile(r"\bhow many\b|\bwhat number\b", re.I), COUNT),
    (
        re.compile(
            r"\bhow (?:much|long|far|old|tall|high|wide|deep|big|large|often|fast|heavy)\b"
            r"|\bwhat (?:percentage|percent|proportion|share|amount|size|length)\b",
            re.I,
        ),
        QUANTITY,
    ),
    (re.compile(r"\b(?:who|whom|whose)\b", re.I), PERSON),
    (re.compile(r"\bwhere\b", re.I), PLACE),
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
)
_DATE_VALUE = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b\d{1,2}(?:st|nd|rd|th)?\b\s+(?:" + _MONTHS.replace(" ", "|") + r")\b"
    r"|\b(?:" + _MONTHS.replace(" ", "|") + r")\b|\bcentur(?:y|ies)\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"
    r"|\b(?:before|after|within|until|by|during)\b|\b(?:days?|weeks?|months?|years?)\b",
    re.I,
)
# People and bodies a handbook names by role rather than by name, answering "who".
_ANSWERERS = ROLES | frozenset(
    """team department committee board president head lead hr chair ceo cfo cto coordinator representative
    leader contact desk""".split()
)


def asked_type(question: str) -> str | None:
    for pattern, kind in _ASKED:
        if pattern.search(question):
            return kind
    return None


def _new_names(sentence: str, question_stems: frozenset[str]) -> bool:
    """A capitalised word (not opening the sentence) that the question does not name."""
    for index, match in enumerate(_WORD.finditer(sentence)):
        word = match.group()
        if index > 0 and word[:1].isupper() and T.stem(word) not in question_stems:
            return True
    return False


_ANSWERER_STEMS = frozenset(T.stem(r) for r in _ANSWERERS)
_PERCENTAGE = re.compile(r"\d[\d,.]*\s*(?:%|percent\b|per cent\b)", re.I)
_PLACE_PHRASE = re.compile(r"\b(?:in|at|near|from|on)\s+(?:the\s+)?\w")


@dataclass(frozen=True, slots=True)
class AskedFor:
    """The type of value a question asks for, read once per question and checked per sentence."""

    kind: str | None
    question: str
    terms: SentenceTerms

    @classmethod
    def of(cls, question: str) -> "AskedFor":
        return cls(kind=asked_type(question), question=question.lower(), terms=SentenceTerms.of(question))

    def held_by(self, sentence: str) -> bool:
        """Whether the sentence holds a value of the asked-for type that the question does not
        already state (a question naming 1815 is not answered by the 1815 it repeats). True when
        the question asks for no particular type."""
        if self.kind is None:
            return True
        if self.kind == DATE:
            return any(m.group().lower() not in self.question for m in _DATE_VALUE.finditer(sentence))
        if self.kind == COUNT:
            # "How many employees" is not answered by "90 percent of employees": a share is no count.
            return bool(SentenceTerms.of(_PERCENTAGE.sub(" ", sentence)).numbers - self.terms.numbers)
        terms = SentenceTerms.of(sentence)
        if self.kind == QUANTITY:
            return bool(terms.numbers - self.terms.numbers)
        if _new_names(sentence, self.terms.stems):
            return True
        if self.kind == PERSON:
            return bool(_ANSWERER_STEMS & (terms.stems - self.terms.stems))
        return bool(_PLACE_PHRASE.search(sentence))


# --- alignment and what an answer leaves uncovered -------------------------------------------------


class TokenAligner:
    """Aligns a question's words with a sentence's through the embedder's contextual token vectors
    ("biggest" and "largest", "WWII" and "World War II"), for embedders that provide them."""

    def __init__(self, embedder, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._vectors: dict[str, tuple[list[tuple[int, int]], object]] = {}

    @classmethod
    def for_embedder(cls, embedder, threshold: float) -> "TokenAligner | None":
        return cls(embedder, threshold) if hasattr(embedder, "token_vectors") else None

    def _load(self, texts: list[str]) -> None:
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, (offsets, vectors) in zip(missing, self.embedder.token_vectors(missing), strict=True):
                self._vectors[text] = (offsets, np.asarray(vectors, dtype=np.float32).reshape(len(offsets), -1))

    def similarity(self, question: str, part: Part, sentence: str) -> float:
        """The best cosine between the part's pieces (averaged) and any piece of the sentence."""
        import numpy as np

        self._load([question, sentence])
        offsets, vectors = self._vectors[question]
        pieces = [i for i, (start, end) in enumerate(offsets) if start < part.end and end > part.start]
        sentence_vectors = self._vectors[sentence][1]
        if not pieces or not len(sentence_vectors):
            return 0.0
        vector = vectors[pieces].mean(axis=0)
        vector /= np.linalg.norm(vector) or 1.0
        return float((sentence_vectors @ vector).max())

    def covers(self, question: str, part: Part, sentences: list[str]) -> bool:
        return any(self.similarity(question, part, s) >= self.threshold for s in sentences)


def uncovered(
    question: str, sentences: list[str], passages: list[str], aligner: TokenAligner | None = None
) -> list[Part]:
    """The specific parts of the question that the quoted sentences leave unsaid: a qualifier,
    number or negation no sentence states, a named thing or a role neither the sentences nor their
    passages name (a passage says "the river" once it has named the Rhine). Other content words are not
    reported: answers paraphrase them ("vacation" for "paid time off") far more often than they
    change the question."""
    if not sentences:
        return []
    sentence_terms = [SentenceTerms.of(s) for s in sentences]
    passage_terms = SentenceTerms.of("\n".join(passages))
    missing = []
    for part in question_parts(question):
        if part.kind not in SPECIFIC:
            continue
        if part.kind in ("entity", "role"):
            said = part_covered(part, passage_terms) or any(part_covered(part, t) for t in sentence_terms)
        else:
            said = any(part_covered(part, t) for t in sentence_terms)
        if not said and part.kind in ("entity", "role", "qualifier") and aligner is not None:
            said = aligner.covers(question, part, sentences)
        if not said:
            missing.append(part)
    return missing
