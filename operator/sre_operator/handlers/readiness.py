"""The readiness duty: is this replica the active one, and has it loaded every gate since it became so?

Every second: with peering, the peering object says who is active (kopf's own rule); a replica that just
became active lists every plan, policy and gate (metadata only), drops from memory what is no longer
there, waits until kopf's watches have brought it each listed object, asks for a decision cycle and is
ready once that cycle has decided every listed gate. Until then it answers neither admission nor the gate
API (``runtime.readiness``).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time

from sre_operator.handlers.state import OperatorState
from sre_operator.k8s.client import GATE, PLAN, POLICY
from sre_operator.models import ReleaseGate
from sre_operator.runtime import STANDBY, leads_peering, missing_objects

logger = logging.getLogger(__name__)
LOADED_KINDS = {"ServiceReliabilityPlan": PLAN, "ErrorBudgetPolicy": POLICY, "ReleaseGate": GATE}
LIST_AGAIN_SECONDS = 10.0
"""An object listed but not seen by then may have been deleted in between: list again."""


def _leads(state: OperatorState) -> bool:
    """One read of each peering object this replica takes part in (kopf's: cluster-wide, or one per namespace),
    created if it is missing."""
    now = datetime.datetime.now(datetime.UTC)
    namespaces = state.config.namespaces
    objects = [state.cluster.peering(state.peering, namespace) for namespace in namespaces or [None]]
    return all(leads_peering(found.get("status") or {}, state.identity, state.priority, now) for found in objects)


def _listed(state: OperatorState) -> set[tuple[str, str, str]]:
    namespaces = state.config.namespaces
    return {
        (kind, namespace, name)
        for kind, resource in LOADED_KINDS.items()
        for namespace, name in state.cluster.list_keys(resource, namespaces)
    }


class _Loading:
    """Where loading stands since this replica last became active."""

    def __init__(self) -> None:
        self.listed: set[tuple[str, str, str]] | None = None
        self.listed_at = 0.0
        self.complete_at_cycle: int | None = None


async def readiness_cycle(state: OperatorState) -> None:
    readiness = state.readiness
    if not isinstance(state.loading, _Loading):
        state.loading = _Loading()
    loading: _Loading = state.loading
    if state.peering:
        leads = await asyncio.to_thread(_leads, state)
        if not leads:
            if readiness.reason != STANDBY:  # once per change, at start too
                logger.info("standing by: another replica of peering %s is active", state.peering)
            readiness.lose_leadership(STANDBY)
            state.loading = _Loading()
            return
        if not readiness.leader:
            logger.info("this replica is now the active one of peering %s: loading every gate", state.peering)
            readiness.leader = True
            readiness.reason = "active: loading every plan, policy and gate"
    if readiness.loaded:
        return
    if loading.listed is None or time.monotonic() - loading.listed_at > LIST_AGAIN_SECONDS:
        listed = await asyncio.to_thread(_listed, state)
        dropped = state.registry.forget_missing(tuple(LOADED_KINDS), listed)
        if dropped:
            logger.info("forgot %d object(s) deleted while this replica was not watching", dropped)
        loading.listed, loading.listed_at = listed, time.monotonic()
        loading.complete_at_cycle = None
    missing = missing_objects(loading.listed, state.registry.keys(tuple(LOADED_KINDS)))
    if missing:
        readiness.reason = f"loading: {len(missing)} of {len(loading.listed)} listed objects not seen yet"
        return
    if loading.complete_at_cycle is None:
        loading.complete_at_cycle = state.cycles
        state.wake.set()
        readiness.reason = "loading: waiting for a decision cycle over every gate"
        return
    if state.cycles <= loading.complete_at_cycle:
        return
    undecided = [
        key
        for key in loading.listed
        if key[0] == "ReleaseGate"
        and isinstance((known := state.registry.get(*key)) and known.model, ReleaseGate)
        and state.book.get(key[1], key[2]) is None
    ]
    if undecided:
        loading.complete_at_cycle = state.cycles
        state.wake.set()
        return
    readiness.loaded = True
    readiness.reason = "ok"
    logger.info("ready: %d gate(s) decided", len(state.book))
