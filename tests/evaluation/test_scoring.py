"""Judging and metrics on hand-computed cases, and the answer classification on crafted ones."""

import math
from types import SimpleNamespace

import pytest

from citadel.evaluation.models import Classification
from citadel.evaluation.scoring import classify_answer, judge, question_metrics, run_metrics


def hit(external_id: str, text: str = "", chunk_id: int = 0):
    return SimpleNamespace(external_id=external_id, text=text, chunk_id=chunk_id)


def test_hits_collapse_to_documents_at_their_first_rank():
    judged = judge([hit("a"), hit("b"), hit("a"), hit("c")], expected_ids=["c", "z"])

    assert judged.ranked == ["a", "b", "c"]
    assert judged.relevant == {"c", "z"}


def test_metrics_of_one_question_match_the_hand_computation():
    # Ranked documents a, X, b, c with a and X relevant (k=3): X is at rank 2, "z" never appears.
    judged = judge([hit("a"), hit("x"), hit("b"), hit("c")], expected_ids=["x", "z"])

    m = question_metrics(judged, k=3)

    assert m["recall@k"] == pytest.approx(1 / 2)
    assert m["precision@k"] == pytest.approx(1 / 3)
    assert m["rr"] == pytest.approx(1 / 2)
    # DCG = 1/log2(3); ideal DCG with two relevant = 1 + 1/log2(3).
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["first_relevant_rank"] == 2


def test_a_relevant_document_below_k_counts_for_ndcg_at_10_but_not_recall_at_k():
    judged = judge([hit("a"), hit("b"), hit("c")], expected_ids=["c"])

    m = question_metrics(judged, k=2)

    assert m["recall@k"] == 0
    assert m["rr"] == 0
    assert m["first_relevant_rank"] is None
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(4))


def test_passage_judging_matches_snippets_ignoring_case_and_spacing():
    hits = [
        hit("doc", "Refunds are paid  within\n14 DAYS of the return.", 1),
        hit("doc", "Shipping is free.", 2),
        hit("doc", "Again: refunds are paid within 14 days.", 3),
    ]

    judged = judge(hits, expected_ids=["doc"], expected_passages=["paid within 14 days"])

    # The document is the same for all three, but only one passage is expected; the repeat
    # of the snippet collapses like a repeated document.
    assert judged.ranked == ["passage:0", "chunk:2"]
    assert question_metrics(judged, k=1)["recall@k"] == 1


def _judged(retrieved: list[str], cited: list[str], expected: list[str]):
    return (
        judge([hit(e) for e in retrieved], expected_ids=expected),
        judge([hit(e) for e in cited], expected_ids=expected),
    )


@pytest.mark.parametrize(
    ("retrieved", "cited", "abstained", "expected_class"),
    [
        # No expected source reached the generator: retrieval's fault, whatever was cited.
        (["other", "noise"], ["other"], False, Classification.RETRIEVAL_MISS),
        ([], [], True, Classification.RETRIEVAL_MISS),
        # Retrieved but the answer cited another document.
        (["other", "policy"], ["other"], False, Classification.GENERATION_MISS),
        # Retrieved, then the generator abstained.
        (["policy"], [], True, Classification.GENERATION_MISS),
        # Retrieved and cited, yet flagged as abstained: still a generation miss.
        (["policy"], ["policy"], True, Classification.GENERATION_MISS),
        (["other", "policy"], ["policy"], False, Classification.CORRECT),
    ],
)
def test_answer_classification(retrieved, cited, abstained, expected_class):
    judged_retrieved, judged_cited = _judged(retrieved, cited, ["policy"])

    assert (
        classify_answer(judged_retrieved=judged_retrieved, judged_cited=judged_cited, abstained=abstained)
        == expected_class
    )


def test_run_metrics_are_means_and_count_classifications():
    rows = [
        {"recall@k": 1.0, "precision@k": 0.1, "rr": 1.0, "ndcg@10": 1.0, "abstained": False},
        {"recall@k": 0.0, "precision@k": 0.0, "rr": 0.0, "ndcg@10": 0.0, "abstained": True},
        {"recall@k": 0.5, "precision@k": 0.2, "rr": 0.5, "ndcg@10": 0.5, "abstained": False},
    ]
    classes = [Classification.CORRECT, Classification.RETRIEVAL_MISS, Classification.GENERATION_MISS]

    summary = run_metrics(rows, k=10, classifications=classes)

    assert summary["questions"] == 3
    assert summary["recall@k"] == 0.5
    assert summary["precision@k"] == 0.1
    assert summary["mrr"] == 0.5
    assert summary["abstention_rate"] == pytest.approx(0.3333)
    assert (summary["correct"], summary["generation_miss"], summary["retrieval_miss"]) == (1, 1, 1)
    assert summary["correct_rate"] == pytest.approx(0.3333)
    assert "correct" not in run_metrics(rows, k=10)


@pytest.mark.parametrize(
    ("abstained", "expected_class"), [(True, Classification.CORRECT), (False, Classification.GENERATION_MISS)]
)
def test_an_unanswerable_question_is_correct_only_when_the_answer_abstains(abstained, expected_class):
    judged_retrieved, judged_cited = _judged(["policy"], ["policy"], [])

    assert (
        classify_answer(judged_retrieved=judged_retrieved, judged_cited=judged_cited, abstained=abstained)
        == expected_class
    )


def test_unanswerable_questions_stay_out_of_rank_means_but_count_for_abstention():
    answerable = question_metrics(judge([hit("a")], expected_ids=["a"]), k=10)
    unanswerable = question_metrics(judge([hit("a")], expected_ids=[]), k=10)

    summary = run_metrics([{**answerable, "abstained": False}, {**unanswerable, "abstained": True}], k=10)

    assert unanswerable["recall@k"] is None and unanswerable["precision@k"] is None
    assert summary["recall@k"] == 1.0
    assert summary["precision@k"] == 0.1
    assert summary["abstention_rate"] == 0.5
    assert summary["unanswerable"] == 1
