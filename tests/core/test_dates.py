"""A range of whole days: both ends included, the last 30 days by default, and a clear error for
a date that is not one or a range backwards or too long."""

from datetime import date

import pytest

from citadel.core.dates import DateRange, date_range
from citadel.core.errors import InvalidInput


def test_by_default_the_last_30_days_up_to_today_and_its_bounds_cover_whole_days():
    span = date_range(since=None, until="", today=date(2026, 3, 31))

    assert span == DateRange(since=date(2026, 3, 2), until=date(2026, 3, 31)) and len(span.days) == 30
    start, end = span.bounds()
    assert (start.date(), end.date(), start.hour, end.hour) == (date(2026, 3, 2), date(2026, 4, 1), 0, 0)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-13-01", None, "`since` must be a date"),
        ("2026-05-02", "2026-05-01", "on or before"),
        ("2020-01-01", "2026-01-01", "at most"),
    ],
)
def test_a_bad_range_says_why(since, until, message):
    with pytest.raises(InvalidInput, match=message):
        date_range(since=since, until=until)
