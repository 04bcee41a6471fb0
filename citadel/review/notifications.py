"""Telling people about review. Each function takes an item id and reads the committed state.

The asker hears of a decision under the bell, and by e-mail when they want it
(citadel.notifications, which sends that e-mail); reviewers and admins are e-mailed through
Django's mail backend (console unless configured) when an item waits for them. People without an
e-mail address get no e-mail: the review page is still the source of truth."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from citadel.accounts.models import Membership
from citadel.answers.models import QuestionOrigin
from citadel.core.principal import Role
from citadel.core.states import state_of
from citadel.notifications.models import NotificationKind
from citadel.notifications.services import notification_send
from citadel.review.models import ReviewItem, ReviewState


def _absolute(path: str) -> str:
    return settings.CITADEL["SITE_URL"].rstrip("/") + path


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> int:
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return 0
    body = render_to_string(template, context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


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
    context = {"item": item, "question": question, "approved": approved, "url": _absolute(path)}
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
    """Alert whoever the item was escalated to: the assigned reviewer, else every admin."""
    item = _item(item_id)
    if item is None or item.state != ReviewState.ESCALATED:
        return 0
    if item.assigned_to is not None:
        recipients = [item.assigned_to.email]
    else:
        recipients = list(
            Membership.objects.filter(organization_id=item.organization_id, role=Role.ADMIN, user__is_active=True)
            .exclude(user_id=item.answer.question.asker_id)
            .values_list("user__email", flat=True)
        )
    escalation = item.history.filter(action="escalated").select_related("actor").last()
    context = {"item": item, "question": item.answer.question, "escalation": escalation, "url": _item_url(item)}
    return _send("[Citadel] A review was escalated to you", "review/email/escalated.txt", context, recipients)


def notify_assigned(*, item_id: int) -> int:
    """Tell the reviewer the gate picked that an answer waits for them."""
    item = _item(item_id)
    if item is None or not item.is_open or item.assigned_to is None:
        return 0
    context = {"item": item, "question": item.answer.question, "url": _item_url(item)}
    return _send(
        "[Citadel] An answer waits for your review", "review/email/assigned.txt", context, [item.assigned_to.email]
    )


def _item_url(item: ReviewItem) -> str:
    return _absolute(reverse("review:item", args=[item.pk]))
