"""Errors the services raise. Views and the API map them to responses; nothing here knows HTTP."""


class CitadelError(Exception):
    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(CitadelError):
    """Missing or not visible to the principal: deliberately indistinguishable."""

    code = "not_found"


class PermissionDenied(CitadelError):
    """The principal can see the object but its role may not perform this action."""

    code = "forbidden"


class InvalidInput(CitadelError):
    code = "invalid"


class InvalidTransition(CitadelError):
    code = "invalid_transition"


class LimitExceeded(CitadelError):
    """A rate limit or budget cap. `retry_after` is in seconds."""

    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int = 60, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
