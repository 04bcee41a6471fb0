"""The review-by date a document states about itself: "Review date: 2026-03-01", "Next review:
March 2026", "Review by 1 March 2026".

A date counts only after a label that says the review is to come; "Last reviewed: 2024-01-01" and
"Reviewed by: Ann" say nothing of the next one. Dates are ISO (2026-03-01, 2026/03/01), a day and
a month's name in either order (1 March 2026, March 1st, 2026), or a month alone (March 2026,
2026-03), which means the first of that month. All-numeric day-month orders (03/01/2026) are not
read: a US and a UK reader disagree on them, and a wrong review date is worse than none."""

import re
from datetime import date

from citadel.reading.values import MONTHS

_MONTH = r"(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"

_LABEL = (
    r"(?P<label>next\s+review(?:\s+date)?|review\s+(?:date|due(?:\s+date)?|by|before|deadline)"
    r"|due\s+for\s+review(?:\s+(?:on|by))?|to\s+be\s+reviewed\s+(?:by|on|before))"
)
# What may stand between a label and its date: "Review date: ", "Next review - on the ".
_GAP = r"\s*(?:[:\-\u2013\u2014]\s*)?(?:(?:on|by|in|before)\s+)?(?:the\s+)?"
_DATES = "|".join(
    [
        r"(?P<iso_y>\d{4})[-/](?P<iso_m>\d{1,2})[-/](?P<iso_d>\d{1,2})\b",
        r"(?P<dmy_d>\d{1,2})" + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH.format("dmy_m") + r",?\s+(?P<dmy_y>\d{4})\b",
        _MONTH.format("mdy_m") + r"\s+(?P<mdy_d>\d{1,2})" + _ORDINAL + r",?\s+(?P<mdy_y>\d{4})\b",
        _MONTH.format("my_m") + r",?\s+(?P<my_y>\d{4})\b",
        r"(?P<ym_y>\d{4})-(?P<ym_m>\d{1,2})\b(?![-/]\d)",
    ]
)
_FINDER = re.compile(rf"\b{_LABEL}{_GAP}(?:{_DATES})", re.IGNORECASE)
# Labels that name a review done, not one to come, as the words before a label say.
_PAST = re.compile(r"(?:last|previous|prior|latest)\s*$", re.IGNORECASE)
YEARS = range(2000, 2101)


def review_date_find(text: str) -> date | None:
    """The first review-by date the text states, or None."""
    for match in _FINDER.finditer(text or ""):
        if _PAST.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        found = _date_of(match)
        if found is not None:
            return found
    return None


def _date_of(match: re.Match) -> date | None:
    parts = match.groupdict()
    if parts["iso_y"]:
        year, month, day = parts["iso_y"], parts["iso_m"], parts["iso_d"]
    elif parts["dmy_y"]:
        year, month, day = parts["dmy_y"], MONTHS[parts["dmy_m"].lower()], parts["dmy_d"]
    elif parts["mdy_y"]:
        year, month, day = parts["mdy_y"], MONTHS[parts["mdy_m"].lower()], parts["mdy_d"]
    elif parts["my_y"]:
        year, month, day = parts["my_y"], MONTHS[parts["my_m"].lower()], 1
    else:
        year, month, day = parts["ym_y"], parts["ym_m"], 1
    if int(year) not in YEARS:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 31 February, month 13
        return None
