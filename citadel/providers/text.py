"""Small, dependency-free text tools shared by the extractive generator and the citation checks:
sentence spans with offsets, content words, and a light English stemmer.

They must agree with each other more than with linguistics: the extractive generator picks
sentences with them and the citation checks verify sentences with them, so one definition serves
both."""

import re
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# A sentence ends at . ! or ? (plus closing quotes/brackets and any [n] markers that follow)
# when whitespace or the end comes next, so "3.5" and "v2.1" stay whole.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?:[ \t]*\[\d+(?:\s*[,;]\s*\d+)*\])*(?=\s|$)")
# A single line break is usually wrapping (PDF text breaks lines mid-sentence); it ends a sentence
# only before a blank line or a list item, or after a heading-like line (short, no end punctuation).
_LIST_ITEM = re.compile(r"\s*(?:[-*•–]|\d+[.)])\s")
_HEADING_MAX_WORDS = 10
_SHORT_HEADING_WORDS = 5
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves also may might must shall us i'm it's don't does doesn't get gets got tell please
    many much""".split()
)

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ousness", "ous"),
    ("ements", ""),
    ("ement", ""),
    ("ments", ""),
    ("ment", ""),
    ("ities", ""),
    ("ity", ""),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ed", ""),
    ("ly", ""),
    ("es", ""),
    ("s", ""),
)


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Strip common English suffixes, keeping at least three letters, so "approvals", "approved"
    and "approve" meet. Deliberately crude: it only has to be consistent."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and not word.endswith("ss"):
            base = word[: -len(suffix)] + replacement
            if len(base) >= 3:
                word = base
                break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords, no [n] markers)."""
    text = MARKER.sub(" ", text)
    return [stem(w) for w in words(text) if w.lower() not in STOPWORDS]


def _title_case(line: str) -> bool:
    """Most of the line's longer words capitalised, as titles are written."""
    long_words = [w for w in words(line) if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) * 2 > len(long_words)


def _hard_breaks(text: str) -> list[int]:
    """Offsets just after each line break that ends a sentence on its own."""
    breaks = []
    line_start = 0
    for match in re.finditer(r"\n", text):
        line = text[line_start : match.start()].strip()
        rest = text[match.end() :]
        next_line = rest.split("\n", 1)[0]
        # Hard-wrapped prose continues in lower case; a heading is followed by a capitalised line.
        # A line of sentence case longer than a few words is wrapped prose whose next line starts
        # with a name ("takes place" / "Room 4B"), as OCR and slides break them.
        heading_like = (
            bool(line)
            and line[-1] not in ".,;:!?"
            and len(line.split()) <= _HEADING_MAX_WORDS
            and (len(line.split()) <= _SHORT_HEADING_WORDS or _title_case(line))
            and next_line.strip()[:1].isupper()
        )
        if not next_line.strip() or _LIST_ITEM.match(next_line) or heading_like:
            breaks.append(match.end())
        line_start = match.end()
    return breaks


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of `text`, trimmed of surrounding whitespace."""
    ends = sorted({m.end() for m in _SENTENCE_END.finditer(text)} | set(_hard_breaks(text)))
    spans = []
    start = 0
    for end in ends:
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def strip_markers(text: str) -> str:
    return re.sub(r"\s+", " ", MARKER.sub("", text)).strip()


def find_span(haystack: str, needle: str) -> tuple[int, int] | None:
    """Offsets of `needle` inside `haystack`, ignoring case and differences in whitespace."""
    parts = [re.escape(p) for p in needle.split()]
    if not parts:
        return None
    match = re.search(r"\s+".join(parts), haystack, re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def estimate_tokens(text: str) -> int:
    """Roughly what a BPE tokenizer gives for English prose, for providers that report no usage."""
    return max(1, round(len(words(text)) * 1.3)) if text else 0
