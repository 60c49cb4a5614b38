"""Whether this replica may answer admission and the gate API: ``/readyz`` and the webhook read it.

A replica is ready when it is the active one of its peering (always, when it runs alone) and it has
loaded every gate: it has taken in every plan, policy and gate that the API server listed when it
became active, and a decision cycle has decided each of those gates since. A standby (kopf pauses its
handlers, so it knows nothing current) and a replica still loading are not ready: they stay out of the
Service and answer admission with an error, so the webhook's ``failurePolicy`` decides, never with
``allowed: true``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sre_operator.timestamps import parse_rfc3339

ObjectKey = tuple[str, str, str]
"""(kind, namespace, name)"""


STANDBY = "standby: another replica is active"
SENIORITY_EPOCH_MS = 10**13
"""Milliseconds since 1970 that no replica starts after (the year 2286): priorities stay positive."""
TIEBREAK_RANGE = 1000


def seniority_priority(started_ms: int, tiebreak: int) -> int:
    """A kopf peering priority that ranks replicas by age, the oldest highest, so a replica that joins
    never pauses the active one (which would leave nobody ready while it loads every gate): a standby takes
    over when the active replica goes, and a replacement pod stands by. ``tiebreak`` (0 to 999, drawn at
    random) separates replicas started in the same millisecond, since kopf pauses every replica of an equal
    priority."""
    return (SENIORITY_EPOCH_MS - started_ms) * TIEBREAK_RANGE + tiebreak % TIEBREAK_RANGE


def leads_peering(status: Mapping[str, Any], identity: str, priority: int, now: datetime.datetime) -> bool:
    """Whether the operator ``identity`` of ``priority`` is the active one in a kopf peering object's status.

    The same rule kopf applies before it pauses an operator: any live peer of a higher or the same
    priority pauses it. Its own entry must be there and alive too (kopf writes it at start and keeps it
    alive); until then, it has not joined the peering.
    """
    own_alive = False
    for peer, info in status.items():
        if not isinstance(info, Mapping):
            continue
        alive = _alive(info, now)
        if peer == identity:
            own_alive = alive
        elif alive and int(info.get("priority", 0) or 0) >= priority:
            return False
    return own_alive


def _alive(info: Mapping[str, Any], now: datetime.datetime) -> bool:
    try:
        seen = parse_rfc3339(str(info.get("lastseen", "")))
        lifetime = float(info.get("lifetime", 60))
    except (TypeError, ValueError):
        return False
    return seen + datetime.timedelta(seconds=lifetime) > now


@dataclass
class Readiness:
    leader: bool = False
    loaded: bool = False
    reason: str = "starting: the gates are not loaded yet"
    plans_resumed: bool = False
    """Whether every plan was brought up to date since this replica became the active one."""

    def ready(self) -> tuple[bool, str]:
        if not self.leader:
            return False, self.reason if not self.loaded else STANDBY
        if not self.loaded:
            return False, self.reason
        return True, "ok"

    def lose_leadership(self, why: str) -> None:
        self.leader = False
        self.loaded = False
        self.plans_resumed = False
        self.reason = why


def missing_objects(listed: Iterable[ObjectKey], known: Iterable[ObjectKey]) -> list[ObjectKey]:
    """What the API server listed that the registry does not hold yet."""
    have = set(known)
    return sorted(key for key in listed if key not in have)
