"""Typed values are read from quoted sentences by their shape, normalised, and never invented."""

import pytest

from citadel.reading import values
from citadel.reading.values import find_value, find_value_in


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("date", "The policy takes effect on 1 March 2026 and ends on March 31, 2027.", "2026-03-01"),
        ("date", "Signed on 2026-02-30, amended on 2026-02-28.", "2026-02-28"),  # no 30 February
        ("date", "Reviewed in September 2025.", "2025-09"),
        ("date", "Dated 03/04/2026.", "03/04/2026"),  # day and month ambiguous: kept as written
        ("date", "Dated 25/12/2026.", "2026-12-25"),
        ("amount", "Meals are reimbursed up to $75 per day, hotels EUR 1,200.50.", "75 USD"),
        ("amount", "The cap is 2 million euros.", "2000000 EUR"),
        ("amount", "Hotels up to 180 euros per night.", "180 EUR"),
        ("amount", "A fee of £12.5 applies.", "12.50 GBP"),
        ("duration", "Claims are filed within thirty (30) days of travel.", "30 days"),
        ("duration", "A 90-day notice period applies.", "90 days"),
        ("duration", "Book at least two weeks before departure.", "2 weeks"),
        ("duration", "Approval takes one business day.", "1 business day"),
        ("percentage", "Tips of up to 15 percent are reimbursed.", "15%"),
        ("percentage", "A 2.5% surcharge.", "2.5%"),
        ("name", "The Agreement is between Acme Corporation and Globex Inc. as buyer.", "Acme Corporation"),
        ("name", "Approved by the Head of Finance.", "Head of Finance"),
    ],
)
def test_values_are_read_by_their_shape_and_normalised(kind, text, value):
    found = find_value(kind, text)

    assert found is not None and found.value == value
    assert text[found.start : found.end]  # a span of the sentence itself


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("date", "Flights are booked through the agency."),
        ("amount", "Hotels are reimbursed at cost for 3 nights."),
        ("duration", "Economy class is required."),
        ("percentage", "The rate is set every year."),
        ("name", "flights are booked early."),
    ],
)
def test_a_sentence_without_the_value_gives_none(kind, text):
    assert find_value(kind, text) is None


def test_yes_or_no_follows_the_sentence_and_the_question():
    """Given a negative sentence, the answer is no, unless the question asks about the prohibition."""
    assert find_value("yes_no", "Employees may not book first class.", question="Can I book first class?").value == "no"
    assert find_value("yes_no", "Smoking is prohibited on site.", question="Is smoking prohibited?").value == "yes"
    assert find_value("yes_no", "Liability is capped at the fees paid.", question="Is there a cap?").value == "yes"


def test_a_choice_is_one_of_the_choices_when_the_sentence_names_it_alone():
    choices = ["Economy", "Business", "First class"]
    assert find_value("choice", "Flights are booked in economy.", choices=choices).value == "Economy"
    assert find_value("choice", "Economy or business, at the manager's choice.", choices=choices) is None
    assert find_value("choice", "Trains are preferred.", choices=choices) is None


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="Unknown value type"):
        find_value("colour", "Red.")


def test_of_several_values_the_one_in_the_clause_the_question_names_is_given():
    sentence = (
        "Instead of itemised meals, Acme pays a daily allowance: 75 dollars per day for domestic travel "
        "and 100 dollars per day for international travel."
    )
    assert find_value("amount", sentence, question="What is the allowance for international travel?").value == (
        "100 USD"
    )
    assert find_value("amount", sentence, question="What is the domestic allowance?").value == "75 USD"
    assert find_value("amount", sentence, question="What is the allowance?").value == "75 USD"  # a tie: the first


def test_among_quotes_the_value_comes_from_the_one_closest_to_the_question():
    quotes = [
        "Standard class is the default; first class rail is allowed for journeys longer than 3 hours.",
        "Economy class is the standard for all flights with a scheduled flight time under 6 hours.",
    ]

    found = find_value_in(
        "choice",
        quotes,
        choices=["Economy", "Business", "First"],
        question="Which travel class is standard for flights under 6 hours?",
    )

    assert found.value == "Economy" and found.index == 1
    assert find_value_in("amount", quotes, question="How much?") is None


def test_with_the_reader_the_value_comes_from_the_sentence_it_judges_to_answer():
    # Given two sentences holding a duration, the first sharing more of the field's words,
    from citadel.reading.reader import Reading

    passages = [
        "The notice period for renewals is listed in the annex, 90 days. Either party may terminate with 30 days notice."
    ]

    class Scripted:
        def read(self, question, sentences):
            return [Reading(probability=0.9 if "terminate" in s else 0.2, span=None) for s in sentences]

    # when the reader judges the second to answer "termination notice period",
    found = values.extract_field(values.DURATION, "termination notice period", passages, reader=Scripted())

    # then its value is read, with the reader's probability as the confidence.
    assert (found.value, found.confidence) == ("30 days", 0.9)
    assert passages[0][found.start : found.end] == "Either party may terminate with 30 days notice."
