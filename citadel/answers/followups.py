"""What a follow-up is searched as. With a language model configured, the model rewrites it and
the rewrite is searched when it passes the check (citadel.reading.model_followups); otherwise, on a
refused rewrite, a failed call, and always offline, the offline rewrite (citadel.reading.followups)
is. Asking and evaluation runs both come here, so a run measures what members get."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.answers.model_calls import model_call_record
from citadel.providers.chat import ChatGenerator
from citadel.providers.generation import EXTRACTIVE, ProviderError
from citadel.reading.followups import Turn, standalone_question
from citadel.reading.model_followups import parse_rewrite, rewrite_checked, rewrite_prompt
from citadel.reading.registry import get_generator

OFFLINE = "offline"
MODEL = "model"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """`text` to search and the index of the turn it drew on (None: the question stands on its own
    and `text` is the question as asked); `rewritten_by` says which rewrite made it ("" when
    nothing was rewritten) and `model_refused` that a model's rewrite failed the check."""

    text: str
    drew_on: int | None
    rewritten_by: str = ""
    model_refused: bool = False


def _rewriter(organization: Organization) -> ChatGenerator | None:
    if (organization.generation_provider or EXTRACTIVE).strip().lower() == EXTRACTIVE:
        return None
    try:
        generator = get_generator(organization.generation_provider, organization.generation_model)
    except ProviderError:
        return None
    return generator if isinstance(generator, ChatGenerator) else None


def follow_up_searched_as(
    *,
    organization: Organization,
    user_id: int | None,
    question: str,
    history: Sequence[Turn],
    feature: str = "rewrite",
) -> FollowUp:
    """The standalone question `question` means after `history` (the thread's earlier turns, oldest
    first). A model call is logged as `feature` (an evaluation run's as "evaluation"), under the
    organization's prompt-log policy and counted in its budget."""
    offline = standalone_question(question, history)
    fallback = FollowUp(offline.text, offline.drew_on, OFFLINE if offline.drew_on is not None else "")
    model = _rewriter(organization) if history else None
    if model is None:
        return fallback
    system, user = rewrite_prompt(question, history)
    started = timezone.now()
    log = {"organization": organization, "user_id": user_id, "feature": feature, "provider": model}
    try:
        generation = model.complete(system=system, user=user)
    except ProviderError as exc:
        model_call_record(
            **log, started_at=started, status="error", chunk_ids=[], document_ids=[], error_class=type(exc).__name__
        )
        return fallback
    model_call_record(**log, started_at=started, status="ok", chunk_ids=[], document_ids=[], generation=generation)
    checked = rewrite_checked(question, parse_rewrite(generation.text), history)
    if checked is None:
        return FollowUp(fallback.text, fallback.drew_on, fallback.rewritten_by, model_refused=True)
    return FollowUp(checked.text, checked.drew_on, MODEL if checked.drew_on is not None else "")
