"""The answerability model: one fitted score from the best sentence's signals."""

import pytest

from citadel.providers.embeddings import MINILM
from citadel.providers.generation import SourcePassage
from citadel.reading import answerability, extractive

MISSING = ("qualifier_missing", "number_missing", "negation_missing", "entity_missing", "type_missing")
BASE = {"evidence": 0.6, "similarity": 0.6, "passage_similarity": 0.5, "margin": 0.05}


def test_the_fitted_model_weighs_every_signal_and_orders_its_thresholds():
    model = answerability.models()[MINILM]
    assert set(model.weights) == set(answerability.SIGNALS)
    assert 0 < model.abstain_below <= model.confident_from < 1
    assert 0.5 <= model.alignment_threshold < 1


@pytest.mark.parametrize("signal", MISSING)
def test_each_part_the_sentence_leaves_unsaid_lowers_the_score(signal):
    # Given the same sentence scores, when coverage finds one more part missing, the score falls.
    model = answerability.models()[MINILM]
    assert model.score({**BASE, signal: 1.0}) < model.score(BASE)


def test_closer_sentences_score_higher():
    model = answerability.models()[MINILM]
    assert model.score({**BASE, "similarity": 0.8}) > model.score(BASE)
    assert model.score({**BASE, "passage_similarity": 0.7}) > model.score(BASE)


@pytest.mark.model
def test_a_changed_qualifier_lowers_the_support_and_the_receipt_signals_say_why(minilm):
    # Given a passage on the modern forms of the Rhine's name, with MiniLM serving the organization,
    text = (
        "The variant forms of the name of the Rhine in modern languages are all derived from the Gaulish name "
        "Rēnos. The river rises in the Alps."
    )
    passages = [SourcePassage(n=1, text=text, title="Rhine", score=1.0, relative_score=1.0, dense_score=0.7)]
    calibration = extractive.calibration_for(MINILM)
    generator = extractive.ExtractiveGenerator(calibration, extractive.aligner_for(calibration))

    asked = "Where are the variant forms of the name of the Rhine in {} languages derived from?"
    _, modern = generator.assess(question=asked.format("modern"), passages=passages)
    _, ancient = generator.assess(question=asked.format("ancient"), passages=passages)

    # when the question asks about ancient languages instead, the support falls and the signal says why.
    assert ancient.support < modern.support
    assert ancient.signals["qualifier_missing"] == 1.0 and modern.signals["qualifier_missing"] == 0.0
