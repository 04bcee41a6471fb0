"""Follow-up questions turned into the question the person meant, from their thread.

"What is the daily meal allowance when travelling?" followed by "and abroad?" is searched as
"What is the daily meal allowance when travelling abroad?"; a question that stands on its own is
searched as asked. Offline and deterministic: no model, no network. The rules are linguistic (what a
word's class and place in the question say), not lists of the demo's topics.

A follow-up leans on its thread (measured on the dev half of demo/threads.jsonl, bench/followups.py
--fit) when any of these holds:
* it opens with a connective ("and ...", "what about ...", "same for ...", "what if ...");
* it holds a word that points back: a pronoun ("it", "that", "they", "one"; not the existential "is
  there", not the dummy "it" of "does it take", not the "that" that opens a clause, not the "one"
  that counts), or a "their" with nothing in its own question to agree with;
* it ends on a word that compares with something said before ("... instead?", "... too?");
* it is a fragment: no question word, auxiliary, subject pronoun or request ("tell me") opens it, it
  has no auxiliary, and it opens with a preposition or a focus word ("even during an investigation?")
  or leaves its question word for later ("register by when");
* it has at most MAX_CONTENT_WORDS content words.
Anything else is searched exactly as asked, and so is a question that sets out its own context in a
sentence before it ("I disagree with my rating. How do I contest it?"). Acronyms are names: "the IT
bar" points at nothing.

It is rewritten from the most recent turn's `searched_as`, so chains carry on:
* a pronoun becomes that turn's noun phrase: the one it asks about ("how much parental leave", the
  object of "can interns get a salary advance"), a plural one for "they", the latest "a ..." for
  "one" ("a new one" takes its head noun);
* a fragment replaces what it stands in for: a number the number, a code the code of the same letters
  ("SEV1" -> "sev3"), a phrase opened by a preposition the phrase the same preposition opens ("for a
  private car" -> "for an electric car"), a noun phrase the phrase with the same head noun ("the
  birthing parent" -> "the other parent"), an "a ..." the "a ..." a preposition governs, a plural the
  plural an auxiliary, a preposition or a verb leads to ("can contractors get" -> "can interns get");
  otherwise it is added to the question;
* a bare question word asks the earlier question with it ("When is lunch served?" + "where?");
* a topic set out before a question ("and office-based staff, how many days do they come in?") takes
  the place of its pronoun;
* any other question of its own is asked after the earlier question.
Only function words are added besides the thread's own."""

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


# Fitted on the dev half (bench/followups.py --fit, 48 threads): 1 flags "what's the number?" and no
# standalone question, and misses 7 follow-ups; 2 would miss 2 but also flag 5 full short questions
# such as "How much is the wellness stipend?".
MAX_CONTENT_WORDS = 1

