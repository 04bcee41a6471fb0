"""PromptLog and SearchEvent writing: metadata always, raw content as the organization's policy says."""

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from citadel.audit.models import PromptLog, PromptLogMode, SearchEvent


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_ok(match: re.Match) -> bool:
    # Luhn keeps order numbers and other long digit runs readable; a real card always passes it.
    digits = _digits(match.group(0))
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _iban_ok(match: re.Match) -> bool:
    compact = re.sub(r"\s", "", match.group(0)).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _spanish_id_ok(match: re.Match) -> bool:
    raw = re.sub(r"[\s-]", "", match.group(0)).upper()
    body, letter = raw[:-1], raw[-1]
    body = body.replace("X", "0").replace("Y", "1").replace("Z", "2")
    return body.isdigit() and _DNI_LETTERS[int(body) % 23] == letter


def _french_nir_ok(match: re.Match) -> bool:
    raw = re.sub(r"\s", "", match.group(0)).upper()
    # Corsica's departments 2A/2B count as 19/18 for the key.
    number = raw[:13].replace("2A", "19").replace("2B", "18")
    return number.isdigit() and 97 - int(number) % 97 == int(raw[13:])


def _sin_ok(match: re.Match) -> bool:
    return _luhn_ok(_digits(match.group(0)))


_DATE = re.compile(r"^\d{1,4}([-./])\d{1,2}\1\d{1,4}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")


def _phone_ok(match: re.Match) -> bool:
    text = match.group(0)
    digits = _digits(text)
    international = text.startswith(("+", "00", "(+"))
    if not (8 if international else 9) <= len(digits) <= 15:
        return False
    return not (_DATE.match(text) or _IPV4.match(text) or _DECIMAL.match(text))


# (label, pattern, validator). Order matters: the specific, checksummed kinds run before the
# generic phone pattern, which would otherwise take their digits under the wrong label.
_REDACTIONS: list[tuple[str, re.Pattern, Callable[[re.Match], bool] | None]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), None),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.IGNORECASE), _iban_ok),
    ("CARD", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _card_ok),
    # US SSN / ITIN: 123-45-6789 or 123 45 6789.
    ("NATIONAL_ID", re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])"), None),
    # UK National Insurance number: QQ 12 34 56 C (first letters exclude D, F, I, Q, U, V).
    (
        "NATIONAL_ID",
        re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE),
        None,
    ),
    # Canadian SIN: 123-456-789 with a Luhn check.
    ("NATIONAL_ID", re.compile(r"(?<![\d-])\d{3}([- ])\d{3}\1\d{3}(?![\d-])"), _sin_ok),
    # Spanish DNI (12345678Z) and NIE (X1234567L) with their check letter.
    ("NATIONAL_ID", re.compile(r"\b[XYZ]?\d{7,8}-?[A-Z]\b", re.IGNORECASE), _spanish_id_ok),
    # French NIR (social security number) with its 97-complement key.
    (
        "NATIONAL_ID",
        re.compile(r"\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b", re.IGNORECASE),
        _french_nir_ok,
    ),
    # Italian codice fiscale: six letters, birth date and place code, check letter.
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b", re.IGNORECASE), None),
    # Indian PAN: ABCDE1234F.
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]\b"), None),
    # Phone numbers: +44 20 7946 0958, (555) 123-4567, 06 12 34 56 78, 0049 30 1234567. Also any
    # bare run of 9-15 digits (bank accounts, Dutch BSN, Aadhaar): unlabelled but not kept.
    ("PHONE", re.compile(r"(?<![\w+.,/-])(?:\+|\(\+?)?\d[\d ().-]{6,}\d(?![\w/-]|[.,]\d)"), _phone_ok),
]


def redact(text: str) -> str:
    """Mask emails, IBANs, card numbers, national ids and phone numbers; ordinary numbers (dates,
    amounts, versions, "30 days") stay readable."""
    for label, pattern, valid in _REDACTIONS:

        def replace(match: re.Match, label=label, valid=valid) -> str:
            return f"[{label}]" if valid is None or valid(match) else match.group(0)

        text = pattern.sub(replace, text)
    return text


def _under_policy(mode: str, text: str) -> str:
    if mode == PromptLogMode.NONE:
        return ""
    return redact(text) if mode == PromptLogMode.REDACTED else text


def prompt_log_record(
    *,
    organization,
    user_id: int | None,
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
    prompt_text, output_text = _under_policy(mode, prompt_text), _under_policy(mode, output_text)
    latency_ms = int((finished_at - started_at).total_seconds() * 1000) if finished_at else None
    return PromptLog.objects.create(
        organization=organization,
        user_id=user_id,
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


def search_event_record(*, organization, user_id: int | None, channel: str, query: str, document_ids) -> SearchEvent:
    """`organization` is anything with `pk` and `prompt_log_mode` (the policy also covers queries)."""
    ids = list(dict.fromkeys(int(i) for i in document_ids))
    mode = organization.prompt_log_mode
    return SearchEvent.objects.create(
        organization_id=organization.pk,
        user_id=user_id,
        channel=channel,
        searched_at=timezone.now(),
        content_mode=mode,
        query=_under_policy(mode, query),
        query_chars=len(query),
        document_ids=ids,
        results=len(ids),
    )
