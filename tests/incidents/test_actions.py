"""Corrective actions: open and overdue by priority, announced once when overdue and weekly after."""

from __future__ import annotations

import datetime

from sre_operator.incidents.actions import report
from sre_operator.models.plan import CorrectiveAction

TODAY = datetime.date(2026, 12, 20)


def action(id: str, priority: str, due: str | None, status: str = "open") -> CorrectiveAction:
    return CorrectiveAction.model_validate(
        {"id": id, "title": f"fix {id}", "owner": "alice", "priority": priority, "due": due, "status": status}
    )


ACTIONS = [
    action("CA-1", "P0", "2026-12-15"),
    action("CA-2", "P1", "2027-01-10"),
    action("CA-3", "P0", "2026-12-25", "inProgress"),
    action("CA-4", "P2", "2026-11-01", "done"),
    action("CA-5", "P2", None),
]


def test_open_and_overdue_are_counted_by_priority() -> None:
    found = report(ACTIONS, TODAY, {})
    assert found.open == {"P0": 2, "P1": 1, "P2": 1}
    assert found.overdue == {"P0": 1}
    assert found.overdue_p0 == ("CA-1",)


def test_a_newly_overdue_action_is_announced_once_then_weekly() -> None:
    first = report(ACTIONS, TODAY, {})
    assert [i for i, _ in first.announce] == ["CA-1"]
    assert "CA-1 (P0, alice) is overdue: due 2026-12-15" in first.announce[0][1]
    assert first.announced == {"CA-1": "2026-12-20"}
    assert report(ACTIONS, TODAY + datetime.timedelta(days=3), first.announced).announce == ()
    later = report(ACTIONS, TODAY + datetime.timedelta(days=7), first.announced)
    assert [m for _, m in later.announce] == [
        "CA-1 (P0, alice) is still overdue, 12 days after 2026-12-15: fix CA-1",
        "CA-3 (P0, alice) is overdue: due 2026-12-25: fix CA-3",  # due in the meantime
    ]


def test_a_done_action_is_no_longer_counted_or_announced() -> None:
    done = [action("CA-1", "P0", "2026-12-15", "done")]
    found = report(done, TODAY, {"CA-1": "2026-12-16"})
    assert (found.open, found.overdue, found.announce, found.announced) == ({}, {}, (), {})
