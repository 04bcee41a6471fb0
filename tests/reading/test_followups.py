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
    ],
)
def test_a_question_that_stands_on_its_own_is_searched_exactly_as_asked(question):
    # Given a thread about something else, when a full new question is asked
    result = standalone_question(question, asked("What is the daily meal allowance when travelling?"))
    # then it is left untouched and draws on no turn
    assert result == Standalone(text=question, drew_on=None)


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
FOLLOW_UP_WORDS = ["abroad", "contractors", "London", "extended", "alcohol", "60,000", "approves", "stolen", "day"]
FUNCTION_WORDS = ["the", "a", "of", "for", "in", "it", "that", "is", "does", "and", "what", "about", "how", "there"]
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
