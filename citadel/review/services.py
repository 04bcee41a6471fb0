from django.db import transaction

from citadel.accounts.models import ReviewPolicy
from citadel.answers.models import Answer
from citadel.audit.services import audit_record
from citadel.review.models import ReviewItem, ReviewState


@transaction.atomic
def review_gate(*, answer: Answer) -> ReviewItem | None:
    """Apply the organization's review policy to a freshly generated answer.

    Returns the pending ReviewItem when the answer must wait for a human (the caller then shows
    the asker "waiting for review"), or None when it may be published now. `answer.flags` holds
    the signals the answer builder computed (abstained, unsupported_sentences, low_scores,
    sensitive_document, watch_word ...)."""
    policy = answer.organization.review_policy
    if policy == ReviewPolicy.NONE:
        return None
    if policy == ReviewPolicy.FLAGGED and not answer.flags:
        return None
    item = ReviewItem.objects.create(
        organization_id=answer.organization_id,
        answer=answer,
        state=ReviewState.PENDING,
        reason="policy_all" if policy == ReviewPolicy.ALL else "flagged",
        flags=list(answer.flags),
    )
    audit_record(
        verb="review.opened",
        organization=answer.organization_id,
        actor=None,
        target=item,
        metadata={"answer_id": answer.pk, "reason": item.reason, "flags": item.flags},
    )
    return item
