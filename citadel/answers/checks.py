"""Citation checks on a finished answer text, whatever produced it.

1. Every [n] must name a passage retrieved for this answer whose chunk the principal may still
   read; other markers are dropped from the text (and reported).
2. Every quoted span ("...") in a sentence must occur in one of the passages that sentence cites.
3. A sentence citing nothing, or whose cited passages share too few of its content words
   (SUPPORT_MIN_OVERLAP of its stems), is unsupported.
Each kept citation gets a quote: the span of its passage that backs the sentence.
`marker_citations` says, later, which of those quotes each [n] of the checked text stands for.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from citadel.providers import text as T

SUPPORT_MIN_OVERLAP = 0.5
_QUOTED = re.compile(r"\"([^\"]{6,})\"|“([^”]{6,})”")


@dataclass(frozen=True, slots=True)
class CheckedCitation:
    n: int
    quote: str
    start: int
    end: int
    # The answer's sentence it backs (markers stripped): what the reader checks the quote against.
    claim: str = field(default="", compare=False)


@dataclass
class CheckResult:
    text: str
    citations: list[CheckedCitation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"[\s,;]+", group) if x]


def _best_sentence(passage: str, stems: set[str]) -> tuple[int, int]:
    best, best_overlap = (0, len(passage)), -1
    for start, end in T.sentence_spans(passage):
        overlap = len(stems & set(T.content_stems(passage[start:end])))
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    return best


def check_answer(*, text: str, passages: dict[int, str], allowed: set[int]) -> CheckResult:
    """`passages` maps n to the passage text; `allowed` holds the n the principal may cite."""
    result = CheckResult(text="")

    def keep_allowed(match: re.Match) -> str:
        numbers = _numbers(match.group(1))
        kept = [n for n in numbers if n in allowed and n in passages]
        result.dropped.extend(n for n in numbers if n not in kept)
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    # Until nothing changes: removing an inner marker of "[[9]3]" forms a new "[3]", which must be
    # checked like any other. Each pass either leaves the text as it is or removes a marker.
    cleaned = T.MARKER.sub(keep_allowed, text)
    while (again := T.MARKER.sub(keep_allowed, cleaned)) != cleaned:
        cleaned = again
    # Removing a marker may leave "word ." or doubled spaces behind.
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    result.text = cleaned

    stems_of = {n: set(T.content_stems(p)) for n, p in passages.items() if n in allowed}
    seen: set[tuple[int, int]] = set()
    for start, end in T.sentence_spans(cleaned):
        sentence = cleaned[start:end]
        cited = [n for n in (int(x) for m in T.MARKER.finditer(sentence) for x in _numbers(m.group(1)))]
        cited = list(dict.fromkeys(cited))
        body = T.strip_markers(sentence)
        stems = set(T.content_stems(body))
        if not cited:
            # A lead-in ("Here is what the policy says:") claims nothing; anything else must cite.
            if stems and not body.endswith(":"):
                result.unsupported.append(body)
            continue
        quotes = [a or b for a, b in _QUOTED.findall(body)]
        quotes_ok = all(any(T.find_span(passages[n], q) for n in cited) for q in quotes)
        backing = set().union(*(stems_of[n] for n in cited))
        overlap = len(stems & backing) / len(stems) if stems else 1.0
        if not quotes_ok or overlap < SUPPORT_MIN_OVERLAP:
            result.unsupported.append(body)
        for n in cited:
            span = next((s for q in quotes if (s := T.find_span(passages[n], q))), None)
            span = span or T.find_span(passages[n], body) or _best_sentence(passages[n], stems)
            if (n, span[0]) in seen:
                continue
            seen.add((n, span[0]))
            result.citations.append(
                CheckedCitation(n=n, quote=passages[n][span[0] : span[1]], start=span[0], end=span[1], claim=body)
            )
    return result


def marker_citations(text: str, citations: Sequence[tuple[int, str]]) -> dict[tuple[int, int], int]:
    """Which citation each [n] of a checked `text` stands for: {(offset of the marker, n): index into
    `citations`}, given each citation's (n, quote) in the order check_answer returned them.

    check_answer makes one citation per (passage, span) in the order of the text, and none for a
    sentence that repeats a span already quoted; which span a marker stands for is not kept. So the
    sentences are walked again: a sentence's [n] stands for passage n's next citation, or for an
    earlier one when that backs the sentence better (a repeat)."""
    of_passage: dict[int, list[int]] = {}
    for index, (n, _) in enumerate(citations):
        of_passage.setdefault(n, []).append(index)
    used = dict.fromkeys(of_passage, 0)
    found: dict[tuple[int, int], int] = {}
    for start, end in T.sentence_spans(text):
        body = T.strip_markers(text[start:end])
        stems = set(T.content_stems(body))
        chosen: dict[int, int] = {}
        for match in T.MARKER.finditer(text, start, end):
            for n in _numbers(match.group(1)):
                if n not in of_passage:
                    continue
                if n not in chosen:
                    candidates = of_passage[n][: used[n] + 1]
                    scores = [_backing(citations[i][1], body, stems) for i in candidates]
                    # On a tie the later candidate: the sentence's own new span over an earlier one.
                    best = max(reversed(range(len(scores))), key=scores.__getitem__)
                    used[n] = max(used[n], best + 1)
                    chosen[n] = candidates[best]
                found[(match.start(), n)] = chosen[n]
    return found


def _backing(quote: str, body: str, stems: set[str]) -> tuple[bool, int]:
    """How closely a quote is the one check_answer took for a sentence: a span the sentence quotes or
    is (found in it), else the passage sentence sharing most of its content words."""
    return T.find_span(body, quote) is not None, len(stems & set(T.content_stems(quote)))
