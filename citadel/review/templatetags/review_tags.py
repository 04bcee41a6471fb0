"""Tags for the partials other apps include (answer pages): they fetch what the partials need so
an includer only passes `answer`."""

from django import template

from citadel.answers.models import FeedbackReason
from citadel.review.selectors import review_status_for_answer

register = template.Library()


@register.simple_tag
def feedback_reasons() -> list[tuple[str, str]]:
    return list(FeedbackReason.choices)


@register.simple_tag
def review_status(answer) -> dict:
    return review_status_for_answer(answer)
