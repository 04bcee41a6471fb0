"""Server-rendered SVG charts: geometry computed here, drawn by the template with <rect>s.
No script, no inline style (the CSP forbids both); colours are SVG presentation attributes."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f")
WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 56, 24, 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class Axis:
    y: float
    label: str


def cost_chart(costs: dict) -> dict:
    """Stacked bars of cost per day, one colour per organization (see selectors.cost_per_day)."""
    days: list[date] = costs["days"]
    orgs: list[str] = costs["organizations"]
    per_day = {day: sum((costs["cost"].get((day, o), Decimal(0)) for o in orgs), Decimal(0)) for day in days}
    peak = max(per_day.values(), default=Decimal(0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    colours = {org: PALETTE[i % len(PALETTE)] for i, org in enumerate(orgs)}
    bars = []
    for i, day in enumerate(days):
        y = HEIGHT - BOTTOM
        for org in orgs:
            value = costs["cost"].get((day, org), Decimal(0))
            if not value or not peak:
                continue
            h = float(value / peak) * plot_h
            y -= h
            bars.append(
                Bar(
                    x=round(LEFT + i * slot + (slot - bar_w) / 2, 2),
                    y=round(y, 2),
                    width=round(bar_w, 2),
                    height=round(h, 2),
                    fill=colours[org],
                    label=f"{org} {day:%Y-%m-%d}: ${value:.4f}",
                )
            )
    axis = [Axis(y=round(HEIGHT - BOTTOM - plot_h * f, 2), label=f"${float(peak) * f:.2f}") for f in (0, 0.5, 1)]
    ticks = [
        {"x": round(LEFT + i * slot + slot / 2, 2), "label": f"{day:%m-%d}"}
        for i, day in enumerate(days)
        if i % 7 == 0 or i == len(days) - 1
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "baseline": HEIGHT - BOTTOM,
        "bars": bars,
        "axis": axis,
        "ticks": ticks,
        "legend": [{"organization": o, "fill": colours[o]} for o in orgs],
        "total": sum(per_day.values(), Decimal(0)),
        "empty": not peak,
    }