WORD = re.compile(r"[\w$€£%][\w$€£%'’.,()/-]*[\w$€£%)]|[\w$€£%]")
NUMBER = re.compile(r"^[$€£]?\d[\d,.]*(?:%|[km])?$", re.IGNORECASE)
CODE = re.compile(r"^([^\W\d_]+)-?(\d+)$")
CONNECTIVES = (
    ("what", "about"),
    ("how", "about"),
    ("same", "for"),
    ("same", "with"),
    ("same", "if"),
    ("same", "question", "for"),
    ("what", "if"),  # "what if I leave mid-year?": what happens to what was asked, if ...
    ("and",),
    ("or",),
    ("but",),
    ("also",),
    ("so",),
)
WH = {"what", "what's", "whats", "who", "who's", "whom", "whose", "when", "where", "where's", "which", "why", "how"}
WH_BE = {"what's", "whats", "who's", "where's", "how's", "when's"}
WH_DETERMINERS = {"what", "which", "whose"}
WH_MODIFIERS = {"long", "much", "many", "often", "far", "fast", "soon", "late", "early", "old", "big", "quickly"}
BE = {"is", "are", "was", "were", "be", "'s"}
AUXILIARIES = BE | {
    "do", "does", "did", "can", "could", "must", "should", "shall", "will", "would", "may", "might", "has", "have",
    "had", "isn't", "aren't", "don't", "doesn't", "can't", "won't", "didn't",
}  # fmt: skip
SUBORDINATORS = {"if", "when", "whether", "because", "unless", "once"}
SUBJECT_PRONOUNS = {"i", "we", "you", "they", "he", "she", "i'm", "i've", "i'd", "i'll", "we're", "we've", "you're"}
DETERMINERS = {"the", "a", "an", "my", "our", "your", "their", "his", "her", "its", "this", "that", "these", "those"}
PREPOSITIONS = {
    "of", "for", "in", "on", "at", "to", "from", "with", "without", "by", "about", "after", "before", "during",
    "under", "over", "outside", "inside", "within", "per", "into", "than", "between", "as", "like",
}  # fmt: skip
# Words that ask for something without being a question: "tell me ...", "explain ...".
REQUESTS = {"tell", "show", "explain", "list", "describe", "give", "find", "remind", "please"}
# Words that focus on one case of something said before: "even during an investigation?".
FOCUS = {"even", "only", "just", "except", "not", "especially", "including", "excluding"}
# At the end of a question, words that compare with something said before: "... instead?", "... too?".
COMPARING = {"instead", "too", "either", "otherwise", "then", "also"}
# "it" that points at nothing: "how long does it take", "is it possible to".
DUMMY_IT_NEXT = {
    "take", "takes", "took", "possible", "ok", "okay", "true", "allowed", "necessary", "mandatory", "required",
    "worth", "mean", "matter", "seems", "happen", "rains",
}  # fmt: skip
# What "one" counts rather than stands for: "more than one", "only one", "at least one".
COUNTING_ONE = {"than", "only", "no", "any", "every", "each", "just", "least", "at", "in", "of"}
# What a "their" agrees with when it points inside its own question: "can anyone bring their kids?".
THEIR_ANTECEDENTS = {"they", "someone", "anyone", "everyone", "somebody", "anybody", "everybody", "each", "every"}
BACK_PRONOUNS = {"it", "that", "this", "they", "them", "those", "these", "there", "one", "ones"}
PLURAL = {"they", "them", "those", "these", "ones"}
SUBSTITUTED = {"it", "that", "this", "one", "there"} | PLURAL
STOPWORDS = (
    WH | WH_MODIFIERS | AUXILIARIES | SUBJECT_PRONOUNS | DETERMINERS | PREPOSITIONS | BACK_PRONOUNS | FOCUS
    | COMPARING | {
        "and", "or", "but", "so", "if", "no", "yes", "me", "us", "him", "mine", "ours", "yours", "theirs", "any",
        "anything", "some", "something", "all", "every", "each", "there", "here", "else", "still", "very", "am",
        "it's", "that's", "there's", "what", "about", "same", "get", "gets", "got", "getting", "need", "needs",
        "want", "wants", "know", "knows", "please", "tell", "one", "up", "out", "off", "ever", "been", "being",
        "ok", "okay", "really", "actually", "anyway",
    }
)  # fmt: skip
CLAUSE_BREAKS = (" — ", ", and ", ", ")
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def _words(text: str) -> list[str]:
    return WORD.findall(text)


def _key(word: str) -> str:
    folded = word.casefold().replace("’", "'")
    if folded in STOPWORDS and len(word) > 1 and word.isalpha() and word.isupper():
        return word  # an acronym is a name: "IT" is not "it", "US" not "us"
    return folded


def _function(key: str) -> bool:
    return key in STOPWORDS


def content_words(text: str) -> list[str]:
    """The words that carry meaning, folded: what a rewrite must keep and may only borrow."""
    return [_key(w) for w in _words(text) if not _function(_key(w))]


