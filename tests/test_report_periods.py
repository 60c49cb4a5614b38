"""Report periods: ISO weeks and calendar months, in a time zone, and the last complete one for a cadence."""

from __future__ import annotations

import datetime

import pytest

from sre_operator.reports import parse_period
from sre_operator.reports.period import last_complete

UTC = datetime.UTC


def test_an_iso_week_and_a_month() -> None:
    week = parse_period("2026-W47")
    assert (week.start, week.end, week.hours) == (
        datetime.datetime(2026, 11, 16, tzinfo=UTC), datetime.datetime(2026, 11, 23, tzinfo=UTC), 168,
    )  # fmt: skip
    december = parse_period("2026-12")
    assert (december.start, december.end) == (
        datetime.datetime(2026, 12, 1, tzinfo=UTC),
        datetime.datetime(2027, 1, 1, tzinfo=UTC),
    )


def test_a_month_in_a_time_zone_starts_at_its_local_midnight() -> None:
    tokyo = parse_period("2026-11", "Asia/Tokyo")
    assert tokyo.start == datetime.datetime(2026, 10, 31, 15, tzinfo=UTC)


def test_a_running_period_is_reported_to_the_last_whole_hour() -> None:
    now = datetime.datetime(2026, 11, 26, 3, 40, tzinfo=UTC)
    running = parse_period("2026-11").to_date(now)
    assert running.end == datetime.datetime(2026, 11, 26, 3, tzinfo=UTC)
    assert running.label == "2026-11 (to 2026-11-26 03:00 UTC)"


def test_the_last_complete_period_of_a_cadence() -> None:
    today = datetime.date(2026, 11, 26)
    assert last_complete("weekly", today) == "2026-W47"
    assert last_complete("monthly", today) == "2026-10"


@pytest.mark.parametrize("text", ["2026-13", "last week", "2026-W", ""])
def test_a_bad_period_is_one_line_naming_the_flag(text: str) -> None:
    with pytest.raises(ValueError, match=r"^--period: "):
        parse_period(text)
