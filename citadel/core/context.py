"""Who and what a log line is about: request id, organization, user and task id.

Context variables rather than thread locals so the values follow a request through sync and async
code alike. The middleware binds a request's values, the task signal handlers a task's; any other
entry point (a management command acting for an organization) can call `bind()` itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("request_id", "organization_id", "organization", "user_id", "task_id")

_vars: dict[str, ContextVar] = {name: ContextVar(f"citadel_{name}", default=None) for name in FIELDS}


def current() -> dict:
    """The bound values, leaving out the unset ones."""
    return {name: value for name, var in _vars.items() if (value := var.get()) is not None}


def get(name: str):
    return _vars[name].get()


def bind_values(**values) -> list:
    """Bind values and return the tokens `unbind` needs to restore the previous ones."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown log context fields: {sorted(unknown)}")
    return [(_vars[name], _vars[name].set(value)) for name, value in values.items()]


def unbind(tokens: list) -> None:
    for var, token in reversed(tokens):
        try:
            var.reset(token)
        except ValueError:
            # Bound in another context (async code hopping threads): that context ended with
            # its values, so there is nothing left here to restore.
            pass


@contextmanager
def bind(**values) -> Iterator[None]:
    tokens = bind_values(**values)
    try:
        yield
    finally:
        unbind(tokens)
