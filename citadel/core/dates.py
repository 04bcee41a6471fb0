"""A range of whole days asked for by a page or the API (the console's figures, its content gaps):
YYYY-MM-DD dates, both included, by default the last 30 days up to today."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from citadel.core.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 3


@dataclass(frozen=True)
class DateRange:
    since: date
    until: date

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """[the start of `since`, the start of the day after `until`) in the current time zone."""
        return _start(self.since), _start(self.until + timedelta(days=1))


def date_range(*, since: str | date | None, until: str | date | None, today: date | None = None) -> DateRange:
    """InvalidInput for a date that is not one, or a range backwards or longer than MAX_DAYS."""
    end = _date(until, "until") or today or timezone.localdate()
    start = _date(since, "since") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("`since` must be on or before `until`.")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"A range may cover at most {MAX_DAYS} days.")
    return DateRange(since=start, until=end)


def _date(value: str | date | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"`{name}` must be a date written YYYY-MM-DD.") from None


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
