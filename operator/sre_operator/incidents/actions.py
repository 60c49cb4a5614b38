"""Corrective actions of a plan (``spec.postmortem.correctiveActions``): what is open and overdue, and which
overdue ones to announce today. Pure: the evaluation loop calls it every cycle and writes what changed."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sre_operator.models.plan import CorrectiveAction

PRIORITIES = ("P0", "P1", "P2", "P3")
# An overdue action is announced when it becomes overdue, then again every week until it is done.
REMINDER_DAYS = 7
DONE = ("done", "wontFix")


@dataclass(frozen=True)
class ActionsReport:
    open: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    overdue_p0: tuple[str, ...] = ()
    # id -> date of the last announcement, kept in status so a restart does not announce again.
    announced: dict[str, str] = field(default_factory=dict)
    announce: tuple[tuple[str, str], ...] = ()  # (id, message) to post as Events now

    def status(self) -> dict[str, object]:
        return {
            "open": self.open,
            "overdue": self.overdue,
            "overdueP0": list(self.overdue_p0),
            "announced": self.announced,
        }


def is_open(action: CorrectiveAction) -> bool:
    return action.status not in DONE


def report(actions: Sequence[CorrectiveAction], today: datetime.date, announced: Mapping[str, str]) -> ActionsReport:
    open_by: dict[str, int] = {}
    overdue_by: dict[str, int] = {}
    overdue_p0: list[str] = []
    still: dict[str, str] = {}
    announce: list[tuple[str, str]] = []
    for action in actions:
        if not is_open(action):
            continue
        open_by[action.priority] = open_by.get(action.priority, 0) + 1
        if action.due is None or action.due >= today:
            continue
        overdue_by[action.priority] = overdue_by.get(action.priority, 0) + 1
        if action.priority == "P0":
            overdue_p0.append(action.id)
        last = announced.get(action.id)
        late = (today - action.due).days
        owner = action.owner or "no owner"
        if last is None:
            announce.append(
                (action.id, f"{action.id} ({action.priority}, {owner}) is overdue: due {action.due}: {action.title}")
            )
            still[action.id] = today.isoformat()
        elif (today - datetime.date.fromisoformat(last)).days >= REMINDER_DAYS:
            announce.append(
                (
                    action.id,
                    f"{action.id} ({action.priority}, {owner}) is still overdue, {late} days after {action.due}: {action.title}",
                )
            )
            still[action.id] = today.isoformat()
        else:
            still[action.id] = last
    order = {p: i for i, p in enumerate(PRIORITIES)}
    return ActionsReport(
        dict(sorted(open_by.items(), key=lambda kv: order[kv[0]])),
        dict(sorted(overdue_by.items(), key=lambda kv: order[kv[0]])),
        tuple(overdue_p0),
        still,
        tuple(announce),
    )