def _plural(key: str) -> bool:
    # By its ending: good enough to tell "they" from "it", and "ss" ("class"), "us" ("bonus") are not plurals.
    return len(key) > 2 and key.endswith("s") and not key.endswith(("ss", "us", "'s")) and not NUMBER.match(key)


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
        # a preposition, or with nothing after it ("can my manager waive that"), it stands for something
        # said before.
        return (
            before is None
            or after is None
            or before in AUXILIARIES
            or before in PREPOSITIONS
            or before in {"and", "or", "but"}
        )
    if word in {"one", "ones"}:
        if before in {"a", "an", "the", "new", "another", "other", "old", "that", "this", "which"}:
            return True
        # "who gets one", "annual ones": nothing follows for it to count.
        return before is not None and before not in COUNTING_ONE and (after is None or _function(after))
    if word == "their":
        # "their" agrees with a plural, someone or an indefinite of its own question ("can a contractor ... get
        # an advance on their pay?"), or with one before it.
        return not any(
            (_plural(k) and not _function(k)) or k in THEIR_ANTECEDENTS or k in {"a", "an"} for k in keys[:at]
        )
    return word in BACK_PRONOUNS


def _compares(keys: list[str]) -> bool:
    """Whether the question ends on a word that compares with something said before ("... instead?")."""
    return keys[-1] in COMPARING or keys[-2:] == ["as", "well"]


def _fragment_shaped(question: str, keys: list[str]) -> bool:
    """Whether the question is a fragment ("even during an investigation?", "register by when")."""
    first = keys[0]
    if first in WH or first in AUXILIARIES or first in SUBJECT_PRONOUNS or first in REQUESTS or first == "there":
        return False
    if first in PREPOSITIONS and keys[1:2] and keys[1] in WH:
        return False  # "by when do I ...", "after how many years ...": the question word's phrase opens it
    if _clause_after_comma(question):
        return False  # "in case of fire, where do I go?": a question of its own follows what it sets out
    if any(k in AUXILIARIES for k in keys):
        return False  # "only managers can approve it?": a clause, asked as a statement
    return first in PREPOSITIONS or first in FOCUS or any(k in WH for k in keys[1:])


def _clause_after_comma(question: str) -> str | None:
    """The question that follows a comma ("..., how many days do they come in?"), or None."""
    if ", " not in question:
        return None
    asked = question.split(", ", 1)[1]
    keys = [_key(w) for w in _words(asked)]
    return asked if keys and (keys[0] in WH or keys[0] in AUXILIARIES) else None


def leans_on_thread(question: str) -> bool:
    """Whether `question` can only be understood from the turns before it."""
    *context, asked = SENTENCE_END.split(question.strip())
    if len(content_words(" ".join(context))) > 1:
        return False  # "I disagree with my rating. How do I contest it?": it sets out its own context
    keys = [_key(w) for w in _words(asked)]
    if not keys:
        return False
    if _connective(keys) or _compares(keys) or _fragment_shaped(asked, keys):
        return True
    if any(_points_back(keys, i) for i in range(len(keys))):
        return True
    return len(content_words(question)) <= MAX_CONTENT_WORDS


def _last_clause(text: str) -> str:
    for separator in CLAUSE_BREAKS:
        if separator in text:
            return text.rsplit(separator, 1)[1]
    return text


def _clauses(question: str) -> list[str]:
    return list(dict.fromkeys((_last_clause(question), question.split(" — ")[0].split(", ")[0])))


def subject_phrase(question: str) -> str:
    """What a question is about: "What is the daily meal allowance when travelling abroad?" ->
    "the daily meal allowance when travelling abroad"; "" when nothing can be told."""
    for clause in _clauses(question):
        phrases = _phrases_of_clause(clause)
        if phrases:
            return phrases[0]
    return ""


def _noun_phrase(words: list[str], keys: list[str], start: int) -> int:
    """Where the noun phrase that opens at `start` ends: at the first function word other than a
    determiner or a preposition ("a customer | get a refund", "CVs of candidates | we didn't hire")."""
    end = start + 1
    while end < len(keys) and (not _function(keys[end]) or keys[end] in DETERMINERS or keys[end] in PREPOSITIONS):
        end += 1
    while end > start + 1 and (keys[end - 1] in DETERMINERS or keys[end - 1] in PREPOSITIONS):
        end -= 1
    return end


