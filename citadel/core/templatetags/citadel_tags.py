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
