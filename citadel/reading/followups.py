"""Follow-up questions turned into the question the person meant, from their thread.

"What is the daily meal allowance when travelling?" followed by "and abroad?" is searched as
"What is the daily meal allowance when travelling abroad?"; a question that stands on its own is
searched as asked. Offline and deterministic: no model, no network.

The rule, measured on the dev half of demo/threads.jsonl (bench/followups.py --fit): a follow-up leans
on its thread when it opens with a connective ("and ...", "what about ..."), when it holds a pronoun
that points back (not the existential "is there", not the dummy "it" of "does it take"), or when it
has at most MAX_CONTENT_WORDS content words. Anything else is searched exactly as asked.

It is rewritten from the most recent turn's `searched_as`, so chains carry on: a pronoun becomes that
turn's subject phrase; a fragment replaces the words it stands in for (a number for a number, a plural
noun for the plural noun that ends the question) or is added to the question; anything else is asked
after that question. Only function words are added besides the thread's own."""

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Turn:
    """An earlier turn of the thread, oldest first: what was asked and what was searched."""

    question: str
    searched_as: str


@dataclass(frozen=True, slots=True)
class Standalone:
    """What to search: `text`, and the index in the history of the turn it drew on (None when the
    question stands on its own and `text` is the question as asked)."""

    text: str
    drew_on: int | None


# Fitted on the dev half: 1 flags "what's the number?" and no standalone question; 2 would also flag
# full short questions such as "How much is the wellness stipend?".
MAX_CONTENT_WORDS = 1

WORD = re.compile(r"[\w$€£%][\w$€£%'’.,()/-]*[\w$€£%)]|[\w$€£%]")
NUMBER = re.compile(r"^[$€£]?\d[\d,.]*%?$")
CONNECTIVES = (
    ("what", "about"),
    ("how", "about"),
    ("same", "for"),
    ("same", "with"),
    ("same", "question", "for"),
    ("and",),
    ("or",),
    ("but",),
    ("also",),
    ("so",),
)
WH = {"what", "what's", "whats", "who", "who's", "whom", "whose", "when", "where", "where's", "which", "why", "how"}
WH_MODIFIERS = {"long", "much", "many", "often", "far", "fast", "soon", "late", "early", "old", "big"}
BE = {"is", "are", "was", "were", "be", "'s"}
AUXILIARIES = BE | {
    "do", "does", "did", "can", "could", "must", "should", "shall", "will", "would", "may", "might", "has", "have",
    "had",
}  # fmt: skip
SUBORDINATORS = {"if", "when", "whether", "because", "unless", "once"}
SUBJECT_PRONOUNS = {"i", "we", "you", "they", "he", "she"}
DETERMINERS = {"the", "a", "an", "my", "our", "your", "their", "his", "her", "its", "this", "that", "these", "those"}
PREPOSITIONS = {
    "of", "for", "in", "on", "at", "to", "from", "with", "without", "by", "about", "after", "before", "during",
    "under", "over", "outside", "inside", "within", "per", "into", "than", "between", "as", "like",
}  # fmt: skip
# "it" that points at nothing: "how long does it take", "is it possible to".
DUMMY_IT_NEXT = {
    "take", "takes", "took", "possible", "ok", "okay", "true", "allowed", "necessary", "mandatory", "required",
    "worth", "mean", "matter", "seems", "happen", "rains",
}  # fmt: skip
BACK_PRONOUNS = {"it", "that", "this", "they", "them", "those", "these", "there", "one", "ones"}
SUBSTITUTED = {"it", "that", "this", "them", "those", "these"}
STOPWORDS = (
    WH | WH_MODIFIERS | AUXILIARIES | SUBJECT_PRONOUNS | DETERMINERS | PREPOSITIONS | BACK_PRONOUNS | {
        "and", "or", "but", "also", "so", "then", "if", "not", "no", "yes", "me", "us", "him", "mine", "ours",
        "yours", "theirs", "any", "anything", "some", "something", "all", "every", "each", "there", "here", "else",
        "still", "just", "too", "very", "instead", "am", "i'm", "it's", "that's", "there's", "what", "about",
        "same", "get", "got", "need", "want", "know", "please", "tell", "one", "up", "out", "ever",
    }
)  # fmt: skip
CLAUSE_BREAKS = (" — ", ", and ", ", ")


