"""Field types shared by the API's schemas: what the boundary refuses before any service runs.

PostgreSQL ids are 64-bit and its text cannot hold NUL bytes; both would otherwise reach the
database as a 500, so they are refused here as validation errors (422)."""

from typing import Annotated

from pydantic import AfterValidator, Field

from citadel.core.ids import MAX_ID


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _no_nul_inside(value):
    """A JSON object's keys and values, nested in objects and lists, hold no NUL either."""
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul_inside(key)
            _no_nul_inside(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul_inside(item)
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


JsonObject = Annotated[dict, AfterValidator(_no_nul_inside)]


def limited(max_length: int, *, min_length: int = 0):
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]
