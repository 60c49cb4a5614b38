"""Which replica of a kopf peering is active, by kopf's own rule (table)."""

from __future__ import annotations

import datetime

import pytest

from sre_operator.runtime import Readiness, leads_peering, missing_objects, seniority_priority

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.UTC)


def peer(priority: int, seconds_ago: float, lifetime: int = 15) -> dict[str, object]:
    seen = NOW - datetime.timedelta(seconds=seconds_ago)
    return {"priority": priority, "lifetime": lifetime, "lastseen": seen.isoformat()}


@pytest.mark.parametrize(
    ("status", "leads"),
    [
        ({"me": peer(50, 1)}, True),
        ({"me": peer(50, 1), "other": peer(10, 1)}, True),
        ({"me": peer(50, 1), "other": peer(90, 1)}, False),
        ({"me": peer(50, 1), "other": peer(50, 1)}, False),  # kopf pauses both of an equal priority
        ({"me": peer(50, 1), "other": peer(90, 20)}, True),  # the higher one's lifetime ran out: it is dead
        ({"other": peer(10, 1)}, False),  # not joined yet
        ({"me": peer(50, 30)}, False),  # its own entry expired: kopf cannot reach the API server
        ({"me": peer(50, 1), "broken": "x", "other": {"priority": 99, "lastseen": "not a time"}}, True),
        ({}, False),
    ],
)
def test_the_active_replica(status: dict[str, object], leads: bool) -> None:
    assert leads_peering(status, "me", 50, NOW) is leads


def test_the_oldest_replica_outranks_every_later_one() -> None:
    started = int(NOW.timestamp() * 1000)
    active = seniority_priority(started, 999)
    replacement = seniority_priority(started + 1, 0)  # one millisecond younger, the best draw
    assert active > replacement > 0
    status = {"active": peer(active, 1), "replacement": peer(replacement, 1)}
    assert leads_peering(status, "active", active, NOW)
    assert not leads_peering(status, "replacement", replacement, NOW)
    # Started in the same millisecond: the draw decides, and kopf would pause both only on an equal draw.
    assert seniority_priority(started, 3) != seniority_priority(started, 4)


def test_readiness_needs_the_lead_and_every_gate_loaded() -> None:
    readiness = Readiness()
    assert readiness.ready() == (False, "starting: the gates are not loaded yet")
    readiness.leader = True
    assert not readiness.ready()[0]
    readiness.loaded = True
    assert readiness.ready() == (True, "ok")
    readiness.lose_leadership("standby: another replica is active")
    assert readiness.ready() == (False, "standby: another replica is active")
    assert missing_objects({("ReleaseGate", "a", "b"), ("ReleaseGate", "a", "c")}, [("ReleaseGate", "a", "b")]) == [
        ("ReleaseGate", "a", "c")
    ]
