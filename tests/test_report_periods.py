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


@pytest.mark.parametrize(
    ("cadence", "today", "label", "hours"),
    [
        ("daily", datetime.date(2026, 11, 26), "2026-11-25", 24),
        ("weekly", datetime.date(2026, 11, 26), "2026-W47", 168),
        ("weekly", datetime.date(2027, 1, 4), "2026-W53", 168),  # 2026 has 53 ISO weeks
        ("biweekly", datetime.date(2026, 11, 26), "2026-W46/2026-W47", 336),
        ("monthly", datetime.date(2026, 11, 26), "2026-10", 744),
        ("monthly", datetime.date(2026, 1, 1), "2025-12", 744),
        ("quarterly", datetime.date(2026, 11, 26), "2026-Q3", 2208),
        ("quarterly", datetime.date(2027, 1, 2), "2026-Q4", 2208),
    ],
)
def test_the_last_complete_period_of_a_cadence(cadence: str, today: datetime.date, label: str, hours: int) -> None:
    assert last_complete(cadence, today) == label
    assert parse_period(label).hours == hours


def test_a_quarter_a_day_and_a_range() -> None:
    assert parse_period("2026-Q4").end == datetime.datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_period("2026-02-28").end == datetime.datetime(2026, 3, 1, tzinfo=UTC)
    weeks = parse_period("2026-W52/2027-W01")
    assert (weeks.start, weeks.end) == (
        datetime.datetime(2026, 12, 21, tzinfo=UTC), datetime.datetime(2027, 1, 11, tzinfo=UTC),
    )  # fmt: skip


def test_a_berlin_month_has_an_hour_more_when_summer_time_ends() -> None:
    assert parse_period("2026-10", "Europe/Berlin").hours == 745
    assert parse_period("2026-03", "Europe/Berlin").hours == 743


@pytest.mark.parametrize("text", ["2026-13", "last week", "2026-W", "", "2026-Q5", "2026-02-30", "2026-W47/2026-W46"])
def test_a_bad_period_is_one_line_naming_the_flag(text: str) -> None:
    with pytest.raises(ValueError, match=r"^--period: "):
        parse_period(text)