def _phrases_of_clause(clause: str) -> list[str]:
    """The clause's noun phrases, the one it is about first; empty when nothing can be told."""
    words = _words(clause)
    keys = [_key(w) for w in words]
    at = _connective(keys)
    asked: list[str] = []  # "how much parental leave", "which second factors": what the question word asks
    wh = keys[at] if at < len(keys) and keys[at] in WH else None
    if wh:
        at += 1
        modifiers = 0
        while at < len(keys) and keys[at] in WH_MODIFIERS:
            at, modifiers = at + 1, modifiers + 1
        if wh in WH_DETERMINERS or (wh == "how" and modifiers):
            while at < len(keys) and not _function(keys[at]):
                asked.append(words[at])
                at += 1
    auxiliary = "is" if wh in WH_BE else None
    if not auxiliary and at < len(keys) and keys[at] in AUXILIARIES:
        auxiliary = keys[at]
        at += 1
    elif not auxiliary and wh and not asked and at < len(keys):
        at += 1  # "who approves a refund": the verb, then its object
    if at < len(keys) and keys[at] == "there" and auxiliary in BE:
        at += 1
    rest, rest_keys = words[at:], keys[at:]
    phrases = [" ".join(asked)] if len(asked) > 1 else []
    if rest:
        main = _main_phrase(rest, rest_keys, auxiliary, verb_skipped=bool(wh and not auxiliary and not asked))
        if main:
            phrases.append(main)
    if len(asked) == 1:
        phrases.append(asked[0])  # "what laptops": a last resort, "what time" asks a kind, not a topic
    return list(dict.fromkeys(p for p in phrases if p))


def _main_phrase(rest: list[str], rest_keys: list[str], auxiliary: str | None, *, verb_skipped: bool) -> str:
    first = rest_keys[0]
    if first in SUBJECT_PRONOUNS or verb_skipped or (first not in DETERMINERS and _function(first)):
        # "do I get a parking permit": the thing asked about is the object, from its determiner on.
        starts = [i for i, k in enumerate(rest_keys) if k in DETERMINERS and i + 1 < len(rest_keys)]
        if SUBORDINATORS & set(rest_keys[: starts[0] if starts else len(rest_keys)]):
            return ""  # "what do I do if a customer asks ...": no phrase to stand in for it
        if starts:
            return " ".join(rest[starts[0] :])
        if first in SUBJECT_PRONOUNS and len(rest) > 2 and not _function(rest_keys[1]):
            # "do we keep CVs of candidates", "can I spend per person on client entertainment": a subject,
            # its verb, then a bare object or the object of the last preposition.
            objects = [i + 1 for i in range(2, len(rest_keys) - 1) if rest_keys[i] in PREPOSITIONS]
            start = 2 if not _function(rest_keys[2]) else (objects[-1] if objects else 0)
            if start and not _function(rest_keys[start]):
                return " ".join(rest[start : _noun_phrase(rest, rest_keys, start)])
        return ""
    if auxiliary in BE:
        if len(rest) >= 3 and rest_keys[-1] in BE:
            return " ".join(rest[:-1])  # "must my password be"
        if len(rest) >= 2 and rest_keys[-1].endswith("ed") and not NUMBER.match(rest[-1]):
            return " ".join(rest[:-1])  # "is the badge replaced"
        return " ".join(rest)
    end = _noun_phrase(rest, rest_keys, 0)
    if auxiliary and end < len(rest) - 1 and _function(rest_keys[end]) and rest_keys[end] not in SUBORDINATORS:
        # "can interns get a salary advance": the subject is a person asking; its object is the topic.
        start = end + 1
        while start < len(rest) - 1 and rest_keys[start] in PREPOSITIONS:
            start += 1
        if rest_keys[start] not in SUBJECT_PRONOUNS and (
            rest_keys[start] in DETERMINERS or not _function(rest_keys[start])
        ):
            return " ".join(rest[start : _noun_phrase(rest, rest_keys, start)])
    if auxiliary and end == len(rest) and len(rest) >= 3 and not NUMBER.match(rest[-1]):
        end -= 1  # "does the 401(k) match work": the subject sits before a final verb
    return " ".join(rest[:end])


