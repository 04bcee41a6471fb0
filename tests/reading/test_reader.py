"""The reader trained here: the committed delta reproduces its reference scores, and on small
hand-made cases it tells an answer from a near-miss and the answerer quotes what answers, whole."""

import json

import pytest

from citadel.providers.generation import SourcePassage
from citadel.reading import extractive
from citadel.reading import reader as reading


def _probability(reader, question: str, sentence: str) -> float:
    return reader.read(question, [sentence])[0].probability


def _answer(reader, question: str, *passages: SourcePassage) -> str:
    generator = extractive.ExtractiveGenerator(extractive.LEXICAL_ONLY, reader=reader)
    generation = generator.generate(question=question, passages=list(passages))
    return "" if generation.abstained else generation.text


def _passage(text: str, *, n: int = 1, section: str = "") -> SourcePassage:
    return SourcePassage(n=n, text=text, title="Handbook", score=1.0, relative_score=1.0, section=section)


@pytest.mark.model
def test_the_committed_delta_reproduces_its_reference_scores():
    # Given the scores the training script computed with the trained weights, when the product
    # merges the committed delta into its float ONNX graph, then it scores the same pairs alike: a
    # broken export or merge fails here.
    references = json.loads((reading.MODEL_DIR / "reference.json").read_text(encoding="utf-8"))
    reader = reading.Reader(quantized=False)

    for reference in references:
        logits, _, _ = reader.logits(reference["question"], [reference["sentence"]])
        assert abs(float(logits[0]) - reference["logit"]) < 1e-3, reference


@pytest.mark.model
def test_it_reads_at_most_the_top_candidates_in_one_call(reader):
    with pytest.raises(ValueError, match="at most"):
        reader.read("Who approves?", ["A sentence that says little."] * (reading.MAX_CANDIDATES + 1))


@pytest.mark.model
def test_a_changed_qualifier_reads_as_less_of_an_answer(reader):
    question = "What was the first product Acme launched?"

    right = _probability(reader, question, "The first product Acme launched was the Comet radio in 1998.")
    changed = _probability(reader, question, "The last product Acme launched was the Orbit phone in 2019.")

    assert right > changed


@pytest.mark.model
def test_a_swapped_role_reads_as_less_of_an_answer(reader):
    question = "Who approves expense reports?"

    right = _probability(reader, question, "Line managers approve expense reports within five working days.")
    swapped = _probability(reader, question, "Employees submit expense reports in Ledgerline within 30 days.")

    assert right > swapped


@pytest.mark.model
def test_a_wrong_count_reads_as_less_of_an_answer(reader):
    question = "How many days of paid leave do employees with ten years of service receive?"

    right = _probability(reader, question, "Employees with ten or more years of service receive 25 days of paid leave.")
    wrong = _probability(reader, question, "Employees with less than 5 years of service receive 20 days of paid leave.")

    assert right > wrong


@pytest.mark.model
def test_the_answer_words_are_marked_in_the_sentence(reader):
    sentence = "Either party may terminate this agreement with 30 days written notice."

    [reading_] = reader.read("What is the termination notice period?", [sentence])

    assert reading_.span is not None
    assert "30 days" in sentence[reading_.span[0] : reading_.span[1]]


@pytest.mark.model
def test_a_question_the_passage_does_not_answer_is_declined(reader):
    passage = _passage("Hotels are reimbursed up to a nightly cap of 250 dollars. Economy flights are paid by Acme.")

    assert _answer(reader, "Who is the chief executive of Acme?", passage) == ""


class ScriptedReader:
    """A stand-in for the model: each sentence's probability is given (the model call is what is
    faked; choosing and quoting are the product's)."""

    version = "scripted"

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.probabilities = probabilities
        self.read_sentences: list[str] = []

    def read(self, question: str, sentences: list[str]) -> list[reading.Reading]:
        self.read_sentences.extend(sentences)
        return [reading.Reading(probability=self.probabilities.get(s, 0.01), span=None) for s in sentences]


BIRTH = "The birthing parent receives 20 weeks of fully paid parental leave."
OTHER = "Other parents receive 12 weeks of fully paid parental leave."
LOSS = "Employees who experience a pregnancy loss receive two weeks of paid bereavement leave."


def test_an_answer_in_two_sentences_is_quoted_whole_and_in_the_documents_order():
    # Given the reader judging both parents' sentences to answer, the other parents' a little more,
    # and the pregnancy-loss sentence not to,
    policy = reading.policy()
    scripted = ScriptedReader({OTHER: 0.97, BIRTH: max(0.9, policy.include_from), LOSS: policy.include_from / 2})

    answer = _answer(scripted, "How many weeks of parental leave do parents get?", _passage(f"{BIRTH} {OTHER} {LOSS}"))

    # then both are quoted, each with its marker, in the document's order, and the third is not.
    assert answer == f"{BIRTH} [1] {OTHER} [1]"


def test_a_heading_is_never_read_or_quoted():
    heading = "My laptop was lost or stolen. What do I do?"
    body = "Report it immediately by calling the service desk on extension 4357."
    scripted = ScriptedReader({"My laptop was lost or stolen.": 0.99, body: 0.95})

    answer = _answer(
        scripted, "What should I do if my laptop is stolen?", _passage(f"{heading}\n{body}", section=heading)
    )

    assert answer == f"{body} [1]"
    assert scripted.read_sentences == [body]


def test_a_sentence_broken_across_lines_is_read_and_quoted_whole():
    # Given a sentence an image's text breaks at the line end, before a capitalised name,
    whole = "The quarterly planning retrospective takes place In Room 4B on the first Friday of each quarter."
    scripted = ScriptedReader({whole: 0.95})
    passage = _passage(
        "The quarterly planning retrospective takes place\nIn Room 4B on the first Friday of each quarter."
    )

    answer = _answer(scripted, "Where does the quarterly planning retrospective take place?", passage)

    # then the reader reads it whole and the quote runs to the sentence's end.
    assert answer == f"{whole} [1]"


def test_the_receipt_details_name_the_model_and_each_candidates_probability():
    scripted = ScriptedReader({OTHER: 0.97})

    generation = extractive.ExtractiveGenerator(reader=scripted).generate(
        question="How many weeks of leave do other parents get?", passages=[_passage(f"{BIRTH} {OTHER}")]
    )

    read = generation.details["reader"]
    assert read["model"] == "scripted"
    assert [(r["probability"], r["quoted"]) for r in read["read"]] == [(0.97, True), (0.01, False)]
