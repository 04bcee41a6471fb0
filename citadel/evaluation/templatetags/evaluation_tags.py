from django import template

register = template.Library()


@register.filter
def get_metric(metrics, key: str) -> str:
    """A metric from a metrics dict (their keys hold "@", which template lookups cannot), as text."""
    value = metrics.get(key) if isinstance(metrics, dict) else None
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@register.filter
def signed(value) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}"
