"""When a failed step is tried again: which errors are passing ones, how long to wait, how often."""

from datetime import timedelta

from django.db import InterfaceError, OperationalError

from citadel.ingestion.errors import TransientIngestionError

MAX_ATTEMPTS = 3
RETRY_BASE_SECONDS = 10


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientIngestionError | OperationalError | InterfaceError | TimeoutError | ConnectionError):
        return True
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a pinned dependency
        return False
    return isinstance(
        exc, openai.APITimeoutError | openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError
    )


def retry_delay(attempt: int) -> timedelta:
    return timedelta(seconds=RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1)))
