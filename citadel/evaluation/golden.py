"""The golden-set file format, shared by the web import and the `evaluate` command.

One JSON object per line: {"question": "...", "expected": ["external id", ...]}, optionally
"passages": ["snippet", ...] (judge by passage instead of by document), "notes": "..." and
"earlier_turns": ["question", ...] (a follow-up: the questions asked before it in the same thread,
oldest first). An empty "expected" (and no passages) marks a question the documents cannot answer:
a good answer abstains.
Blank lines are skipped. Every bad line is reported with its number, and a file with any bad line
yields no items at all, so callers never act on half a file.
"""

import json
from dataclasses import dataclass, field

from citadel.core.errors import InvalidInput

MAX_QUESTION_CHARS = 2000
# The `evaluate` command judges retrieval only, and standard test collections have questions of
# several thousand characters (a whole argument as the query): it takes them up to this, and
# retrieval reads the first characters it accepts, with a notice (retrieval_judge).
MAX_RETRIEVAL_QUESTION_CHARS = 50_000
MAX_EXPECTED = 1000
MAX_EXTERNAL_ID_CHARS = 255
MAX_PASSAGE_CHARS = 2000
MAX_LINES = 5000
MAX_EARLIER_TURNS = 10
MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True, slots=True)
class GoldenItem:
    line: int
    question: str
    expected: list[str]
    passages: list[str] = field(default_factory=list)
    notes: str = ""
    earlier_turns: list[str] = field(default_factory=list)


class GoldenFormatError(InvalidInput):
    """`errors` holds (line number, message) pairs, first to last."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        shown = "; ".join(f"line {n}: {msg}" for n, msg in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"The golden set has {len(errors)} bad line(s): {shown}{more}")


def _string_list(value, *, name: str, max_chars: int) -> tuple[list[str], str | None]:
    if not isinstance(value, list):
        return [], f'"{name}" must be a list of strings'
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            return [], f'"{name}" must hold only non-empty strings'
        item = item.strip()
        if len(item) > max_chars:
            return [], f'an entry of "{name}" is longer than {max_chars} characters'
        if item not in out:
            out.append(item)
    if len(out) > MAX_EXPECTED:
        return [], f'"{name}" has more than {MAX_EXPECTED} entries'
    return out, None


def parse_golden_line(raw: str, line: int, *, max_question_chars: int = MAX_QUESTION_CHARS) -> GoldenItem:
    """One line, or InvalidInput with a message that does not repeat the line number."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InvalidInput("must be a JSON object")
    return golden_item_from_dict(data, line=line, max_question_chars=max_question_chars)


def golden_item_from_dict(data: dict, *, line: int = 0, max_question_chars: int = MAX_QUESTION_CHARS) -> GoldenItem:
    """The same checks for a question typed into a form."""
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput('"question" must be a non-empty string')
    question = " ".join(question.split())
    if len(question) > max_question_chars:
        raise InvalidInput(f'"question" is longer than {max_question_chars} characters')
    if "expected" not in data:
        raise InvalidInput('"expected" is missing (a list of external ids)')
    expected, error = _string_list(data["expected"], name="expected", max_chars=MAX_EXTERNAL_ID_CHARS)
    if error:
        raise InvalidInput(error)
    passages, error = _string_list(data.get("passages", []), name="passages", max_chars=MAX_PASSAGE_CHARS)
    if error:
        raise InvalidInput(error)
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        raise InvalidInput('"notes" must be a string')
    return GoldenItem(
        line=line,
        question=question,
        expected=expected,
        passages=passages,
        notes=notes.strip(),
        earlier_turns=_earlier_turns(data.get("earlier_turns", [])),
    )


def _earlier_turns(value) -> list[str]:
    """In order and as many times as asked: a thread may ask the same thing twice."""
    if not isinstance(value, list) or not all(isinstance(turn, str) and turn.strip() for turn in value):
        raise InvalidInput('"earlier_turns" must be a list of non-empty questions')
    if len(value) > MAX_EARLIER_TURNS:
        raise InvalidInput(f'"earlier_turns" has more than {MAX_EARLIER_TURNS} questions')
    turns = [" ".join(turn.split()) for turn in value]
    if any(len(turn) > MAX_QUESTION_CHARS for turn in turns):
        raise InvalidInput(f"an earlier turn is longer than {MAX_QUESTION_CHARS} characters")
    return turns


def parse_golden_jsonl(text: str | bytes, *, max_question_chars: int = MAX_QUESTION_CHARS) -> list[GoldenItem]:
    """Every item of the file, or GoldenFormatError listing every bad line (1-based numbers)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GoldenFormatError([(text[: exc.start].count(b"\n") + 1, "is not valid UTF-8")]) from None
    text = text.removeprefix("\ufeff")
    items: list[GoldenItem] = []
    errors: list[tuple[int, str]] = []
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise GoldenFormatError([(MAX_LINES + 1, f"the file has more than {MAX_LINES} lines")])
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            items.append(parse_golden_line(raw, number, max_question_chars=max_question_chars))
        except InvalidInput as exc:
            errors.append((number, exc.message))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        raise GoldenFormatError(errors)
    if not items:
        raise GoldenFormatError([(1, "the file holds no questions")])
    return items
