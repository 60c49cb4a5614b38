"""Which reports a plan is due (pure): one on its ``reporting.cadence`` over all its SLOs, and one per calendar
(``slos[].calendar``: period and time zone) over the SLOs that follow it, each for the last complete period."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.reports.period import Period, last_complete, parse_period

# The hourly mean of a period's last hour is recorded in the first minute after it: wait for it.
SETTLE = datetime.timedelta(minutes=5)
CALENDAR_CADENCE = {"week": "weekly", "month": "monthly", "quarter": "quarterly"}


@dataclass(frozen=True)
class ScheduledReport:
    name: str  # the report's key in the ConfigMap, without ".md"
    title: str
    period: Period
    slos: tuple[str, ...]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scheduled_reports(plan: ServiceReliabilityPlan, now: datetime.datetime) -> list[ScheduledReport]:
    settled = now - SETTLE
    found: list[ScheduledReport] = []
    if plan.spec.reporting is not None:
        cadence = plan.spec.reporting.cadence
        label = last_complete(cadence, settled.astimezone(datetime.UTC).date())
        found.append(
            ScheduledReport(cadence, f"{cadence} report", parse_period(label), tuple(s.name for s in plan.spec.slos))
        )
    calendars: dict[tuple[str, str], list[str]] = {}
    for slo in plan.spec.slos:
        if slo.calendar is not None:
            calendars.setdefault((slo.calendar.period, slo.calendar.time_zone), []).append(slo.name)
    for (period, zone), slos in sorted(calendars.items()):
        local_today = settled.astimezone(zoneinfo.ZoneInfo(zone)).date()
        label = last_complete(CALENDAR_CADENCE[period], local_today)
        found.append(
            ScheduledReport(
                f"calendar-{period}-{_slug(zone)}",
                f"calendar {period} ({zone})",
                parse_period(label, zone),
                tuple(slos),
            )
        )
    return found
