"""Small charts drawn on the server as SVG: no JavaScript, nothing fetched, no inline style (the
CSP refuses both), every text escaped. Colours are SVG presentation attributes.

`bars_svg` draws horizontal bars, one group per row and one bar per series (evaluation's A/B
comparison is `metric_bars_svg`); `columns_svg` draws a column per day, stacked by series (the
console's questions, outcomes and cost per day)."""

from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOR_A = "#8a94a6"
COLOR_B = "#2450a6"
PALETTE = ("#2450a6", "#d97706", "#8a94a6", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d")
INK = "#1c2330"
RULE = "#dde2ea"
LIMIT = "#b42318"
LABEL_WIDTH = 150
BAR_WIDTH = 260
BAR_HEIGHT = 11
LEGEND_STEP = 130


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _bar(x: float, y: float, value: float | None, color: str, fmt: Callable[[float | None], str]) -> str:
    width = 0.0 if value is None else max(0.0, min(1.0, value)) * BAR_WIDTH
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{color}"/>'
        f'<text x="{x + width + 4:.1f}" y="{y + BAR_HEIGHT - 1:.1f}" font-size="10" fill="{INK}">'
        f"{escape(fmt(value))}</text>"
    )


def _legend(x: float, labels: Sequence[str], colors: Sequence[str], *, per_row: int = 99) -> list[str]:
    """The legend's entries, `per_row` to a line, 16 units apart."""
    parts = []
    for i, (label, color) in enumerate(zip(labels, colors, strict=False)):
        left, top = x + (i % per_row) * LEGEND_STEP, 4 + (i // per_row) * 16
        parts.append(f'<rect x="{left:.1f}" y="{top}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{left + 14:.1f}" y="{top + 9}" font-size="11" fill="{INK}">{escape(label[:22])}</text>')
    return parts


def _svg(width: float, height: float, label: str, parts: list[str], *, fluid: bool = False) -> SafeString:
    # A fluid chart takes its container's width and keeps its proportions (wide day charts).
    size = 'width="100%"' if fluid else f'width="{width:.0f}" height="{height:.0f}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" {size}'
        f' role="img" aria-label="{escape(label)}">'
    )
    # Every interpolated text went through escape(); numbers are formatted here.
    return mark_safe(head + "".join(parts) + "</svg>")  # noqa: S308


def bars_svg(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    *,
    series: Sequence[str],
    label: str,
    colors: Sequence[str] = PALETTE,
    fmt: Callable[[float | None], str] = _fmt,
) -> SafeString:
    """Horizontal bars on a 0..1 scale: one group per row (label, one value per series)."""
    step = (BAR_HEIGHT + 2) * len(series) + 8
    height = 28 + step * len(rows)
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = _legend(LABEL_WIDTH, series, colors) if len(series) > 1 else []
    for i, (name, values) in enumerate(rows):
        top = 24 + i * step
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{top + BAR_HEIGHT + 5}" font-size="11" text-anchor="end"'
            f' fill="{INK}">{escape(name)}</text>'
        )
        for j, value in enumerate(values):
            parts.append(_bar(LABEL_WIDTH, top + j * (BAR_HEIGHT + 2), value, colors[j % len(colors)], fmt))
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="20" x2="{LABEL_WIDTH}" y2="{height}" stroke="{RULE}" stroke-width="1"/>'
    )
    return _svg(width, height, label, parts)


def metric_bars_svg(rows: list[tuple[str, float | None, float | None]], *, label_a: str, label_b: str) -> SafeString:
    """Horizontal paired bars, one row per metric (values on a 0..1 scale): A grey, B blue.

    `rows` holds (label, value of A, value of B). Labels and legend are escaped here, so the
    result can be put in a page as is."""
    return bars_svg(
        [(name, (a, b)) for name, a, b in rows],
        series=[label_a, label_b],
        label=f"Metrics of {label_a} and {label_b}",
        colors=(COLOR_A, COLOR_B),
    )


def columns_svg(
    columns: Sequence[tuple[str, Sequence[float]]],
    *,
    series: Sequence[str],
    label: str,
    colors: Sequence[str] = PALETTE,
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
    width: int = 720,
    height: int = 220,
    limit: tuple[float, str] | None = None,
) -> SafeString:
    """A column per entry of `columns` (its label, one value per series), the series stacked from
    the bottom, under a legend that wraps; a labelled axis at 0, half and the tallest column; with
    `limit` (a value and its words), a dashed line across at that value.
    Each column's `<title>` reads its label and values, so a pointer or screen reader gets them."""
    left, bottom = 64, 24
    per_row = max(int((width - left) // LEGEND_STEP), 1)
    top = 8 + 16 * -(-len(series) // per_row)
    peak = max((sum(values) for _, values in columns), default=0) or 1
    if limit is not None:
        peak = max(peak, limit[0])
    plot = height - bottom - top
    slot = (width - left) / max(len(columns), 1)
    bar = max(slot * 0.7, 1)
    parts = _legend(left, series, colors, per_row=per_row)
    for fraction in (0, 0.5, 1):
        y = height - bottom - plot * fraction
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{RULE}" stroke-width="1"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10" fill="{INK}">'
            f"{escape(fmt(peak * fraction))}</text>"
        )
    for i, (name, values) in enumerate(columns):
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom
        summary = ", ".join(f"{s} {fmt(v)}" for s, v in zip(series, values, strict=False))
        parts.append(f"<g><title>{escape(f'{name}: {summary}')}</title>")
        for j, value in enumerate(values):
            h = value / peak * plot
            y -= h
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colors[j % len(colors)]}"/>'
                )
        parts.append("</g>")
        # Every seventh day is labelled, and the last when it stands clear of the one before.
        if i % 7 == 0 or (i == len(columns) - 1 and i % 7 >= 3):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10"'
                f' fill="{INK}">{escape(name)}</text>'
            )
    if limit is not None:
        y = height - bottom - limit[0] / peak * plot
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIMIT}" stroke-width="1.5"'
            ' stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{width - 2}" y="{y - 3:.1f}" text-anchor="end" font-size="10" fill="{LIMIT}">'
            f"{escape(limit[1])}</text>"
        )
    return _svg(width, height, label, parts, fluid=True)