def _words(text: str) -> list[str]:
    return WORD.findall(text)


def _key(word: str) -> str:
    return word.casefold().replace("’", "'")


def content_words(text: str) -> list[str]:
    """The words that carry meaning, folded: what a rewrite must keep and may only borrow."""
    return [_key(w) for w in _words(text) if _key(w) not in STOPWORDS]


def _connective(keys: list[str]) -> int:
    """How many leading words are a connective that hangs the question on the thread (0 if none)."""
    for connective in CONNECTIVES:
        if tuple(keys[: len(connective)]) == connective:
            return len(connective)
    return 0


def _points_back(keys: list[str], at: int) -> bool:
    word = keys[at]
    before = keys[at - 1] if at else None
    after = keys[at + 1] if at + 1 < len(keys) else None
    if word == "there":
        return before not in BE and after not in BE and after != "'s"
    if word == "it":
        return after not in DUMMY_IT_NEXT
    if word in {"that", "this"}:
        # "that" after a noun or verb starts a clause ("the form that ..."); after nothing, an auxiliary or
        # a preposition it stands for something said before.
        return before is None or before in AUXILIARIES or before in PREPOSITIONS or before in {"and", "or", "but"}
    if word in {"one", "ones"}:
        return before in {"a", "an", "the", "new", "another", "other", "old", "that", "this", "which"}
    return word in BACK_PRONOUNS


def leans_on_thread(question: str) -> bool:
    """Whether `question` can only be understood from the turns before it."""
    keys = [_key(w) for w in _words(question)]
    if not keys:
        return False
    if _connective(keys):
        return True
    if any(_points_back(keys, i) for i in range(len(keys))):
        return True
    return len(content_words(question)) <= MAX_CONTENT_WORDS


def _last_clause(text: str) -> str:
    for separator in CLAUSE_BREAKS:
        if separator in text:
            return text.rsplit(separator, 1)[1]
    return text


def subject_phrase(question: str) -> str:
    """What a question is about: "What is the daily meal allowance when travelling abroad?" ->
    "the daily meal allowance when travelling abroad"; "" when nothing can be told."""
    for clause in dict.fromkeys((_last_clause(question), question.split(" — ")[0].split(", ")[0])):
        phrase = _subject_of_clause(clause)
        if phrase:
            return phrase
    return ""


def _subject_of_clause(clause: str) -> str:
    words = _words(clause)
    keys = [_key(w) for w in words]
    at = _connective(keys)
    if at < len(keys) and keys[at] in WH:
        at += 1
        while at < len(keys) and keys[at] in WH_MODIFIERS:
            at += 1
    auxiliary = keys[at] if at < len(keys) and keys[at] in AUXILIARIES else None
    if auxiliary:
        at += 1
    elif at and at < len(keys) and keys[at - 1] in WH:
        at += 1  # "who approves a refund": the verb, then its object
    if at < len(keys) and keys[at] == "there" and auxiliary in BE:
        at += 1
    rest, rest_keys = words[at:], keys[at:]
    if not rest:
        return ""
    clause_led = rest_keys[0] in SUBJECT_PRONOUNS or (not auxiliary and at)
    if clause_led or rest_keys[0] not in DETERMINERS and rest_keys[0] in STOPWORDS:
        # "do I get a parking permit": the thing asked about is the object, from its determiner on.
        starts = [i for i, k in enumerate(rest_keys) if k in DETERMINERS and i + 1 < len(rest_keys)]
        if not starts or SUBORDINATORS & set(rest_keys[: starts[0]]):
            return ""  # "what do I do if a customer asks ...": no phrase to stand in for it
        rest, rest_keys = rest[starts[0] :], rest_keys[starts[0] :]
    elif auxiliary and len(rest) >= 3 and (rest_keys[-1] in BE or rest_keys[-1] not in STOPWORDS):
        # "does the 401(k) match work", "must my password be": the subject sits before a final verb.
        if not NUMBER.match(rest[-1]) and (auxiliary not in BE or rest_keys[-1].endswith("ed")):
            rest = rest[:-1]
    elif auxiliary in BE and len(rest) == 2 and rest_keys[-1].endswith("ed"):
        rest = rest[:-1]
    return " ".join(rest)