def _head(phrase: str) -> str:
    """The noun a phrase is named by: "a refund of 300 dollars" -> "refund"."""
    keys = [_key(w) for w in _words(phrase)]
    head = ""
    for key in keys:
        if _function(key):
            if head:
                break
            continue
        head = key
    return head


def _antecedent(pronoun: str, previous: str) -> str:
    """The noun phrase of the previous question a pronoun stands for: the first of its latest clause
    that has one; for "they", the first plural one, or a plural a preposition governs ("the internet
    stipend for hybrid employees"); "" if none."""
    for clause in _clauses(previous):
        phrases = _phrases_of_clause(clause)
        if phrases:
            if pronoun in PLURAL:
                return next((p for p in phrases if _plural(_head(p))), "") or _governed_plural(clause)
            return phrases[0]
    return ""


def _governed_plural(clause: str) -> str:
    """The first plural a preposition governs: "hybrid employees" in "the stipend for hybrid employees"."""
    words = _words(clause)
    keys = [_key(w) for w in words]
    for start in range(1, len(keys)):
        if keys[start - 1] in PREPOSITIONS and not _function(keys[start]) and not NUMBER.match(keys[start]):
            end = start
            while end < len(keys) and not _function(keys[end]):
                end += 1
            if _plural(keys[end - 1]):
                return " ".join(words[start:end])
    return ""


def _indefinite(previous: str) -> str:
    """What a "one" stands for: the latest phrase the previous question opens with "a" ("who gets one"
    after "what's the limit on a P-card?"), else the phrase "it" would stand for."""
    words = _words(previous)
    keys = [_key(w) for w in words]
    starts = [i for i, k in enumerate(keys) if k in {"a", "an"} and i + 1 < len(keys) and not _function(keys[i + 1])]
    if starts:
        start = starts[-1]
        end = _noun_phrase(words, keys, start)
        end = next((i for i in range(start + 1, end) if keys[i] in PREPOSITIONS), end)  # "a P-card", not "for ..."
        return " ".join(words[start:end])
    return _antecedent("it", previous)


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
    """The follow-up with its back-pointing pronouns replaced by the previous turn's phrases, or None."""
    text = _bare(question)
    matches = list(WORD.finditer(text))
    keys = [_key(m.group()) for m in matches]
    targets = [i for i, k in enumerate(keys) if k in SUBSTITUTED and _points_back(keys, i)]
    substituted = False
    for i in reversed(targets):
        if keys[i] == "there":
            replacement = _location(previous)
        elif keys[i] in {"one", "ones"}:
            replacement = _indefinite(previous)
            if keys[i - 1 : i] in (["a"], ["an"]) or (i > 1 and keys[i - 2] in DETERMINERS | {"a", "an"}):
                replacement = _head_word(replacement, previous)  # "a new one" -> "a new laptop"
            if keys[i] == "one" and _plural(_head(replacement)):
                replacement = ""  # "a new one" does not stand for "laptops"
        else:
            replacement = _antecedent(keys[i], previous)
        if not replacement:
            if keys[i] in PLURAL - {"ones"}:
                continue  # "can they extend it?": "they" may be whoever decides; "it" still resolves
            return None
        text = text[: matches[i].start()] + replacement + text[matches[i].end() :]
        substituted = True
    return _sentence(text) if substituted else None


def _head_word(phrase: str, previous: str) -> str:
    """The head noun of `phrase` as the previous question spells it."""
    head = _head(phrase)
    return next((w for w in _words(previous) if _key(w) == head), "")


def _same_noun(a: str, b: str) -> bool:
    return bool(a) and a.rstrip("s") == b.rstrip("s")


