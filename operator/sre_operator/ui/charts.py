"""The SLO page's budget chart as SVG coordinates (drawn by the template, so every label is escaped): the
remaining budget over the rolling window against the ideal line (spending exactly the budget by the window's
end), with markers where gates changed state, rollouts were admitted and overrides end."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720.0, 240.0, 48.0, 12.0, 12.0, 28.0
LOWEST_SHOWN = -1.0  # below -100% the line is drawn at the bottom edge


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    kind: str  # gate, admission, override


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    budget: str  # polyline points "x,y x,y ..."
    ideal: str
    zero_y: float
    top_y: float
    bottom_y: float
    bottom_label: str
    markers: tuple[Marker, ...]
    start_label: str
    end_label: str
    points: int


def _day(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def budget_chart(
    history: Sequence[tuple[float, float]], start: float, end: float, markers: Sequence[tuple[float, str, str]] = ()
) -> Chart:
    """``history``: (unix time, remaining budget ratio) pairs; ``markers``: (unix time, label, kind)."""
    lowest = max(LOWEST_SHOWN, min([0.0, *(v for _, v in history)]))
    span = max(end - start, 1.0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: float) -> float:
        return round(LEFT + (min(max(moment, start), end) - start) / span * inner_w, 1)

    def y(value: float) -> float:
        clamped = min(1.0, max(lowest, value))
        return round(TOP + (1.0 - clamped) / (1.0 - lowest) * inner_h, 1)

    budget = " ".join(f"{x(t)},{y(v)}" for t, v in history if start <= t <= end)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        budget=budget,
        ideal=f"{x(start)},{y(1.0)} {x(end)},{y(0.0)}",
        zero_y=y(0.0),
        top_y=y(1.0),
        bottom_y=y(lowest),
        bottom_label=f"{lowest * 100:.0f}%",
        markers=tuple(Marker(x(t), label, kind) for t, label, kind in markers if start <= t <= end),
        start_label=_day(start),
        end_label=_day(end),
        points=len(budget.split()) if budget else 0,
    )


def month_bounds(now: float) -> tuple[float, float]:
    """The current calendar month in UTC: its first and its last instant (unix seconds)."""
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first.timestamp(), following.timestamp()


def calendar_budget(
    errors: Sequence[tuple[float, float]], requests: Sequence[tuple[float, float]], budget: float
) -> list[tuple[float, float]]:
    """The budget left since the period began, hour by hour: one minus the errors counted so far over the
    requests counted so far, over the budget (traffic-weighted, as the SLO window is). ``errors`` and
    ``requests`` are hourly mean rates at the same instants."""
    by_time = dict(errors)
    spent_errors = spent_requests = 0.0
    found = []
    for moment, rate in sorted(requests):
        spent_requests += rate
        spent_errors += by_time.get(moment, 0.0)
        if spent_requests > 0 and budget > 0:
            found.append((moment, 1.0 - spent_errors / spent_requests / budget))
    return found
