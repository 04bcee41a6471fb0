"""Ids that arrive as text (a form field, a query parameter) read the way the URL converters
(`<int:...>`) read them: ASCII digits, from 1 to PostgreSQL's bigint maximum.

By hand it goes wrong both ways: str.isdigit() passes "²", which int() refuses (a 500), while
int() takes "١٢" (Arabic-Indic digits) as 12 and "1_000" as 1000, ids nobody typed; a number past
bigint reaches the database as a DataError."""

import re

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"\s*[0-9]+\s*")


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not _DIGITS.fullmatch(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def parse_id(value) -> int | None:
    """The id `value` holds, or None when it holds none (missing, blank, or not an id)."""
    try:
        return IdField(required=False).clean(value)
    except ValidationError:
        return None
