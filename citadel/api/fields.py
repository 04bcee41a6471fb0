"""Field types shared by the API's schemas: what the boundary refuses before any service runs.

PostgreSQL ids are 64-bit and its text cannot hold NUL bytes; both would otherwise reach the
database as a 500, so they are refused here as validation errors (422)."""

from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def limited(max_length: int, *, min_length: int = 0):
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]
