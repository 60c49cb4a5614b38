"""Make a plan's children match what the generators want: create, patch or delete only what differs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sre_operator.generate.names import PLAN_LABEL
from sre_operator.k8s.client import CHILD_KINDS, Cluster, Kind, kind_of

# Sections of a child that the operator owns whole; anything else someone adds is left alone.
OWNED_SECTIONS = ("spec", "data")


@dataclass
class ChildChanges:
    created: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.created or self.restored or self.updated or self.deleted)


def describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


def covers(actual: Any, desired: Any) -> bool:
    """Whether ``actual`` holds every value of ``desired``: maps may carry extra keys (server defaults),
    lists must match item for item (an added or removed item is drift)."""
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(k in actual and covers(actual[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(desired)
            and all(covers(a, d) for a, d in zip(actual, desired, strict=True))
        )
    return bool(actual == desired)


def differs(actual: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Whether applying ``desired`` would change ``actual`` in anything the operator owns."""
    if actual.get("data", {}) != desired.get("data", {}):
        return True  # ConfigMap data has no server defaults: any extra key is drift
    if not covers(actual.get("spec", {}), desired.get("spec", {})):
        return True
    actual_meta, desired_meta = actual.get("metadata", {}), desired["metadata"]
    for key in ("labels", "annotations"):
        if not covers(actual_meta.get(key) or {}, desired_meta.get(key) or {}):
            return True
    owners = {(o.get("uid"), o.get("controller")) for o in actual_meta.get("ownerReferences") or []}
    return any((o["uid"], o.get("controller")) not in owners for o in desired_meta.get("ownerReferences") or [])


def write_child(cluster: Cluster, child: dict[str, Any]) -> None:
    """Server-side apply; where fields someone else now owns keep it from converging, replace the owned sections."""
    applied = cluster.apply(child)
    if differs(applied, child):
        replacement = {**applied, **{s: child[s] for s in OWNED_SECTIONS if s in child}}
        cluster.replace(replacement)


def sync_children(
    cluster: Cluster,
    namespace: str,
    plan_name: str,
    desired: Iterable[dict[str, Any]],
    kinds: Iterable[Kind] = CHILD_KINDS,
    *,
    was_generated: Iterable[str] = (),
) -> ChildChanges:
    """Apply each desired child that is missing or differs; delete the children the plan generated before
    (``was_generated``, "Kind name") and no longer does, if they still carry its label.

    Each child is read by name: a list by label would make the API server look at every object of the kind
    in the namespace, so a reconcile would cost more with every plan added beside it. A child labelled as
    the plan's that it never generated is the child watches' to delete, when it appears or changes.
    A child missing now that ``was_generated`` names is reported as restored rather than created.
    """
    changes = ChildChanges()
    previously = set(was_generated)
    desired = list(desired)
    for child in desired:
        actual = cluster.get(kind_of(child), namespace, child["metadata"]["name"])
        if actual is None:
            write_child(cluster, child)
            (changes.restored if describe(child) in previously else changes.created).append(describe(child))
        elif differs(actual, child):
            write_child(cluster, child)
            changes.updated.append(describe(child))
    by_kind = {kind.kind: kind for kind in kinds}
    for retired in sorted(previously - {describe(d) for d in desired}):
        kind_name, _, name = retired.partition(" ")
        kind = by_kind.get(kind_name)
        if kind is None:
            continue
        item = cluster.get(kind, namespace, name)
        if item is not None and (item["metadata"].get("labels") or {}).get(PLAN_LABEL) == plan_name:
            cluster.delete(kind, namespace, name)
            changes.deleted.append(retired)
    return changes
