"""A follow-up is searched as the question the person meant, drawn from the latest turn of its thread;
a question that stands on its own is searched exactly as asked."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citadel.reading.followups import Standalone, Turn, content_words, leans_on_thread, standalone_question


def asked(*questions: str) -> list[Turn]:
    """A thread whose turns were each searched as asked."""
    return [Turn(question=q, searched_as=q) for q in questions]


@pytest.mark.parametrize(
    ("earlier", "follow_up", "searched"),
    [
        (
            "What is the daily meal allowance when travelling?",
            "and abroad?",
            "What is the daily meal allowance when travelling abroad?",
        ),
        (
            "Who can claim a home office allowance?",
            "what about contractors?",
            "Who can claim a home office allowance for contractors?",
        ),
        ("How much can I get as a salary advance?", "who approves it?", "Who approves a salary advance?"),
        ("What is the hotel cap?", "is that per day?", "Is the hotel cap per day?"),
        (
            "Who approves a customer refund of 800 dollars?",
            "and 20,000?",
            "Who approves a customer refund of 20,000 dollars?",
        ),
        ("How long do we keep expense reports?", "what about emails?", "How long do we keep emails?"),
        ("How does the 401(k) match work?", "when does it vest?", "When does the 401(k) match vest?"),
        (
            "How do I get a parking permit at the office?",
            "can I charge my car there?",
            "Can I charge my car at the office?",
        ),
        ("Is there a sabbatical?", "how long is it?", "How long is a sabbatical?"),
        ("Where is the IT bar?", "when is it open?", "When is the IT bar open?"),
    ],
)
def test_a_follow_up_is_searched_as_the_question_it_stands_for(earlier, follow_up, searched):
    # Given a thread of one question, when a follow-up leans on it
    result = standalone_question(follow_up, asked(earlier))
    # then it is searched as the full question, drawn from that turn
    assert result == Standalone(text=searched, drew_on=0)


@pytest.mark.parametrize(
    "question",
    [
        "Which second factors are accepted for multi-factor authentication?",
        "How much can fully remote employees claim for a coworking space?",
        "Can I take my laptop abroad?",
        "Is there a parental leave policy for adoptive parents?",
        "How long does it take to set up a new supplier?",
        "When and where is the 2027 company offsite?",
        "Where is the IT bar?",
        "By when do I have to RSVP for the summer party?",
        "I disagree with my rating. How do I contest it?",
        "Can a contractor paid through an agency get an advance on their pay?",
    ],
)
def test_a_question_that_stands_on_its_own_is_searched_exactly_as_asked(question):
    # Given a thread about something else, when a full new question is asked
    result = standalone_question(question, asked("What is the daily meal allowance when travelling?"))
    # then it is left untouched and draws on no turn
    assert result == Standalone(text=question, drew_on=None)


@pytest.mark.parametrize(
    ("earlier", "follow_up", "searched"),
    [
        (
            "What's the mileage rate for a private car?",
            "and for an electric car?",
            "What's the mileage rate for an electric car?",
        ),
        (
            "How quickly must a SEV1 incident be acknowledged?",
            "and a sev3?",
            "How quickly must a sev3 incident be acknowledged?",
        ),
        (
            "How much parental leave does the birthing parent get?",
            "what about the other parent?",
            "How much parental leave does the other parent get?",
        ),
        ("Can contractors get a salary advance?", "what about interns?", "Can interns get a salary advance?"),
        ("What's the mileage rate for a motorcycle?", "and a bicycle?", "What's the mileage rate for a bicycle?"),
        ("Who do I contact about a suspicious login?", "how about an outage?", "Who do I contact about an outage?"),
        (
            "Who approves a purchase of 30,000 dollars?",
            "and 150k?",
            "Who approves a purchase of 150k dollars?",
        ),
        (
            "Can a customer get a refund on a monthly plan?",
            "and on annual ones?",
            "Can a customer get a refund on annual plan?",
        ),
    ],
)
def test_a_fragment_replaces_what_it_stands_in_for(earlier, follow_up, searched):
    # Given a question, when a fragment follows it that matches one of its phrases (a number, a code, a
    # phrase with the same preposition or head noun, a plural)
    result = standalone_question(follow_up, asked(earlier))
    # then the fragment takes that phrase's place instead of being added to the question
    assert result == Standalone(text=searched, drew_on=0)


@pytest.mark.parametrize(
    ("earlier", "follow_up", "searched"),
    [
        ("Can interns get a salary advance?", "how quickly is it paid?", "How quickly is a salary advance paid?"),
        ("How many PTO days do I get per year?", "can I carry them over", "Can I carry PTO days over?"),
        ("What's the spending limit on a P-card?", "who gets one", "Who gets a P-card?"),
        (
            "How much is the internet stipend for hybrid employees?",
            "do they need receipts",
            "Do hybrid employees need receipts?",
        ),
        ("How long is the probation period?", "can they extend it?", "Can they extend the probation period?"),
    ],
)
def test_a_pronoun_stands_for_the_phrase_it_agrees_with(earlier, follow_up, searched):
    # Given a question with a person and a thing in it, or a singular and a plural, when a pronoun follows
    result = standalone_question(follow_up, asked(earlier))
    # then "it" takes the thing asked about, "they" a plural, "one" the latest "a ...", and a "they" with
    # no plural to stand for is left as it is
    assert result == Standalone(text=searched, drew_on=0)


@pytest.mark.parametrize(
    ("earlier", "follow_up", "searched"),
    [
        (
            "When is catered lunch served at the office?",
            "where?",
            "Where is catered lunch served at the office?",
        ),
        ("Is there a sabbatical?", "how long?", "How long is a sabbatical?"),
        (
            "How many days a week do hybrid employees come in?",
            "and office-based staff, how many days a week do they come in?",
            "How many days a week do office-based staff come in?",
        ),
        (
            "What is the daily meal allowance when travelling?",
            "Thanks. And abroad?",
            "Thanks. What is the daily meal allowance when travelling abroad?",
        ),
    ],
)
def test_a_question_word_or_a_topic_set_out_first_is_read_into_the_question(earlier, follow_up, searched):
    # Given a question, when a follow-up is a bare question word, sets out its topic before a pronoun, or
    # follows a sentence of thanks
    result = standalone_question(follow_up, asked(earlier))
    # then the earlier question is asked with the new question word, or the topic takes the pronoun's place
    assert result == Standalone(text=searched, drew_on=0)


def test_a_first_question_has_nothing_to_draw_on():
    # Given no earlier turn, when even an elliptical question is asked, then it is searched as asked
    assert standalone_question("and abroad?", []) == Standalone(text="and abroad?", drew_on=None)


def test_a_chain_of_follow_ups_draws_on_the_latest_searched_question():
    # Given a thread whose second turn was rewritten
    thread = asked("What is the daily meal allowance when travelling?")
    second = standalone_question("and abroad?", thread)
    thread.append(Turn(question="and abroad?", searched_as=second.text))
    # when a third turn points back with a pronoun
    third = standalone_question("does that include alcohol?", thread)
    # then it carries the second turn's searched question, not the first's
    assert third == Standalone(text="Does the daily meal allowance when travelling abroad include alcohol?", drew_on=1)


def test_a_number_replaces_the_number_of_the_latest_turn_in_a_chain():
    thread = asked("Who approves a purchase requisition of 15,000 dollars?")
    thread.append(Turn("and 60,000?", standalone_question("and 60,000?", thread).text))
    result = standalone_question("do I need quotes for that?", thread)
    assert result.text == "Do I need quotes for a purchase requisition of 60,000 dollars?"


def test_a_question_with_no_phrase_to_substitute_is_asked_after_the_one_it_follows():
    # Given a question whose subject cannot be told apart, when a follow-up leans on it
    result = standalone_question("what's the number?", asked("How can I report a concern anonymously?"))
    # then the follow-up is asked after the earlier question, both recognisable
    assert result == Standalone(text="How can I report a concern anonymously — what's the number?", drew_on=0)


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("and abroad?", True),
        ("what about contractors?", True),
        ("same for London?", True),
        ("can it be extended?", True),
        ("where is it?", True),
        ("how fast do I get a new one?", True),
        ("what's the number?", True),
        ("Is there a sabbatical for long-serving employees?", False),  # existential "there" points at nothing
        ("How long does it take to get a badge?", False),  # nor does this "it"
        ("is there a stipend for it?", True),
        ("Do I need a receipt for every expense?", False),
        ("can my manager waive that", True),  # "that" with nothing after it
        ("who gets one", True),  # "one" that counts nothing
        ("how long does it take to show up on their card", True),  # "their" with nothing to agree with
        ("can i keep my passwords in a spreadsheet instead", True),  # instead of what was said
        ("even during an investigation?", True),  # a fragment opened by a focus word
        ("register by when", True),  # a fragment that asks its question word last
        ("what if I leave mid-year?", True),
        ("Where is the IT bar?", False),  # an acronym, not a pronoun
        ("After how many years of service can I take a sabbatical?", False),  # the question word's phrase
        ("In case of fire, where do I go?", False),  # a question of its own after what it sets out
        ("Only managers can approve expense reports?", False),  # a clause asked as a statement
    ],
)
def test_whether_a_question_leans_on_its_thread(question, leans):
    assert leans_on_thread(question) is leans


def test_a_rewrite_takes_well_under_a_millisecond():
    thread = asked("What is the daily meal allowance when travelling abroad?", "does that include alcohol?")
    started = time.perf_counter()
    for _ in range(1000):
        standalone_question("and what about London?", thread)
    assert (time.perf_counter() - started) / 1000 < 0.001


THREAD_WORDS = ["allowance", "meal", "hotel", "refund", "laptop", "policy", "office", "travel", "leave", "budget"]
FOLLOW_UP_WORDS = [
    "abroad", "contractors", "London", "extended", "alcohol", "60,000", "approves", "stolen", "day", "SEV2", "IT",
]  # fmt: skip
FUNCTION_WORDS = [
    "the", "a", "of", "for", "in", "it", "that", "is", "does", "and", "what", "about", "how", "there", "they",
    "one", "ones", "if", "even", "instead", "when",
]  # fmt: skip
questions = st.lists(st.sampled_from(THREAD_WORDS + FUNCTION_WORDS), min_size=1, max_size=10).map(
    lambda words: " ".join(words) + "?"
)
follow_ups = st.lists(st.sampled_from(FOLLOW_UP_WORDS + FUNCTION_WORDS), min_size=1, max_size=8).map(
    lambda words: " ".join(words) + "?"
)


@settings(max_examples=300, deadline=None)
@given(earlier=st.lists(questions, min_size=1, max_size=3), follow_up=follow_ups)
def test_a_rewrite_keeps_the_follow_ups_words_and_adds_only_the_threads(earlier, follow_up):
    # Given any thread, each turn searched as the rewrite made it
    thread: list[Turn] = []
    for question in earlier:
        thread.append(Turn(question, standalone_question(question, thread).text))
    # when a follow-up is rewritten
    result = standalone_question(follow_up, thread)
    # then every content word of the follow-up is still there, and every other one came from the thread
    searched = set(content_words(result.text))
    assert set(content_words(follow_up)) <= searched
    thread_words = {w for turn in thread for w in content_words(turn.question) + content_words(turn.searched_as)}
    assert searched <= set(content_words(follow_up)) | thread_words
    assert result.drew_on in (None, len(thread) - 1)
    if result.drew_on is None:
        assert result.text == follow_up
