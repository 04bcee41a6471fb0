"""Coverage: which parts of a question a quoted sentence says, and the type of value asked for."""

import pytest

from citadel.providers.embeddings import MINILM, get_embedder
from citadel.reading import coverage

RHINE = (
    "The variant forms of the name of the Rhine in modern languages are all derived from the Gaulish name "
    "Rēnos, which was adapted in Roman-era geography as Rhenus."
)
LEAVE = "Employees get 20 weeks of paid parental leave. They may also take up to 10 keeping-in-touch days."
HOTELS = "Hotels are reimbursed up to a nightly cap of 250 dollars."


def missing(question: str, sentence: str, passage: str | None = None, aligner=None) -> list[str]:
    return [p.text for p in coverage.uncovered(question, [sentence], [passage or sentence], aligner)]


def test_a_changed_qualifier_is_reported():
    # Given a sentence about modern languages, when the question asks about ancient ones,
    # then "ancient" is what the sources do not say.
    question = "Where are the variant forms of the name of the Rhine in ancient languages derived from?"
    assert missing(question, RHINE) == ["ancient"]
    # and the question the sentence does answer leaves nothing uncovered.
    assert missing(question.replace("ancient", "modern"), RHINE) == []


def test_a_swapped_role_is_reported():
    # Given a rule stated for employees, when it is asked for contractors, then the role is missing.
    assert missing("How many weeks of parental leave do contractors get?", LEAVE) == ["contractors"]
    assert missing("How many weeks of parental leave do employees get?", LEAVE) == []


def test_a_wrong_count_is_reported():
    # Given a cap of 250 dollars, when the question names 300, then the number is missing.
    assert missing("Is a hotel night of 300 dollars reimbursed?", HOTELS) == ["300"]
    assert missing("Is a hotel night of 250 dollars reimbursed?", HOTELS) == []
    # Thousands separators, percentages and decades are the same numbers written otherwise.
    assert missing("Who approves refunds over 5,000 dollars?", "Refunds above 5000 dollars need the CFO.") == []
    assert missing("What changed in the 1970s?", "In the 1970s the river was cleaned.") == []


def test_a_negation_the_sentence_does_not_make_is_reported():
    assert missing("Which hotels are not reimbursed?", HOTELS) == ["not"]


def test_a_foreign_topic_leaves_its_named_things_uncovered():
    # Given leave policy, when the question is about the CEO, then the named thing is missing.
    assert missing("Who is the CEO of the company?", LEAVE) == ["CEO"]


def test_other_words_are_not_reported_because_answers_paraphrase_them():
    # "vacation" for "parental leave", "receive" for "get": the similarity scores weigh those.
    assert missing("How many weeks of vacation do employees receive?", LEAVE) == []


def test_a_named_thing_the_passage_names_counts_as_said_by_its_sentence():
    passage = "The Rhine rises in the Alps. The river is 1,230 km long."
    assert missing("How long is the Rhine?", "The river is 1,230 km long.", passage) == []
    assert missing("How long is the Danube?", "The river is 1,230 km long.", passage) == ["Danube"]


def test_hyphenated_words_and_one_are_not_counts():
    parts = coverage.question_parts("Can I use a two-factor code one way or another?")
    assert [p.kind for p in parts if p.kind == "number"] == []


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When are self-assessments due?", coverage.DATE),
        ("In what year was the bridge built?", coverage.DATE),
        ("What year was the bridge built?", coverage.DATE),
        ("How many days of parental leave do employees get?", coverage.COUNT),
        ("How much does the company pay for hotels?", coverage.QUANTITY),
        ("Who approves refunds?", coverage.PERSON),
        ("Where is the assembly point?", coverage.PLACE),
        ("Which form do I fill in?", None),
    ],
)
def test_the_asked_for_type(question, kind):
    assert coverage.asked_type(question) == kind


def test_how_many_days_prefers_the_sentence_with_the_count():
    asked = coverage.AskedFor.of("How many days of parental leave do employees get?")
    assert not asked.held_by("Keeping-in-touch days may be taken during parental leave.")
    assert asked.held_by("Employees get 20 weeks of paid parental leave.")
    # A share is no count, and a number the question states itself is not an answer to it.
    assert not coverage.AskedFor.of("How many employees does Acme have?").held_by("Acme pays 90 percent for employees.")
    assert not coverage.AskedFor.of("How many employees take 20 weeks of leave?").held_by("Leave of 20 weeks is long.")


def test_who_and_when_need_a_person_or_a_date():
    who = coverage.AskedFor.of("Who approves refunds?")
    assert who.held_by("Refunds are approved by your manager.")
    assert not who.held_by("Refunds are paid within 14 days.")
    when = coverage.AskedFor.of("When did the bridge open?")
    assert when.held_by("The bridge opened in 1932.")
    assert not when.held_by("The bridge is made of steel.")
    assert coverage.AskedFor.of("Which form do I fill in?").held_by("Anything at all.")


@pytest.mark.model
def test_token_alignment_counts_a_synonym_but_not_an_antonym(minilm):
    # Given MiniLM's contextual token vectors and the fitted threshold,
    aligner = coverage.TokenAligner.for_embedder(get_embedder(MINILM), 0.75)
    sentence = "Cologne is the largest city on the Rhine."
    # when the question says "biggest", the sentence's "largest" says it;
    assert missing("What is the biggest city on the Rhine?", sentence, aligner=aligner) == []
    # when it says "smallest", nothing in the sentence does.
    assert missing("What is the smallest city on the Rhine?", sentence, aligner=aligner) == ["smallest"]
