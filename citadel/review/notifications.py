"""Telling people about review. Each function takes an item id and reads the committed state.

The asker hears of a decision, and reviewers and admins of an item that waits for them, under the
bell and by e-mail when they want it (citadel.notifications sends that e-mail through Django's mail
backend). People without an e-mail address get no e-mail: the review page is still the source of
truth."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from citadel.accounts.models import Membership
from citadel.answers.models import QuestionOrigin
from citadel.core.principal import Role
from citadel.core.states import state_of
from citadel.notifications.models import NotificationKind
from citadel.notifications.services import absolute_url, notification_send
from citadel.review.models import ReviewItem, ReviewState


def _item(item_id: int) -> ReviewItem | None:
    return (
        ReviewItem.objects.select_related("answer__question__asker", "assigned_to", "decided_by", "organization")
        .filter(pk=item_id)
        .first()
    )


def notify_decision(*, item_id: int) -> int:
    """Tell the asker their answer was published or rejected (and why), once per item however
    often the task runs: each asker of a joined question has an item of their own. Returns how
    many people were told."""
    item = _item(item_id)
    if item is None or item.state not in (ReviewState.APPROVED, ReviewState.REJECTED):
        return 0
    question = item.answer.question
    if question.origin == QuestionOrigin.REPORT:
        # A report's runner is told once, when the last item's decision publishes it (citadel.jobs).
        return 0
    approved = item.state == ReviewState.APPROVED
    path = reverse("answers:detail", args=[item.answer_id])
    context = {"item": item, "question": question, "approved": approved, "url": absolute_url(path)}
    told = notification_send(
        recipient_id=question.asker_id,
        organization_id=item.organization_id,
        kind=NotificationKind.ANSWER_APPROVED if approved else NotificationKind.ANSWER_REJECTED,
        title=f"Answer to “{Truncator(question.text).chars(120)}”: {state_of('review', item.state).label.lower()}",
        url=path,
        key=f"review_item:{item.pk}",
        email_subject=f"[Citadel] Your answer was {'approved' if approved else 'rejected'}",
        email_body=render_to_string("review/email/decision.txt", context),
    )
    return int(told is not None)


def notify_escalation(*, item_id: int) -> int:
    """Alert whoever the item was escalated to: the assigned reviewer, else every admin (under
    the bell, and by e-mail for those who want it). Returns how many people were told."""
    item = _item(item_id)
    if item is None or item.state != ReviewState.ESCALATED:
        return 0
    if item.assigned_to is not None:
        recipients = [item.assigned_to_id]
    else:
        recipients = list(
            Membership.objects.filter(organization_id=item.organization_id, role=Role.ADMIN, user__is_active=True)
            .exclude(user_id=item.answer.question.asker_id)
            .values_list("user_id", flat=True)
        )
    escalation = item.history.filter(action="escalated").select_related("actor").last()
    context = {"item": item, "question": item.answer.question, "escalation": escalation, "url": _item_url(item)}
    body = render_to_string("review/email/escalated.txt", context)
    return _tell(
        item,
        recipients,
        kind=NotificationKind.REVIEW_ESCALATED,
        title=f"Escalated to you: “{Truncator(item.answer.question.text).chars(120)}”",
        key=f"review_escalated:{item.pk}:{escalation.pk if escalation else ''}",
        email_subject="[Citadel] A review was escalated to you",
        email_body=body,
    )


def notify_assigned(*, item_id: int) -> int:
    """Tell the reviewer the gate picked that an answer waits for them."""
    item = _item(item_id)
    if item is None or not item.is_open or item.assigned_to is None:
        return 0
    context = {"item": item, "question": item.answer.question, "url": _item_url(item)}
    return _tell(
        item,
        [item.assigned_to_id],
        kind=NotificationKind.REVIEW_ASSIGNED,
        title=f"Waits for your review: “{Truncator(item.answer.question.text).chars(120)}”",
        key=f"review_assigned:{item.pk}:{item.assigned_to_id}",
        email_subject="[Citadel] An answer waits for your review",
        email_body=render_to_string("review/email/assigned.txt", context),
    )


def _tell(item: ReviewItem, recipients: list[int], **notification) -> int:
    path = reverse("review:item", args=[item.pk])
    return sum(
        notification_send(recipient_id=user_id, organization_id=item.organization_id, url=path, **notification)
        is not None
        for user_id in dict.fromkeys(recipients)
    )


def _item_url(item: ReviewItem) -> str:
    return absolute_url(reverse("review:item", args=[item.pk]))
