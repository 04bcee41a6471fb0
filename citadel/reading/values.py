"""Typed values read out of quoted sentences: the date, amount, duration, percentage, name, yes or
no, or choice a checklist item or an extraction field asks for.

Offline there is no model to ask, so values are found by their shape in sentences retrieval and
the answerer already cited; a value is only ever a span of such a sentence (normalised: dates as
ISO dates, amounts with their currency code, durations in digits), never made up.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from citadel.providers.text import sentence_spans
from citadel.reading.reader import MAX_CANDIDATES, Reader

YES_NO = "yes_no"
DATE = "date"
AMOUNT = "amount"
DURATION = "duration"
PERCENTAGE = "percentage"
NAME = "name"
TEXT = "text"
CHOICE = "choice"
# Each type and how people name it, in the order forms offer them.
VALUE_TYPES = {
    YES_NO: "Yes or no",
    DATE: "Date",
    AMOUNT: "Amount",
    DURATION: "Duration",
    PERCENTAGE: "Percentage",
    NAME: "Name",
    TEXT: "Text",
    CHOICE: "Choice",
}
MAX_CHOICES = 20

MAX_TEXT_VALUE = 500


def clean_choices(kind: str, choices) -> list[str]:
    """The choices a value of `kind` may take, trimmed; ValueError saying what is wrong."""
    if not isinstance(choices, list | tuple) or not all(isinstance(c, str) and c.strip() for c in choices):
        raise ValueError("Choices are a list of words or phrases.")
    choices = [c.strip() for c in choices]
    if kind == CHOICE and len(choices) < 2:
        raise ValueError("A choice needs at least two choices.")
    if kind != CHOICE and choices:
        raise ValueError("Only choice types take choices.")
    if len(choices) > MAX_CHOICES:
        raise ValueError(f"At most {MAX_CHOICES} choices.")
    return choices


@dataclass(frozen=True)
class Found:
    value: str
    # Where in the searched text the value was read (find_value_in: in its `index`th text).
    start: int
    end: int
    index: int = 0


# Month names and their abbreviations (citadel.ingestion.review_dates reads review dates with them too).
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DATE_PATTERNS = [
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})/(?P<mnum>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),
    re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.IGNORECASE),
]

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
    "chf": "CHF",
    "cad": "CAD",
    "aud": "AUD",
    "jpy": "JPY",
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
}
_NUMBER = r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"(?:\s?(?P<scale>k|m|bn|thousand|million|billion)\b)?"
_CODES = "|".join(sorted(_CURRENCY_WORDS, key=len, reverse=True))
_AMOUNT_PATTERNS = [
    re.compile(r"(?P<symbol>[$€£¥])\s?" + _NUMBER + _SCALE, re.IGNORECASE),
    re.compile(r"\b(?P<code>" + _CODES + r")\s?" + _NUMBER + _SCALE, re.IGNORECASE),
    re.compile(r"(?<![\w.])" + _NUMBER + _SCALE + r"\s?(?P<code>" + _CODES + r")\b", re.IGNORECASE),
]
_SCALES = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000, "bn": 10**9, "billion": 10**9}

_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90, "a": 1, "an": 1}
_UNITS = {
    "minute": "minute",
    "hour": "hour",
    "day": "day",
    "business day": "business day",
    "working day": "working day",
    "calendar day": "calendar day",
    "week": "week",
    "month": "month",
    "year": "year",
}
_DURATION = re.compile(
    r"\b(?P<number>\d+(?:\.\d+)?|"
    + "|".join(sorted((w for w in _NUMBER_WORDS if w not in ("a", "an")), key=len, reverse=True))
    + r")(?:\s*\(\d+\))?[\s-]+(?P<unit>(?:business|working|calendar)\s+days?|minutes?|hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_PERCENTAGE = re.compile(r"(?<![\w.])(?P<number>\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)

_NEGATION = re.compile(
    r"\b(?:no|not|never|none|neither|nor|without|cannot|can't|won't|isn't|aren't|doesn't|don't|"
    r"mustn't|shouldn't|may not|prohibited|forbidden|not permitted|not allowed)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w&'.-]*(?:\s+(?:(?:of|&|de|van|von)\s+)?[A-Z][\w&'.-]*)+")
_NOT_NAMES = set(MONTHS) | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_WORD = re.compile(r"[a-z0-9]+")


def find_value(kind: str, text: str, *, choices: list[str] | tuple[str, ...] = (), question: str = "") -> Found | None:
    """The value of `kind` in `text` that `question` asks for, normalised; None when `text` holds
    none. A sentence holding several ("75 dollars for domestic travel and 100 dollars for
    international travel") gives the one whose clause shares most words with the question, the
    first on a tie. For yes/no, `question` also decides polarity: a negative question and a
    negative sentence agree on "yes"."""
    text = text or ""
    if kind not in _FINDERS:
        raise ValueError(f"Unknown value type {kind!r}.")
    if kind == CHOICE:
        return _choice(text, choices)
    if kind == YES_NO:
        return _yes_no(text, question)
    if kind == TEXT:
        return _text(text)
    candidates = sorted(_FINDERS[kind](text), key=lambda found: found.start)
    if not candidates:
        return None
    asked = _stems(question)
    return max(candidates, key=lambda found: _closeness(asked, text, found))


def _closeness(asked: set[str], text: str, found: Found) -> int:
    """How many of the asked words the value's clause holds. A label naming the value counts
    twice: in brackets right after it ("Northwind Traders (the Vendor)") or a few words before
    it, set off by a comma ("The Vendor, Contoso Cleaning, provides ...")."""
    after = _LABEL_AFTER.match(text, found.end)
    before = _LABEL_BEFORE.search(text[: found.start])
    labels = " ".join(m.group(1) for m in (after, before) if m)
    return len(asked & _stems(_clause(text, found))) + 2 * len(asked & _stems(labels))


_LABEL_AFTER = re.compile(r"\s*\(([^()]{1,60})\)")
_LABEL_BEFORE = re.compile(r"(?:^|[,;:(]\s*)((?:\w+\s+){0,2}\w+),\s*$")


def find_value_in(
    kind: str, texts: list[str], *, choices: list[str] | tuple[str, ...] = (), question: str = ""
) -> Found | None:
    """The value of `kind` the question asks for among several quoted sentences: from the sentence
    sharing most words with the question that holds one, the earliest on a tie. `Found`'s span is
    in that sentence; `index` says which."""
    asked = _stems(question)
    best, best_score = None, -1
    for index, text in enumerate(texts):
        found = find_value(kind, text, choices=choices, question=question)
        if found is None:
            continue
        score = len(asked & _stems(text))
        if score > best_score:
            best, best_score = Found(found.value, found.start, found.end, index), score
    return best


@dataclass(frozen=True)
class Extracted:
    """A field's value read from one sentence of one passage."""

    value: str
    passage: int  # index into the passages given, best first
    start: int  # the sentence's span in that passage
    end: int
    confidence: float


# A yes/no read from a sentence that shares less than this share of the field's words answers
# another question: the clause asked for is absent, and the value is missing rather than "yes".
YES_NO_MIN_OVERLAP = 0.5
RANK_DECAY = 0.9


def extract_field(
    kind: str,
    query: str,
    passages: list[str],
    *,
    choices: list[str] | tuple[str, ...] = (),
    reader: Reader | None = None,
) -> Extracted | None:
    """A field's value from the passages retrieval found in one document, best first.

    Every sentence holding a value of the type is a candidate. With the reader, it reads the
    candidates sharing most of the field's words (name and guidance, `query`) and the one it judges
    most likely to answer wins, its probability the confidence. Without it, the one sharing most of
    those words wins, passages further down counting a little less, and the confidence is that
    share: a value read from a sentence that never names the field is a guess a reviewer checks."""
    asked = _stems(query)
    candidates: list[Extracted] = []
    for rank, passage in enumerate(passages):
        for start, end in sentence_spans(passage):
            sentence = passage[start:end]
            overlap = len(asked & _stems(sentence)) / len(asked) if asked else 0.0
            if kind == YES_NO and overlap < YES_NO_MIN_OVERLAP:
                continue
            found = find_value(kind, sentence, choices=choices, question=query)
            if found is not None:
                candidates.append(Extracted(found.value, rank, start, end, round(overlap * RANK_DECAY**rank, 3)))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -c.confidence)
    if reader is None:
        return candidates[0]
    read = candidates[:MAX_CANDIDATES]
    readings = reader.read(query, [" ".join(passages[c.passage][c.start : c.end].split()) for c in read])
    best, reading = max(zip(read, readings, strict=True), key=lambda pair: pair[1].probability)
    return Extracted(best.value, best.passage, best.start, best.end, round(reading.probability, 3))


