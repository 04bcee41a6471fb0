"""The record of a model call made outside answering (a summary written, a field extracted, labels
chosen): the prompt log under the organization's policy, which the monthly budget also counts."""

from django.utils import timezone

from citadel.audit.prompt_logs import prompt_log_record
from citadel.providers.generation import Generation, cost_usd


def model_call_record(
    *,
    organization,
    user_id: int | None,
    feature: str,
    provider,
    started_at,
    status: str,
    chunk_ids: list[int],
    document_ids: list[int],
    generation: Generation | None = None,
    error_class: str = "",
) -> None:
    prompt_log_record(
        organization=organization,
        user_id=user_id,
        feature=feature,
        provider=provider.name,
        model=generation.model if generation else provider.model,
        started_at=started_at,
        finished_at=timezone.now(),
        status=status,
        prompt_text=generation.prompt_text if generation else "",
        output_text=generation.text if generation else "",
        retrieved_chunk_ids=chunk_ids,
        retrieved_document_ids=document_ids,
        tokens_in=generation.tokens_in if generation else 0,
        tokens_out=generation.tokens_out if generation else 0,
        cost_usd=cost_usd(model=generation.model, tokens_in=generation.tokens_in, tokens_out=generation.tokens_out)
        if generation
        else 0,
        error_class=error_class,
    )
