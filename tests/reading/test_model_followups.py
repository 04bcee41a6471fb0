"""A model's rewrite of a follow-up is searched only when it keeps the follow-up's own words and
adds only words of the thread's questions."""

import pytest

from citadel.reading.followups import Standalone, Turn
from citadel.reading.model_followups import parse_rewrite, rewrite_checked, rewrite_prompt

MEALS = Turn(
    question="What is the daily meal allowance when travelling?",
    searched_as="What is the daily meal allowance when travelling?",
)
HOTEL = Turn(question="What's the hotel cap per night?", searched_as="What's the hotel cap per night?")


def test_the_prompt_holds_the_threads_questions_as_searched_and_the_follow_up_only():
    system, user = rewrite_prompt("and abroad?", [HOTEL, MEALS])

    assert "only" in system.lower() and "not instructions" in system
    assert user.index(HOTEL.searched_as) < user.index(MEALS.searched_as) < user.index("Last question: and abroad?")


@pytest.mark.parametrize(
    ("reply", "question"),
    [
        (
            "What is the daily meal allowance when travelling abroad?",
            "What is the daily meal allowance when travelling abroad?",
        ),
        ('Rewritten question: "What is the allowance abroad?"', "What is the allowance abroad?"),
        (
            "**Standalone question:** What is the allowance abroad?\nI added the subject.",
            "What is the allowance abroad?",
        ),
        ("\n\n  What   is the allowance abroad?  ", "What is the allowance abroad?"),
        ("", ""),
        ("x" * 601, ""),
    ],
)
def test_a_reply_is_read_as_its_first_line_without_preface_or_quotes(reply, question):
    assert parse_rewrite(reply) == question


def test_a_rewrite_that_adds_the_threads_subject_is_searched_and_draws_on_that_turn():
    checked = rewrite_checked("and abroad?", "What is the daily meal allowance when travelling abroad?", [MEALS, HOTEL])

    assert checked == Standalone(text="What is the daily meal allowance when travelling abroad?", drew_on=0)


def test_a_rewrite_may_inflect_a_word_it_keeps():
    assert rewrite_checked("what about contractors?", "What is the hotel cap per night for a contractor?", [HOTEL])


@pytest.mark.parametrize(
    "rewrite",
    [
        "What is the daily meal allowance when travelling?",  # drops "abroad", the point of the follow-up
        "What is the daily meal allowance when travelling abroad in Japan?",  # "Japan" is the model's own
        "What is the daily meal allowance of 90 euros abroad?",  # a number nobody asked about
        "",
    ],
)
def test_a_rewrite_that_drops_the_follow_ups_words_or_adds_its_own_is_refused(rewrite):
    assert rewrite_checked("and abroad?", rewrite, [MEALS]) is None


def test_a_question_returned_as_asked_stands_on_its_own():
    question = "How long do refunds take?"

    assert rewrite_checked(question, "How long do refunds take", [MEALS]) == Standalone(text=question, drew_on=None)