def _stems(text: str) -> set[str]:
    return {word[:5] for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in _STOP}


_STOP = frozenset("the and for with what which who how when are is does did was per from that this there".split())
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s(?:and|or|but|while|whereas)\s")


def _clause(text: str, found: Found) -> str:
    """The part of the sentence around a value, between commas, semicolons and conjunctions."""
    starts = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, found.start)]
    following = _CLAUSE_BREAK.search(text, found.end)
    return text[(starts[-1] if starts else 0) : following.start() if following else len(text)]


def _dates(text: str) -> list[Found]:
    found = []
    for index, pattern in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            if any(f.start <= match.start() < f.end for f in found):
                continue  # "March 2026" inside "1 March 2026", already read
            parts = match.groupdict()
            year = int(parts["year"])
            month = int(parts["mnum"]) if parts.get("mnum") else MONTHS[parts["month"].lower()]
            if parts.get("day") is None:
                found.append(Found(f"{year:04d}-{month:02d}", match.start(), match.end()))
                continue
            day = int(parts["day"])
            if index == 3 and day <= 12 and month <= 12 and day != month:
                # 03/04/2026: the 3rd of April or March the 4th. The text is kept as written.
                found.append(Found(match.group(0), match.start(), match.end()))
                continue
            try:
                found.append(Found(date(year, month, day).isoformat(), match.start(), match.end()))
            except ValueError:
                continue
    return found


