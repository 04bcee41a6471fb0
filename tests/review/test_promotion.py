"""A reviewer turns a reviewed question into a golden question in one click."""

import pytest

from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.evaluation.models import EvalSet, GoldenQuestion
from citadel.review.services import golden_promote
from tests.factories import make_document
from tests.review.helpers import make_answer


def test_promotion_creates_the_golden_question_in_the_default_set(acme):
    item = acme.pending_item()

    golden = golden_promote(principal=acme.principal("rita"), answer_id=item.answer_id, external_ids=["handbook"])

    assert golden.eval_set == EvalSet.objects.get(organization=acme.org, name="Reviewed questions")
    assert golden.question == "How long do refunds take?"
    assert (golden.expected_external_ids, golden.source, golden.from_answer_id) == (
        ["handbook"],
        "review",
        item.answer_id,
    )
    assert AuditEvent.objects.filter(verb="evaluation.golden_promoted", target_id=str(golden.pk)).exists()
    assert item.history.last().action == "promoted"


def test_promoting_again_updates_instead_of_duplicating(acme):
    faq = make_document(acme.org, "faq", ["Refund questions go to support."])
    item = acme.pending_item(documents=[acme.handbook(), faq])
    rita = acme.principal("rita")

    golden_promote(principal=rita, answer_id=item.answer_id, external_ids=["handbook"])
    golden_promote(principal=rita, answer_id=item.answer_id, external_ids=["handbook", "faq"])

    assert GoldenQuestion.objects.get().expected_external_ids == ["handbook", "faq"]


def test_only_retrieved_documents_can_be_expected(acme):
    make_document(acme.org, "unrelated", ["Parking is behind the building."])
    item = acme.pending_item()

    with pytest.raises(InvalidInput):
        golden_promote(principal=acme.principal("rita"), answer_id=item.answer_id, external_ids=["unrelated"])
    with pytest.raises(InvalidInput):
        golden_promote(principal=acme.principal("rita"), answer_id=item.answer_id, external_ids=[])
    assert not GoldenQuestion.objects.exists()


def test_unreviewed_questions_are_not_promoted(acme):
    answer = make_answer(acme.org, acme.asker, status="answered", documents=[acme.handbook()])

    with pytest.raises(InvalidInput):
        golden_promote(principal=acme.principal("rita"), answer_id=answer.pk, external_ids=["handbook"])


def test_members_cannot_promote(acme):
    item = acme.pending_item()

    with pytest.raises(PermissionDenied):
        golden_promote(principal=acme.principal("mo"), answer_id=item.answer_id, external_ids=["handbook"])


def test_the_promote_button_works_from_the_reviewer_page(acme, login):
    item = acme.pending_item()

    response = login(acme.rita).post(
        f"/review/answers/{item.answer_id}/promote/", {"expected": ["handbook"], "next": f"/review/items/{item.pk}/"}
    )

    assert response.status_code == 302 and response.url == f"/review/items/{item.pk}/"
    assert GoldenQuestion.objects.filter(from_answer_id=item.answer_id).exists()
