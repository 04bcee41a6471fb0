"""Redacted mode masks personal identifiers and leaves ordinary numbers readable."""

import pytest
from django.utils import timezone

from citadel.audit.models import PromptLogMode
from citadel.audit.prompt_logs import prompt_log_record, redact


@pytest.mark.parametrize(
    ("text", "label", "secret"),
    [
        ("Write to ann.lee+hr@example.co.uk today", "EMAIL", "ann.lee"),
        ("Call +44 20 7946 0958 after lunch", "PHONE", "7946"),
        ("US office: (555) 123-4567.", "PHONE", "123-4567"),
        ("Paris: 06 12 34 56 78", "PHONE", "34 56"),
        ("Pay to GB82 WEST 1234 5698 7654 32 by Friday", "IBAN", "WEST"),
        ("Konto DE89370400440532013000", "IBAN", "3704"),
        ("Card 4111 1111 1111 1111 expires soon", "CARD", "1111"),
        ("Card 5500-0055-5555-5559", "CARD", "5559"),
        ("SSN 123-45-6789 on file", "NATIONAL_ID", "6789"),
        ("NINO AB 12 34 56 C", "NATIONAL_ID", "34 56"),
        ("SIN 046-454-286", "NATIONAL_ID", "454"),
        ("DNI 12345678Z", "NATIONAL_ID", "12345678"),
        ("NIR 1 84 12 76 451 089 46", "NATIONAL_ID", "451"),
        ("Codice fiscale RSSMRA85T10A562S", "NATIONAL_ID", "RSSMRA"),
    ],
)
def test_each_kind_is_masked(text, label, secret):
    redacted = redact(text)

    assert f"[{label}]" in redacted
    assert secret not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Refunds take 30 days.",
        "Holidays: 25 days per year, 2.5 days carried over.",
        "Effective 2024-01-15 at 10:30, or 15.01.2024 in Germany.",
        "The budget is $1,250,000.00 for 2019-2024.",
        "Upgrade to version 3.12.1; see section 4.2.1 and ISO 27001.",
        "Order 1234 5678 9012 3456 failed the card checksum.",
        "Server 192.168.100.200 answered in 1234567.89 ms.",
    ],
)
def test_ordinary_numbers_are_left_alone(text):
    assert redact(text) == text


def test_a_card_number_failing_luhn_is_not_called_a_card():
    assert "[CARD]" not in redact("4111 1111 1111 1112")


@pytest.mark.parametrize(
    ("mode", "expected_prompt"),
    [
        (PromptLogMode.NONE, ""),
        (PromptLogMode.REDACTED, "Email [EMAIL] about refunds"),
        (PromptLogMode.FULL, "Email ann@example.com about refunds"),
    ],
)
def test_the_organization_policy_decides_what_is_stored(world, mode, expected_prompt):
    org = world.org("acme")
    org.prompt_log_mode = mode
    org.save()
    now = timezone.now()

    log = prompt_log_record(
        organization=org,
        user_id=None,
        feature="answer",
        provider="extractive",
        model="",
        started_at=now,
        finished_at=now,
        status="ok",
        prompt_text="Email ann@example.com about refunds",
        output_text="Sure.",
        retrieved_chunk_ids=[3],
        tokens_in=10,
    )

    log.refresh_from_db()
    assert log.prompt_text == expected_prompt
    assert log.content_mode == mode
    assert log.retrieved_chunk_ids == [3] and log.tokens_in == 10
