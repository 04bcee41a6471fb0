"""Template helpers shared by every app. `{% load citadel_tags %}`."""

import datetime
import re

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from citadel.core.markdown import render_markdown
from citadel.core.states import State, state_of

register = template.Library()

CLASS_WORD = re.compile(r"[a-z0-9_]+")


@register.filter(is_safe=False)
def markdown_safe(value) -> str:
    """Markdown rendered then sanitized (citadel.core.markdown): the only way Markdown from a
    model or a document reaches a page. Everything else stays plain autoescaped text."""
    return mark_safe(render_markdown(value))  # noqa: S308 - sanitized by nh3 with an allowlist


@register.filter
def duration_words(value) -> str:
    """A timedelta as people say it: "45 s", "12 min", "2 h 5 min"."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@register.inclusion_tag("partials/state.html")
def state(kind: str, value, sentence: bool = False) -> dict:
    """`{% state "answer" answer.status %}`: the badge of a state in the one vocabulary
    (citadel.core.states); `sentence=True` prints its sentence after it. The badge keeps the
    value's class (`badge-ready`) for scripts and browser tests to find it by, when the value is
    a word that can be a class."""
    key = str(getattr(value, "value", value) or "")
    return {"state": state_of(kind, value), "value": key if CLASS_WORD.fullmatch(key) else "", "sentence": sentence}


@register.simple_tag(name="state_of")
def state_words(kind: str, value) -> State:
    """`{% state_of "review" item.state as s %}{{ s.label }}`: the words alone, for e-mails,
    sentences and attributes."""
    return state_of(kind, value)


def human_time_words(value, *, now: datetime.datetime, tz: datetime.tzinfo) -> tuple[str, str, str]:
    """A moment as people read it, relative to `now` in the zone `tz`: the short words ("today
    14:32", "yesterday 09:10", "3 days ago", "12 Mar", "12 Mar 2025"), the full date for the title
    ("Monday 7 December 2026, 14:32 UTC") and the ISO form for `datetime`. A date without a time
    reads as a day. Pure, so tests pass their own `now`."""
    if isinstance(value, datetime.datetime):
        moment = value.astimezone(tz) if timezone.is_aware(value) else value.replace(tzinfo=tz)
        day, clock = moment.date(), moment.strftime("%H:%M")
        full = f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')}, {clock} {moment.tzname() or ''}"
        iso = moment.replace(microsecond=0).isoformat()
    else:
        moment, day, clock = None, value, ""
        full = f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
        iso = day.isoformat()
    today = now.astimezone(tz).date()
    days = (today - day).days
    at = f" {clock}" if clock else ""
    if days == 0:
        short = f"today{at}"
    elif days == 1:
        short = f"yesterday{at}"
    elif days == -1:
        short = f"tomorrow{at}"
    elif 1 < days < 7:
        short = f"{days} days ago"
    elif day.year == today.year:
        short = f"{day.day} {day.strftime('%b')}"
    else:
        short = f"{day.day} {day.strftime('%b %Y')}"
    return short, full.strip(), iso


def _moment(value):
    """A datetime or date from a model, or an ISO string from stored JSON (a receipt)."""
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        return parse_datetime(value) or parse_date(value)
    return None


@register.filter
def human_time(value, now=None) -> str:
    """`{{ answer.created_at|human_time }}`: a `<time>` with the short words, the full date on
    hover and the ISO form for machines, in the current time zone. Anything that is not a date
    prints as it is."""
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else conditional_escape(value)
    short, full, iso = human_time_words(moment, now=now or timezone.now(), tz=timezone.get_current_timezone())
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, full, short)


@register.filter
def full_time(value) -> str:
    """`{{ item.due_at|full_time }}`: the full date as plain text ("Monday 7 December 2026, 14:32
    UTC"), for e-mails and exports, which are read later than they are written."""
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    return human_time_words(moment, now=timezone.now(), tz=timezone.get_current_timezone())[1]
