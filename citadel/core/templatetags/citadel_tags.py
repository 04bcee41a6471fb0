"""Template helpers shared by every app. `{% load citadel_tags %}`."""

from django import template
from django.utils.safestring import mark_safe

from citadel.core.markdown import render_markdown

register = template.Library()


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