def _fragment(rest: list[str], previous: str) -> str:
    """A fragment ("60,000", "abroad", "for an electric car") put into the previous question."""
    base = _bare(previous)
    rest_keys = [_key(w) for w in rest]
    matches = list(WORD.finditer(base))
    base_keys = [_key(m.group()) for m in matches]
    fragment = " ".join(rest)

    def replaced(start: int, end: int, by: str) -> str:
        return _sentence(base[: matches[start].start()] + by + base[matches[end - 1].end() :])

    numbers = [w for w in rest if NUMBER.match(w)]
    base_numbers = [i for i, m in enumerate(matches) if NUMBER.match(m.group())]
    if len(numbers) == 1 and len(base_numbers) == 1:
        # "refund of 800 dollars" + "and 20,000?": the number stands in for the number.
        return replaced(base_numbers[0], base_numbers[0] + 1, numbers[0])
    codes = [CODE.match(w) for w in rest]
    for code in filter(None, codes):
        # "a SEV1 incident" + "and a sev3?": a code stands in for the code of the same letters.
        same = [i for i, m in enumerate(matches) if (c := CODE.match(m.group())) and _key(c[1]) == _key(code[1])]
        if len(same) == 1 and _key(matches[same[0]].group()) != _key(code[0]):
            return replaced(same[0], same[0] + 1, code[0])
    if rest_keys[0] in PREPOSITIONS and len(rest) > 1:
        # "the mileage rate for a private car" + "and for an electric car?": the same preposition's phrase.
        same = [i for i, k in enumerate(base_keys) if k == rest_keys[0] and i + 1 < len(base_keys)]
        if same:
            start = same[-1]
            end = _noun_phrase([m.group() for m in matches], base_keys, start + 1)
            if end == len(base_keys) or base_keys[end] not in PREPOSITIONS:
                return replaced(start, end, _with_head(rest, base_keys[start + 1 : end], base))
    head = _head(fragment)
    if head and rest_keys[0] not in PREPOSITIONS:
        # "the birthing parent" + "what about the other parent?": the phrase named by the same noun.
        for i, key in enumerate(base_keys):
            if i and _same_noun(key, head) and base_keys[i - 1] not in PREPOSITIONS:
                start = i
                while start and (
                    base_keys[start - 1] in DETERMINERS | {"a", "an"} or not _function(base_keys[start - 1])
                ):
                    start -= 1
                return replaced(start, i + 1, fragment)
    if rest_keys[0] in {"a", "an"} and len(rest) > 1:
        # "the mileage rate for a motorcycle" + "and a bicycle?": the latest "a ..." a preposition governs.
        governed = [
            i for i in range(1, len(base_keys) - 1) if base_keys[i] in {"a", "an"} and base_keys[i - 1] in PREPOSITIONS
        ]
        if governed:
            start = governed[-1]
            end = _noun_phrase([m.group() for m in matches], base_keys, start)
            end = next((i for i in range(start + 1, end) if base_keys[i] in PREPOSITIONS), end)
            return replaced(start, end, fragment)
    if _plural(rest_keys[-1]) and rest_keys[0] not in DETERMINERS | PREPOSITIONS | {"a", "an"}:
        # "do we keep expense reports" + "and emails?", "can contractors get" + "what about interns?": a
        # plural stands in for the plural that an auxiliary, a preposition or a subject's verb leads to.
        for start in range(1, len(base_keys)):
            before = base_keys[start - 1]
            if _function(base_keys[start]) or not (
                before in AUXILIARIES or before in PREPOSITIONS or before in SUBJECT_PRONOUNS
            ):
                continue
            if before in SUBJECT_PRONOUNS:
                start += 1  # "we keep expense reports": the first word is the verb
            end = start
            while end < len(base_keys) and not _function(base_keys[end]):
                end += 1
            if end > start and _plural(base_keys[end - 1]):
                return replaced(start, end, fragment)
    single_modifier = len(rest) == 1 and rest[0][:1].islower() and not rest_keys[0].endswith("s")
    if single_modifier or rest_keys[0] in PREPOSITIONS or rest_keys[0] in FOCUS:
        return _sentence(f"{base} {fragment}")  # "abroad", "in London": said of the same question
    return _sentence(f"{base} for {fragment}")


def _with_head(rest: list[str], replaced_keys: list[str], base: str) -> str:
    """The fragment with a "one(s)" in it named by the head noun of the phrase it replaces."""
    head = _head(" ".join(replaced_keys))
    word = next((w for w in _words(base) if _key(w) == head), "")
    if not word:
        return " ".join(rest)
    return " ".join(word if _key(w) in {"one", "ones"} else w for w in rest)


