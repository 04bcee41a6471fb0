"""Ids from request text read as the URL converters read them: ASCII digits, 1 to bigint."""

import pytest
from django.core.exceptions import ValidationError

from citadel.core.ids import MAX_ID, IdField, parse_id


@pytest.mark.parametrize(("text", "expected"), [("12", 12), (" 12 ", 12), ("1", 1), (str(MAX_ID), MAX_ID), (7, 7)])
def test_ascii_digits_up_to_bigint_are_an_id(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "²",  # str.isdigit() says yes; int() refuses it
        "١٢",  # Arabic-Indic digits: int() reads 12
        "1_000",  # int() reads 1000
        "+5",
        "12.0",
        "1e3",
        "0x1f",
        "-1",
        "0",
        str(MAX_ID + 1),
        "99999999999999999999",
        "a\x00b",
        "",
        "  ",
        None,
    ],
)
def test_anything_else_is_no_id(text):
    assert parse_id(text) is None


def test_the_field_says_why_a_form_refuses_an_id():
    form_field = IdField()
    assert form_field.clean("42") == 42
    for text, code in [("²", "invalid"), ("0", "min_value"), (str(MAX_ID + 1), "max_value"), ("", "required")]:
        with pytest.raises(ValidationError) as refused:
            form_field.clean(text)
        assert [error.code for error in refused.value.error_list] == [code]
