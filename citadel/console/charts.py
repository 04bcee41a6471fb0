"""The console's charts, drawn on the server as SVG by evaluation's chart helpers."""

from citadel.core.states import STATES
from citadel.evaluation.charts import bars_svg, columns_svg

# The outcomes stacked in the questions-per-day chart, in the order read from the bottom up.
# The cost chart's line: the monthly budget spread over a month of this many days.
BUDGET_DAYS = 30
DAY_OUTCOMES = ("answered", "partial", "insufficient_evidence", "pending_review", "rejected")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def console_charts(figures: dict) -> dict:
    review = figures["review"]
    charts = {
        "reviews": columns_svg(
            [(f"{d['day']:%m-%d}", (d["decided"],)) for d in review["per_day"]],
            series=["Decisions"],
            label="Review decisions per day",
        )
    }
    if "days" not in figures:
        return charts
    labels = [STATES["answer"][status].label for status in DAY_OUTCOMES]
    charts["questions"] = columns_svg(
        [(f"{d['day']:%m-%d}", (*(d[s] for s in DAY_OUTCOMES), d["failed"] + d["cancelled"])) for d in figures["days"]],
        series=[*labels, "Failed or stopped"],
        label="Questions per day, by what became of their answers",
    )
    charts["shares"] = bars_svg(
        [(STATES["answer"][status].label, (share,)) for status, share in figures["shares"].items()],
        series=["Share of answers"],
        label="Share of answers by status",
        fmt=_percent,
    )
    budget = figures["cost"]["monthly_budget_usd"]
    daily_budget = None if budget is None else float(budget) / BUDGET_DAYS
    charts["cost"] = columns_svg(
        [(f"{d['day']:%m-%d}", (float(d["cost_usd"]),)) for d in figures["days"]],
        series=["Model cost (USD)"],
        label="Model cost per day",
        fmt=lambda v: f"${v:.2f}",
        limit=None if daily_budget is None else (daily_budget, f"monthly budget ÷ 30: ${daily_budget:.2f} a day"),
    )
    return charts
