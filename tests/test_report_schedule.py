"""Which reports a plan is due: one on its reporting cadence over every SLO, one per calendar over the SLOs that
follow it, in the calendar's time zone, each for the last period that ended (and settled) before now."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from sre_operator.models import ServiceReliabilityPlan
from sre_operator.reports import scheduled_reports

UTC = datetime.UTC


def plan(reporting: dict[str, Any] | None, calendars: dict[str, dict[str, str]]) -> ServiceReliabilityPlan:
    slos = [
        {
            "name": name,
            "objective": 99.9,
            "indicator": {"ratio": {"errors": "e_total", "total": "t_total"}},
            **({"calendar": calendars[name]} if name in calendars else {}),
        }
        for name in ("availability", "latency", "freshness")
    ]
    spec: dict[str, Any] = {"service": {"name": "api", "owner": {"team": "t"}}, "slos": slos}
    if reporting is not None:
        spec["reporting"] = reporting
    return ServiceReliabilityPlan.model_validate(
        {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ServiceReliabilityPlan",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": spec,
        }
    )


BERLIN_MONTH = {"period": "month", "timeZone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("reporting", "calendars", "now", "expected"),
    [
        (None, {}, datetime.datetime(2026, 11, 26, 12, tzinfo=UTC), []),
        (
            {"cadence": "weekly"}, {}, datetime.datetime(2026, 11, 23, 0, 10, tzinfo=UTC),
            [("weekly", "2026-W47", ("availability", "latency", "freshness"))],
        ),
        # Five minutes after a week ends, its last hourly mean may not be recorded yet: the week before.
        (
            {"cadence": "weekly"}, {}, datetime.datetime(2026, 11, 23, 0, 4, tzinfo=UTC),
            [("weekly", "2026-W46", ("availability", "latency", "freshness"))],
        ),
        # Berlin's November ends at 23:00 UTC: a UTC calendar would still be in November.
        (
            None, {"latency": BERLIN_MONTH}, datetime.datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
            [("calendar-month-europe-berlin", "2026-11", ("latency",))],
        ),
        (
            {"cadence": "monthly"},
            {"latency": BERLIN_MONTH, "freshness": BERLIN_MONTH, "availability": {"period": "quarter"}},
            datetime.datetime(2026, 11, 26, tzinfo=UTC),
            [
                ("monthly", "2026-10", ("availability", "latency", "freshness")),
                ("calendar-month-europe-berlin", "2026-10", ("latency", "freshness")),
                ("calendar-quarter-utc", "2026-Q3", ("availability",)),
            ],
        ),
    ],
)  # fmt: skip
def test_reports_due(
    reporting: dict[str, Any] | None,
    calendars: dict[str, dict[str, str]],
    now: datetime.datetime,
    expected: list[tuple[str, str, tuple[str, ...]]],
) -> None:
    due = scheduled_reports(plan(reporting, calendars), now)
    assert [(r.name, r.period.label, r.slos) for r in due] == expected


def test_a_calendar_period_starts_at_local_midnight() -> None:
    (report,) = scheduled_reports(plan(None, {"latency": BERLIN_MONTH}), datetime.datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert report.period.start == datetime.datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert report.period.end == datetime.datetime(2026, 11, 30, 23, tzinfo=UTC)
