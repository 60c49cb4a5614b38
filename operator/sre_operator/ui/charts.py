"""The SLO page's charts as SVG coordinates (drawn by the template, so every label is escaped): the remaining
budget against the ideal line (spending exactly the budget by the window's end), and the SLI against its
objective, with markers where gates changed state, overrides started and ended and releases were judged."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720.0, 240.0, 48.0, 12.0, 12.0, 28.0
LOWEST_SHOWN = -1.0  # below -100% of the budget the line is drawn at the bottom edge
SLI_HEADROOM = 2.0
"""The SLI chart shows down to the objective less twice what it allows (99.7% for 99.9%), or lower to reach
the worst value shown."""


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    kind: str  # gate, override, admission


@dataclass(frozen=True)
class Guide:
    """A horizontal line across the plot, labelled on the left."""

    y: float
    label: str
    strong: bool = False


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    line: str  # polyline points "x,y x,y ..."
    reference: str  # the ideal burn-down, or the objective
    reference_title: str
    guides: tuple[Guide, ...]
    markers: tuple[Marker, ...]
    start_label: str
    end_label: str
    points: int


def _day(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class _Frame:
    start: float
    end: float
    top: float
    bottom: float

    def x(self, moment: float) -> float:
        span = max(self.end - self.start, 1.0)
        return round(LEFT + (min(max(moment, self.start), self.end) - self.start) / span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        clamped = min(self.top, max(self.bottom, value))
        return round(TOP + (self.top - clamped) / max(self.top - self.bottom, 1e-12) * (HEIGHT - TOP - BOTTOM), 1)

    def chart(
        self,
        series: Sequence[tuple[float, float]],
        reference: str,
        reference_title: str,
        guides: Sequence[Guide],
        markers: Sequence[tuple[float, str, str]],
    ) -> Chart:
        line = " ".join(f"{self.x(t)},{self.y(v)}" for t, v in series if self.start <= t <= self.end)
        return Chart(
            width=WIDTH,
            height=HEIGHT,
            line=line,
            reference=reference,
            reference_title=reference_title,
            guides=tuple(guides),
            markers=tuple(Marker(self.x(t), label, kind) for t, label, kind in markers if self.start <= t <= self.end),
            start_label=_day(self.start),
            end_label=_day(self.end),
            points=len(line.split()) if line else 0,
        )


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.6g}%"


def budget_chart(
    history: Sequence[tuple[float, float]], start: float, end: float, markers: Sequence[tuple[float, str, str]] = ()
) -> Chart:
    """``history``: (unix time, remaining budget ratio) pairs; ``markers``: (unix time, label, kind)."""
    frame = _Frame(start, end, 1.0, max(LOWEST_SHOWN, min([0.0, *(v for _, v in history)])))
    guides = [Guide(frame.y(1.0), "100%"), Guide(frame.y(0.0), "0%", strong=True)]
    if frame.bottom < 0:
        guides.append(Guide(frame.y(frame.bottom), f"{frame.bottom * 100:.0f}%"))
    ideal = f"{frame.x(start)},{frame.y(1.0)} {frame.x(end)},{frame.y(0.0)}"
    return frame.chart(history, ideal, "ideal: the budget spent evenly over the window", guides, markers)


def sli_chart(
    history: Sequence[tuple[float, float]],
    objective: float,
    start: float,
    end: float,
    markers: Sequence[tuple[float, str, str]] = (),
) -> Chart:
    """``history``: (unix time, SLI ratio) pairs; ``objective`` as a ratio (0.999)."""
    floor = objective - SLI_HEADROOM * (1.0 - objective)
    frame = _Frame(start, end, 1.0, max(0.0, min([floor, *(v for _, v in history)])))
    guides = (
        Guide(frame.y(1.0), "100%"),
        Guide(frame.y(objective), _percent(objective), strong=True),
        Guide(frame.y(frame.bottom), _percent(frame.bottom)),
    )
    target = f"{frame.x(start)},{frame.y(objective)} {frame.x(end)},{frame.y(objective)}"
    return frame.chart(history, target, f"objective: {_percent(objective)}", guides, markers)


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


def sli_points(
    errors: Sequence[tuple[float, float]], requests: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The SLI of each step: one minus its errors over its requests (steps without requests are left out)."""
    by_time = dict(errors)
    return [(moment, 1.0 - by_time.get(moment, 0.0) / total) for moment, total in sorted(requests) if total > 0]
