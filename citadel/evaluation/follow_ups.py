"""What a golden follow-up is searched as: its earlier turns rewritten one after another, as a
thread rewrites them when a member asks them, then the follow-up after them
(citadel.answers.followups, the same rewrite members get)."""

from collections.abc import Sequence

from citadel.accounts.models import Organization
from citadel.answers.followups import follow_up_searched_as
from citadel.core.principal import Principal
from citadel.reading.followups import Turn


def golden_searched_as(*, principal: Principal, question: str, earlier_turns: Sequence[str]) -> str:
    """The standalone question to search; `question` itself when it has no earlier turns or stands
    on its own."""
    if not earlier_turns:
        return question
    organization = Organization.objects.get(pk=principal.organization_id)
    history: list[Turn] = []
    for text in [*earlier_turns, question]:
        made = follow_up_searched_as(
            organization=organization, user_id=principal.user_id, question=text, history=history, feature="evaluation"
        )
        history.append(Turn(question=text, searched_as=made.text))
    return history[-1].searched_as