def _amounts(text: str) -> list[Found]:
    found = []
    for pattern in _AMOUNT_PATTERNS:
        for match in pattern.finditer(text):
            if any(f.start < match.end() and match.start() < f.end for f in found):
                continue
            parts = match.groupdict()
            symbol = parts.get("symbol")
            currency = _CURRENCY_SYMBOLS[symbol] if symbol else _CURRENCY_WORDS[parts["code"].lower()]
            try:
                number = Decimal(parts["number"].replace(",", ""))
            except InvalidOperation:
                continue
            if parts.get("scale"):
                number *= _SCALES[parts["scale"].lower()]
            found.append(Found(f"{_plain(number, money=True)} {currency}", match.start(), match.end()))
    return found


def _plain(number: Decimal, *, money: bool = False) -> str:
    """Digits without grouping or trailing zeros; money shows cents as two digits (12.50)."""
    text = format(number.normalize(), "f")
    return text + "0" if money and "." in text and len(text.split(".")[1]) == 1 else text


def _durations(text: str) -> list[Found]:
    found = []
    for match in _DURATION.finditer(text):
        raw = match.group("number").lower()
        number = Decimal(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else Decimal(raw)
        unit = _UNITS[re.sub(r"\s+", " ", match.group("unit").lower()).rstrip("s")]
        found.append(Found(f"{_plain(number)} {unit}{'' if number == 1 else 's'}", match.start(), match.end()))
    return found


def _percentages(text: str) -> list[Found]:
    return [
        Found(f"{_plain(Decimal(match.group('number')))}%", match.start(), match.end())
        for match in _PERCENTAGE.finditer(text)
    ]


# "This Services Agreement", "the Travel Policy": the document's own name, not a party's.
_DOCUMENT_WORDS = {
    "agreement",
    "policy",
    "section",
    "schedule",
    "appendix",
    "exhibit",
    "contract",
    "annex",
    "procedure",
}
_ABBREVIATIONS = {"inc.", "ltd.", "co.", "corp.", "jr.", "sr.", "plc.", "llc.", "st."}


def _names(text: str) -> list[Found]:
    found = []
    for match in _CAPITALISED.finditer(text):
        span = match.group(0)
        if span.endswith(".") and span.split()[-1].lower() not in _ABBREVIATIONS:
            span = span[:-1]  # the sentence's full stop, not part of the name
        words = span.split()
        end = match.start() + len(span)
        if all(w.lower().strip(".") in _NOT_NAMES for w in words) or words[-1].lower() in _DOCUMENT_WORDS:
            continue
        at_sentence_start = not text[: match.start()].strip() or text[: match.start()].rstrip()[-1:] in ".!?"
        if at_sentence_start:
            # "The Company" opens sentences: the sentence's first word counts only with two more.
            words = words[1:]
            if len(words) < 2:
                continue
            start = match.start() + match.group(0).index(words[0])
            found.append(Found(" ".join(words), start, end))
            continue
        found.append(Found(" ".join(words), match.start(), end))
    return found


def _yes_no(text: str, question: str) -> Found | None:
    if not text.strip():
        return None
    negated = _NEGATION.search(text)
    asked_negatively = _NEGATION.search(question or "") is not None
    value = "no" if (negated is not None) != asked_negatively else "yes"
    where = negated or re.search(r"\S.*", text)
    return Found(value, where.start(), where.end())


def _choice(text: str, choices) -> Found | None:
    words = set(_WORD.findall(text.lower()))
    scored = []
    for choice in choices:
        wanted = _WORD.findall(str(choice).lower())
        if wanted:
            scored.append((sum(w in words for w in wanted) / len(wanted), str(choice)))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or scored[0][0] < 0.5 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    first_word = _WORD.findall(scored[0][1].lower())[0]
    match = re.search(re.escape(first_word), text, re.IGNORECASE)
    start = match.start() if match else 0
    return Found(scored[0][1], start, start + len(first_word))


def _text(text: str) -> Found | None:
    stripped = re.sub(r"\s+", " ", text).strip()
    if not stripped:
        return None
    return Found(stripped[:MAX_TEXT_VALUE], 0, len(text))


_FINDERS = {
    YES_NO: _yes_no,
    DATE: _dates,
    AMOUNT: _amounts,
    DURATION: _durations,
    PERCENTAGE: _percentages,
    NAME: _names,
    TEXT: _text,
    CHOICE: _choice,
}
