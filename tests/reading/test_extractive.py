"""The extractive generator: which calibration applies, and answers across vocabulary gaps."""

import re

import pytest

from citadel.providers.embeddings import MINILM, get_embedder
from citadel.providers.generation import SourcePassage
from citadel.reading import extractive

LEAVE = (
    "Acme Corporation gives full-time employees paid time off to rest, travel and take care of personal "
    "matters. Employees with less than 5 years of service receive 20 days of PTO per calendar year. "
    "Unused sick leave does not carry over."
)
EXPENSES = "Hotels are reimbursed up to a nightly cap of 250 dollars. Acme Corporation pays for economy flights."


def _passages() -> list[SourcePassage]:
    return [
        SourcePassage(n=1, text=LEAVE, title="Paid leave", score=1.0, relative_score=1.0, dense_score=0.45),
        SourcePassage(n=2, text=EXPENSES, title="Travel", score=0.9, relative_score=0.9, dense_score=0.2),
    ]


def test_a_name_served_by_another_embedder_gets_lexical_coverage_alone():
    # Given the tests' fake embedder standing in for MiniLM, when the calibration is looked up,
    # then the MiniLM weights (fitted to MiniLM's cosines) do not apply.
    assert extractive.calibration_for(MINILM) is extractive.LEXICAL_ONLY
    assert extractive.calibration_for("text-embedding-3-small") is extractive.LEXICAL_ONLY


@pytest.mark.model
def test_vacation_is_answered_from_a_pto_sentence_with_minilm(minilm):
    # Given a passage that says "PTO" where the asker says "vacation", when MiniLM serves the org,
    calibration = extractive.calibration_for(MINILM)
    assert calibration.sentence_weight > 0

    generation = extractive.ExtractiveGenerator(calibration).generate(
        question="How many days of paid vacation do employees get?", passages=_passages()
    )

    # then the PTO sentence is quoted first, verbatim, and nothing else is written.
    assert not generation.abstained
    assert generation.text.startswith(
        "Employees with less than 5 years of service receive 20 days of PTO per calendar year. [1]"
    )
    quoted = [part for part in re.split(r"\s*\[\d+\]\s*", generation.text) if part]
    assert quoted and all(part in LEAVE or part in EXPENSES for part in quoted)


@pytest.mark.model
def test_a_question_about_something_never_mentioned_abstains_with_minilm(minilm):
    # Given passages that share only the company's name with the question, when MiniLM serves the org,
    generation = extractive.ExtractiveGenerator(extractive.calibration_for(MINILM)).generate(
        question="Who is the CEO of Acme Corporation?", passages=_passages()
    )

    # then it abstains rather than quote unrelated policy.
    assert generation.abstained
    assert generation.text == ""


@pytest.mark.model
def test_the_local_model_uses_the_configured_number_of_threads(minilm, settings):
    # Given CITADEL["EMBED_THREADS"] = 1 (processes, not threads, are the unit of parallelism),
    # when the local model is loaded, then it computes on one thread in this process.
    settings.CITADEL = {**settings.CITADEL, "EMBED_THREADS": 1}

    embedder = get_embedder(MINILM)
    embedder.embed(["Employees receive 20 days of PTO."])

    assert embedder.threads == 1


def test_a_question_and_a_heading_of_the_section_are_never_candidates():
    # Given an FAQ passage whose first line is its section's heading, a statement and a question,
    heading = "My laptop was lost or stolen. What do I do?"
    passage = SourcePassage(
        n=1,
        text=f"{heading}\nReport a stolen laptop by calling the service desk on extension 4357.",
        title="IT FAQ",
        score=1.0,
        relative_score=1.0,
        section=heading,
    )

    # when the sentences are scored for a question about the stolen laptop,
    scored = extractive.score_sentences("What should I do if my laptop is stolen?", [passage])

    # then only the sentence that says what to do is a candidate.
    assert [s.text for s in scored] == ["Report a stolen laptop by calling the service desk on extension 4357."]


def test_without_the_reader_the_answer_is_the_best_sentences_by_evidence():
    generation = extractive.ExtractiveGenerator().generate(
        question="What is the nightly cap for hotels?", passages=_passages()
    )

    assert generation.text.startswith("Hotels are reimbursed up to a nightly cap of 250 dollars. [2]")
    assert "reader" not in generation.details