def _dislocated(question: str) -> str | None:
    """ "and office-based staff, how many days do they come in?": the question, its pronoun replaced by
    the topic set out before it; None when the question is not built that way."""
    asked = _clause_after_comma(question)
    if asked is None:
        return None
    topic_words = _words(question.split(", ", 1)[0])
    topic_keys = [_key(w) for w in topic_words]
    skip = _connective(topic_keys)
    topic_words, topic_keys = topic_words[skip:], topic_keys[skip:]
    if (
        not topic_keys
        or topic_keys[0] in PREPOSITIONS
        or any(k in WH | AUXILIARIES | SUBJECT_PRONOUNS for k in topic_keys)
    ):
        return None
    text = _bare(asked)
    matches = list(WORD.finditer(text))
    keys = [_key(m.group()) for m in matches]
    back = [i for i, k in enumerate(keys) if k in SUBSTITUTED - {"there"} and _points_back(keys, i)]
    if not back:
        return None
    return _sentence(text[: matches[back[0]].start()] + " ".join(topic_words) + text[matches[back[0]].end() :])


def _sluiced(asked: list[str], previous: str) -> str:
    """ "When is catered lunch served?" + "where?": the earlier question asking with the new question word."""
    base = _bare(_last_clause(previous)) if " — " in previous else _bare(previous)
    matches = list(WORD.finditer(base))
    keys = [_key(m.group()) for m in matches]
    end = _connective(keys)
    if end < len(keys) and keys[end] in WH:
        end += 1
        while end < len(keys) and keys[end] in WH_MODIFIERS:
            end += 1
        if end == len(keys):
            return _sentence(base)
        be = " is" if keys[end - 1] in WH_BE else ""  # "what's the limit" + "why?": why is the limit
        return _sentence(" ".join(asked) + be + " " + base[matches[end].start() :])
    if keys[:2] and keys[0] in BE and keys[1:2] == ["there"] and len(keys) > 2:
        # "Is there a sabbatical?" + "how long?": how long the sabbatical is.
        return _sentence(" ".join(asked) + f" {matches[0].group().lower()} " + base[matches[2].start() :])
    return _sentence(" ".join(asked) + " " + base[:1].lower() + base[1:])


def standalone_question(question: str, history: Sequence[Turn]) -> Standalone:
    """The question `question` means after `history` (oldest first)."""
    if not history or not leans_on_thread(question):
        return Standalone(text=question, drew_on=None)
    *context, question = SENTENCE_END.split(question.strip())
    drew_on = len(history) - 1
    rewritten = _rewrite(question, history[drew_on].searched_as)
    # "Thanks. And abroad?": the sentences before the question keep their words, only the question changes.
    return Standalone(text=" ".join([*context, rewritten]), drew_on=drew_on)


def _rewrite(question: str, previous: str) -> str:
    """The follow-up `question` (one sentence) as the question it means after `previous`."""
    dislocated = _dislocated(question)
    if dislocated is not None:
        return dislocated
    words = _words(question)
    keys = [_key(w) for w in words]
    skip = _connective(keys)
    rest, rest_keys = words[skip:], keys[skip:]
    if rest and not WH & set(rest_keys) and rest_keys[0] not in AUXILIARIES | SUBJECT_PRONOUNS | SUBORDINATORS:
        if (
            keys[skip - 1 : skip] == ["about"]
            and rest_keys[0] not in PREPOSITIONS
            and "about" in {_key(w) for w in _words(previous)}
        ):
            rest = ["about", *rest]  # "who do I contact about a suspicious login" + "how about an outage?"
        return _fragment(rest, previous)
    if not (rest and rest_keys[0] in SUBORDINATORS - WH):
        substituted = _substitute(question, previous)
        if substituted is not None:
            return substituted
    if rest and all(k in WH or k in WH_MODIFIERS for k in rest_keys):
        return _sluiced(rest, previous)
    # A question of its own that needs the earlier one to make sense: ask it after that one.
    joiner = ", " if skip else " — "
    return f"{_bare(previous)}{joiner}{_bare(question)}?"
