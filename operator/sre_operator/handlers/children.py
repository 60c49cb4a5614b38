"""A watched child changed: if someone else's edit or delete left it unlike what its plan wants, write that
one child back (or delete it, when it is labelled as the plan's but the plan does not generate it). The
operator's own writes are recognised by their resourceVersion and cost nothing."""

from __future__ import annotations

import logging
from typing import Any

from sre_operator.generate.names import PLAN_LABEL
from sre_operator.handlers.plans import owned_children
from sre_operator.handlers.state import OperatorState
from sre_operator.k8s import differs
from sre_operator.k8s.children import write_child
from sre_operator.k8s.client import PLAN, kind_of
from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.registry import Known

logger = logging.getLogger(__name__)
PLAN_KIND = "ServiceReliabilityPlan"


def _wanted(children: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    return next((c for c in children if c["kind"] == kind and c["metadata"]["name"] == name), None)


def child_changed(state: OperatorState, event_type: str, child: dict[str, Any]) -> None:
    state.collector.note_activity()
    meta = child.get("metadata") or {}
    kind, namespace, name = str(child.get("kind")), str(meta.get("namespace")), str(meta.get("name"))
    deleted = event_type == "DELETED"
    if deleted:
        state.cluster.forget(kind, namespace, name)
    elif state.cluster.wrote(kind, namespace, name, str(meta.get("resourceVersion", ""))):
        return  # the operator's own write
    plan_name = (meta.get("labels") or {}).get(PLAN_LABEL)
    known = state.registry.get(PLAN_KIND, namespace, plan_name) if plan_name else None
    if known is None or not isinstance(known.model, ServiceReliabilityPlan):
        return  # no plan, or an invalid one: what was generated from the last good spec stays as it is
    owner = {"apiVersion": PLAN.api_version, "kind": PLAN_KIND, "metadata": {"name": known.name, "uid": known.uid}}
    wanted = _wanted(owned_children(state, known.model, owner), kind, name)
    if deleted and wanted is None:
        return  # the plan no longer generates it
    if wanted is not None and not deleted and not differs(child, wanted):
        return  # a change to fields nobody owns
    # Before writing, the plan as stored now: the watch of plans may not have delivered its latest edit yet.
    current = state.cluster.get(PLAN, namespace, known.name)
    if current is None or current["metadata"].get("deletionTimestamp"):
        return
    parsed = parse_document(current)
    if not isinstance(parsed.model, ServiceReliabilityPlan):
        return
    wanted = _wanted(owned_children(state, parsed.model, current), kind, name)
    if wanted is None:
        if not deleted:  # labelled as this plan's, but not what it generates: a stray
            state.cluster.delete(kind_of(child), namespace, name)
            _announce(state, known, "Deleted", kind, name)
        return
    if not deleted and not differs(child, wanted):
        return
    write_child(state.cluster, wanted)
    _announce(state, known, "Restored" if deleted else "Repaired", kind, name)


def _announce(state: OperatorState, plan: Known, reason: str, kind: str, name: str) -> None:
    logger.info("%s %s %s/%s of plan %s", reason, kind, plan.namespace, name, plan.name)
    state.cluster.post_event(plan.reference, "Normal", reason, f"{reason} {kind} {name}")


def children_resynced(state: OperatorState, kind: str, listed: list[dict[str, Any]]) -> None:
    """After a gap in the watch of ``kind`` (410 Gone: the server forgot where it stood, as after its restart):
    every listed child, and every child of that kind a plan wants but the list lacks, is looked at as if its
    change had been seen, so a deletion or edit made during the gap is repaired all the same."""
    present = {(str(c["metadata"].get("namespace")), str(c["metadata"].get("name"))) for c in listed}
    missing = []
    for known, plan in list(state.registry.plans()):
        owner = {"apiVersion": PLAN.api_version, "kind": PLAN_KIND, "metadata": {"name": known.name, "uid": known.uid}}
        for wanted in owned_children(state, plan, owner):
            key = (str(wanted["metadata"]["namespace"]), str(wanted["metadata"]["name"]))
            if wanted["kind"] == kind and key not in present:
                missing.append(wanted)
    logger.info("after a gap in the watch of %s: %d listed, %d missing", kind, len(listed), len(missing))
    for child in missing:
        child_changed(state, "DELETED", child)
    for child in listed:
        child_changed(state, "MODIFIED", child)
