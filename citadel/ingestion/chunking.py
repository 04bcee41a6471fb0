"""Structure-following chunking.

A chunk never crosses a page or a heading: the parsed blocks are grouped into sections (same
page, same heading path) and each section is packed sentence by sentence up to the token budget,
with a small overlap between consecutive chunks of one section. Budgets are in the embedder's own
tokens (`count_tokens`), so no chunk is silently truncated by the model. Every chunk is an exact
span of the version text (`text[char_start:char_end]`), which is what citations quote.
"""

import bisect
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from citadel.ingestion.parsers import Block, ParsedDocument

DEFAULT_CHUNK_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 32
# The model adds [CLS] and [SEP] to every input.
SPECIAL_TOKENS = 2

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkSpec:
    ordinal: int
    text: str
    page: int | None
    heading_path: list[str]
    char_start: int
    char_end: int
    token_count: int
    content_hash: str
    # Where the passage is, said as a reader finds it: "page 3", "Sheet1 rows 20-35".
    locator: str = ""
    # The page's OCR confidence when its text was read from the image.
    ocr_confidence: float | None = None


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_budget(*, max_tokens: int, chunk_tokens: int | None = None) -> int:
    return max(16, min(chunk_tokens or DEFAULT_CHUNK_TOKENS, max_tokens - SPECIAL_TOKENS))


def chunk_document(
    parsed: ParsedDocument,
    *,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    chunk_tokens: int | None = None,
    overlap_tokens: int | None = None,
) -> list[ChunkSpec]:
    budget = chunk_budget(max_tokens=max_tokens, chunk_tokens=chunk_tokens)
    overlap = min(DEFAULT_OVERLAP_TOKENS if overlap_tokens is None else overlap_tokens, budget // 4)
    text = parsed.text
    specs: list[ChunkSpec] = []
    for section in _sections(parsed.blocks):
        units = _units(text, section, count_tokens, budget)
        head = section[-1]
        locate = _Locator(section)
        for start, end in _pack(units, budget, overlap):
            chunk_text = text[start:end]
            specs.append(
                ChunkSpec(
                    ordinal=len(specs),
                    text=chunk_text,
                    page=head.page,
                    heading_path=head.heading_path,
                    char_start=start,
                    char_end=end,
                    token_count=count_tokens(chunk_text),
                    content_hash=content_hash(chunk_text),
                    locator=locate(start, end),
                    ocr_confidence=head.ocr_confidence,
                )
            )
    return specs


class _Locator:
    """Where a span of one section is. Blocks are in text order, so the ones a span overlaps are
    found by bisection: a sheet of 100,000 rows is one section of 100,000 blocks."""

    def __init__(self, section: list[Block]) -> None:
        self.section = section
        self.starts = [b.char_start for b in section]
        self.ends = [b.char_end for b in section]

    def __call__(self, start: int, end: int) -> str:
        section = self.section
        first, last = bisect.bisect_right(self.ends, start), bisect.bisect_left(self.starts, end)
        rows = [b.row for b in section[first:last] if b.row is not None]
        if rows:
            where = f"row {rows[0]}" if rows[0] == rows[-1] else f"rows {rows[0]}-{rows[-1]}"
            return f"{section[0].sheet} {where}" if section[0].sheet else where
        page = section[-1].page
        return f"{section[-1].unit} {page}" if page else ""


def _sections(blocks: list[Block]) -> list[list[Block]]:
    """Consecutive blocks sharing page and heading path. A section made only of headings (a
    chapter title straight above its first subsection) joins the section after it on the same
    page, so no chunk is a bare heading."""
    sections: list[list[Block]] = []
    for block in blocks:
        current = sections[-1] if sections else None
        if current and (current[-1].page, current[-1].heading_path) == (block.page, block.heading_path):
            current.append(block)
        elif current and all(b.is_heading for b in current) and current[-1].page == block.page:
            current.append(block)
        else:
            sections.append([block])
    return sections


def _units(text: str, section: list[Block], count_tokens, budget: int) -> list[_Unit]:
    units: list[_Unit] = []

    def add(start: int, end: int) -> None:
        piece = text[start:end]
        if not piece.strip():
            return
        tokens = count_tokens(piece)
        if tokens <= budget:
            units.append(_Unit(start, end, tokens))
        else:
            units.extend(_word_units(text, start, end, count_tokens, budget))

    for block in section:
        if block.record:
            # A table row is one record: never split between its fields.
            add(block.char_start, block.char_end)
            continue
        start = block.char_start
        for separator in _SENTENCE_END.finditer(text, block.char_start, block.char_end):
            add(start, separator.start())
            start = separator.end()
        add(start, block.char_end)
    return units


def _word_units(text: str, start: int, end: int, count_tokens, budget: int) -> list[_Unit]:
    """A sentence longer than the budget (a table row, a run-on list) is cut between words."""
    units: list[_Unit] = []
    run_start = run_end = None
    run_tokens = 0
    for match in _WORD.finditer(text, start, end):
        tokens = count_tokens(match.group())
        if tokens > budget:
            # A single "word" over the budget (a base64 blob): cut it by characters.
            if run_start is not None:
                units.append(_Unit(run_start, run_end, run_tokens))
                run_start, run_tokens = None, 0
            step = max(1, (match.end() - match.start()) * budget // (tokens + 1))
            for s in range(match.start(), match.end(), step):
                e = min(s + step, match.end())
                units.append(_Unit(s, e, count_tokens(text[s:e])))
            continue
        if run_start is not None and run_tokens + tokens > budget:
            units.append(_Unit(run_start, run_end, run_tokens))
            run_start, run_tokens = None, 0
        if run_start is None:
            run_start = match.start()
        run_end = match.end()
        run_tokens += tokens
    if run_start is not None:
        units.append(_Unit(run_start, run_end, run_tokens))
    return units


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, units[i].tokens
        while j + 1 < len(units) and total + units[j + 1].tokens <= budget:
            j += 1
            total += units[j].tokens
        spans.append((units[i].start, units[j].end))
        if j + 1 >= len(units):
            break
        # Step back over trailing sentences worth at most `overlap` tokens, always moving forward.
        k, carried = j + 1, 0
        while k - 1 > i and carried + units[k - 1].tokens <= overlap:
            k -= 1
            carried += units[k].tokens
        i = k
    return spans
