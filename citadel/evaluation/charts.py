"""Small charts drawn on the server as SVG: no JavaScript, nothing fetched, every text escaped."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOR_A = "#8a94a6"
COLOR_B = "#2450a6"
LABEL_WIDTH = 150
BAR_WIDTH = 260
ROW_HEIGHT = 34
BAR_HEIGHT = 11


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _bar(x: float, y: float, value: float | None, color: str) -> str:
    width = 0.0 if value is None else max(0.0, min(1.0, value)) * BAR_WIDTH
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{color}"/>'
        f'<text x="{x + width + 4:.1f}" y="{y + BAR_HEIGHT - 1:.1f}" font-size="10" fill="#1c2330">'
        f"{escape(_fmt(value))}</text>"
    )


def metric_bars_svg(rows: list[tuple[str, float | None, float | None]], *, label_a: str, label_b: str) -> SafeString:
    """Horizontal paired bars, one row per metric (values on a 0..1 scale): A grey, B blue.

    `rows` holds (label, value of A, value of B). Labels and legend are escaped here, so the
    result can be put in a page as is."""
    height = 28 + ROW_HEIGHT * len(rows)
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(f"Metrics of {label_a} and {label_b}")}">',
        f'<rect x="{LABEL_WIDTH}" y="4" width="10" height="10" fill="{COLOR_A}"/>',
        f'<text x="{LABEL_WIDTH + 14}" y="13" font-size="11" fill="#1c2330">{escape(label_a[:22])}</text>',
        f'<rect x="{LABEL_WIDTH + 130}" y="4" width="10" height="10" fill="{COLOR_B}"/>',
        f'<text x="{LABEL_WIDTH + 144}" y="13" font-size="11" fill="#1c2330">{escape(label_b[:22])}</text>',
    ]
    for i, (label, a, b) in enumerate(rows):
        top = 24 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{top + BAR_HEIGHT + 5}" font-size="11" text-anchor="end"'
            f' fill="#1c2330">{escape(label)}</text>'
        )
        parts.append(_bar(LABEL_WIDTH, top, a, COLOR_A))
        parts.append(_bar(LABEL_WIDTH, top + BAR_HEIGHT + 2, b, COLOR_B))
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="20" x2="{LABEL_WIDTH}" y2="{height}" stroke="#dde2ea" stroke-width="1"/>'
    )
    parts.append("</svg>")
    # Every interpolated text went through escape() above; numbers are formatted by us.
    return mark_safe("".join(parts))  # noqa: S308
