"""PromptLog writing: metadata always, raw content as the organization's policy says."""

import re
from datetime import datetime
from decimal import Decimal

from citadel.accounts.models import Organization, PromptLogMode
from citadel.audit.models import PromptLog

# Order matters: IBANs and card numbers before the generic phone pattern eats their digits.
_REDACTIONS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("NATIONAL_ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b[A-Z]{2}\d{6}[A-D]\b")),
    ("PHONE", re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")),
]


def redact(text: str) -> str:
    """Mask emails, IBANs, card numbers, national ids (US SSN, UK NINO) and phone numbers."""
    for label, pattern in _REDACTIONS:
        text = pattern.sub(f"[{label}]", text)
    return text


def prompt_log_record(
    *,
    organization: Organization,
    user,
    feature: str,
    provider: str,
    model: str,
    started_at: datetime,
    finished_at: datetime | None,
    status: str,
    prompt_text: str = "",
    output_text: str = "",
    retrieved_chunk_ids: list[int] | None = None,
    retrieved_document_ids: list[int] | None = None,
    cited_chunk_ids: list[int] | None = None,
    tokens_in: int = 0,
    tokens_out: int = 0,
    cost_usd: Decimal | float = 0,
    error_class: str = "",
    answer=None,
) -> PromptLog:
    mode = organization.prompt_log_mode
    if mode == PromptLogMode.NONE:
        prompt_text = output_text = ""
    elif mode == PromptLogMode.REDACTED:
        prompt_text, output_text = redact(prompt_text), redact(output_text)
    latency_ms = int((finished_at - started_at).total_seconds() * 1000) if finished_at else None
    return PromptLog.objects.create(
        organization=organization,
        user=user,
        answer=answer,
        feature=feature,
        provider=provider,
        model=model,
        started_at=started_at,
        finished_at=finished_at,
        latency_ms=latency_ms,
        retrieved_chunk_ids=list(retrieved_chunk_ids or []),
        retrieved_document_ids=list(retrieved_document_ids or []),
        cited_chunk_ids=list(cited_chunk_ids or []),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=Decimal(str(cost_usd)),
        status=status,
        error_class=error_class,
        content_mode=mode,
        prompt_text=prompt_text,
        output_text=output_text,
    )
