import math

import pytest

from citadel.evaluation.metrics import mean, ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank

# Retrieval returned chunks of documents a, b, a, c, d (a twice); b and d are relevant.
RANKED = ["a", "b", "a", "c", "d"]
RELEVANT = {"b", "d"}


def test_recall_counts_relevant_documents_in_the_first_k_distinct_documents():
    assert recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert recall_at_k(RANKED, RELEVANT, 2) == 0.5
    assert recall_at_k(RANKED, RELEVANT, 3) == 0.5  # a, b, c
    assert recall_at_k(RANKED, RELEVANT, 4) == 1.0  # a, b, c, d


def test_precision_divides_by_k():
    assert precision_at_k(RANKED, RELEVANT, 2) == 0.5
    assert precision_at_k(RANKED, RELEVANT, 4) == 0.5
    assert precision_at_k(RANKED, RELEVANT, 10) == 0.2


def test_reciprocal_rank_is_one_over_the_first_relevant_document():
    assert reciprocal_rank(RANKED, RELEVANT) == 0.5
    assert reciprocal_rank(RANKED, {"d"}) == 1 / 4
    assert reciprocal_rank(RANKED, {"d"}, 3) == 0.0
    assert reciprocal_rank(RANKED, {"z"}) == 0.0


def test_ndcg_by_hand():
    # distinct ranking a, b, c, d: gains at positions 2 and 4; ideal has them at 1 and 2
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["b", "d"], RELEVANT, 10) == pytest.approx(1.0)
    # at k=1 the ideal holds one relevant document only
    assert ndcg_at_k(["b"], RELEVANT, 1) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {"z"}, 10) == 0.0


def test_questions_without_relevant_documents_are_not_judged():
    assert recall_at_k(RANKED, [], 5) is None
    assert reciprocal_rank(RANKED, []) is None
    assert ndcg_at_k(RANKED, [], 5) is None
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        recall_at_k(RANKED, RELEVANT, 0)
