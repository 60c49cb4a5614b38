"""Report periods: an ISO week (``2026-W47``) or a calendar month (``2026-11``), in a time zone."""

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


def parse_period(text: str, time_zone: str = "UTC") -> Period:
    zone = zoneinfo.ZoneInfo(time_zone)
    week = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    if week:
        start_day = datetime.date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
        end_day = start_day + datetime.timedelta(days=7)
    else:
        month = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not month or not 1 <= int(month.group(2)) <= 12:
            raise ValueError(f"--period: {text!r} is neither a month (2026-11) nor an ISO week (2026-W47)")
        year, number = int(month.group(1)), int(month.group(2))
        start_day = datetime.date(year, number, 1)
        end_day = datetime.date(year + number // 12, number % 12 + 1, 1)

    def moment(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(), zone).astimezone(datetime.UTC)

    return Period(text, moment(start_day), moment(end_day))


def last_complete(cadence: str, today: datetime.date) -> str:
    """The period a report of ``cadence`` covers on ``today``: last week's, or last month's."""
    if cadence in ("monthly", "quarterly"):
        first = today.replace(day=1) - datetime.timedelta(days=1)
        return f"{first.year}-{first.month:02d}"
    year, week, _ = (today - datetime.timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"
