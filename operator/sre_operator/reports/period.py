"""Report periods, in a time zone: a day (``2026-11-25``), an ISO week (``2026-W47``), a calendar month
(``2026-11``), a quarter (``2026-Q4``), or a range of two of them (``2026-W46/2026-W47``)."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime.datetime
    end: datetime.datetime  # exclusive

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    def to_date(self, now: datetime.datetime) -> Period:
        """A period still running ends at the last whole hour: the report covers it so far."""
        last_hour = now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
        if self.end <= last_hour:
            return self
        return Period(f"{self.label} (to {last_hour:%Y-%m-%d %H:00} UTC)", self.start, max(self.start, last_hour))


def _days(text: str) -> tuple[datetime.date, datetime.date] | None:
    """First day and the day after the last of one period's label."""
    if day := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        try:
            first = datetime.date(int(day.group(1)), int(day.group(2)), int(day.group(3)))
        except ValueError:
            return None
        return first, first + datetime.timedelta(days=1)
    if week := re.fullmatch(r"(\d{4})-W(\d{2})", text):
        try:
            first = datetime.date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
        except ValueError:
            return None
        return first, first + datetime.timedelta(days=7)
    if month := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            return None
        return datetime.date(year, number, 1), datetime.date(year + number // 12, number % 12 + 1, 1)
    if quarter := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, number = int(quarter.group(1)), int(quarter.group(2))
        first_month = 3 * number - 2
        return datetime.date(year, first_month, 1), datetime.date(year + number // 4, (3 * number) % 12 + 1, 1)
    return None


def parse_period(text: str, time_zone: str = "UTC") -> Period:
    zone = zoneinfo.ZoneInfo(time_zone)
    first, _, last = text.partition("/")
    bounds, last_bounds = _days(first), _days(last or first)
    if bounds is None or last_bounds is None or last_bounds[1] <= bounds[0]:
        raise ValueError(
            f"--period: {text!r} is not a day (2026-11-25), an ISO week (2026-W47), a month (2026-11),"
            " a quarter (2026-Q4) or a range of two (2026-W46/2026-W47)"
        )

    def moment(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(), zone).astimezone(datetime.UTC)

    return Period(text, moment(bounds[0]), moment(last_bounds[1]))


def _week(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete(cadence: str, today: datetime.date) -> str:
    """The label of the last period of ``cadence`` that ended by ``today``: yesterday, last ISO week, the
    two ISO weeks before this one, last month or last quarter."""
    if cadence == "daily":
        return (today - datetime.timedelta(days=1)).isoformat()
    if cadence == "biweekly":
        return f"{_week(today - datetime.timedelta(days=14))}/{_week(today - datetime.timedelta(days=7))}"
    if cadence == "monthly":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    if cadence == "quarterly":
        last = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1) - datetime.timedelta(days=1)
        return f"{last.year}-Q{(last.month - 1) // 3 + 1}"
    return _week(today - datetime.timedelta(days=7))