def _location(question: str) -> str:
    """The place a question names ("at the office"), for a "there" that points back to it."""
    words = _words(question)
    keys = [_key(w) for w in words]
    for i in range(len(keys) - 1, -1, -1):
        if keys[i] in {"at", "in", "on", "to"} and i + 1 < len(keys):
            return " ".join(words[i:])
    return ""


def _bare(question: str) -> str:
    return question.strip().rstrip("?!. ").strip()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "?"


def _substitute(question: str, previous: str) -> str | None:
    """The follow-up with its back-pointing pronouns replaced by the previous turn's subject, or None."""
    text = _bare(question)
    matches = list(WORD.finditer(text))
    keys = [_key(m.group()) for m in matches]
    targets = [i for i, k in enumerate(keys) if k in SUBSTITUTED | {"there"} and _points_back(keys, i)]
    if not targets:
        return None
    subject, place = subject_phrase(previous), _location(previous)
    for i in reversed(targets):
        replacement = place if keys[i] == "there" else subject
        if not replacement:
            return None
        text = text[: matches[i].start()] + replacement + text[matches[i].end() :]
    return _sentence(text)


def _fragment(rest: list[str], previous: str) -> str:
    """A fragment ("60,000", "abroad", "chat messages") put into the previous question, or None."""
    base = _bare(previous)
    rest_keys = [_key(w) for w in rest]
    numbers = [w for w in rest if NUMBER.match(w)]
    matches = list(WORD.finditer(base))
    base_numbers = [m for m in matches if NUMBER.match(m.group())]
    if len(numbers) == 1 and len(base_numbers) == 1:
        # "refund of 800 dollars" + "and 20,000?": the number stands in for the number.
        return _sentence(base[: base_numbers[0].start()] + numbers[0] + base[base_numbers[0].end() :])
    base_words = [m.group() for m in matches]
    tail = 0
    while tail < len(base_words) and _key(base_words[-1 - tail]) not in STOPWORDS:
        tail += 1
    fragment = " ".join(rest)
    if tail < len(base_words) and _key(base_words[-1 - tail]) in SUBJECT_PRONOUNS | AUXILIARIES:
        tail -= 1  # "do we keep expense reports": the first of them is the verb
    if rest_keys[-1].endswith("s") and tail and _key(base_words[-1]).endswith("s") and rest_keys[0] not in PREPOSITIONS:
        # "How long do we keep expense reports?" + "and emails?": the plural it ends on is what changes.
        return _sentence(base[: matches[len(matches) - tail - 1].end()] + " " + fragment)
    single_modifier = len(rest) == 1 and rest[0][:1].islower() and not rest_keys[0].endswith("s")
    if single_modifier or rest_keys[0] in PREPOSITIONS:
        return _sentence(f"{base} {fragment}")  # "abroad", "in London": said of the same question
    return _sentence(f"{base} for {fragment}")


def standalone_question(question: str, history: Sequence[Turn]) -> Standalone:
    """The question `question` means after `history` (oldest first)."""
    if not history or not leans_on_thread(question):
        return Standalone(text=question, drew_on=None)
    drew_on = len(history) - 1
    previous = history[drew_on].searched_as
    substituted = _substitute(question, previous)
    if substituted is not None:
        return Standalone(text=substituted, drew_on=drew_on)
    words = _words(question)
    keys = [_key(w) for w in words]
    skip = _connective(keys)
    rest = words[skip:]
    if skip and rest and _key(rest[0]) not in WH | AUXILIARIES | {"if"}:
        return Standalone(text=_fragment(rest, previous), drew_on=drew_on)
    # A question of its own that needs the earlier one to make sense: ask it after that one.
    joiner = ", " if skip else " — "
    return Standalone(text=f"{_bare(previous)}{joiner}{_bare(question)}?", drew_on=drew_on)
