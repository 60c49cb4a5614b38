"""Workloads in the cluster: earlier revisions (for rollbacks), pausing them while frozen, and what the capacity
checks read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sre_operator.capacity import Found
from sre_operator.gates.admission import targets_workload
from sre_operator.k8s.client import AUTOSCALER, CONTROLLER_REVISION, DISRUPTION_BUDGET, REPLICA_SET, WORKLOADS, Cluster
from sre_operator.models.base import API_GROUP
from sre_operator.models.gate import Target
from sre_operator.models.plan import WorkloadRef

PAUSED_BY = f"{API_GROUP}/paused-by"


def _selector(obj: Mapping[str, Any]) -> str:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _owned_by(item: Mapping[str, Any], uid: str) -> bool:
    return any(o.get("uid") == uid for o in (item.get("metadata") or {}).get("ownerReferences") or [])


def earlier_templates(cluster: Cluster, request: Mapping[str, Any]) -> list[Any]:
    """Pod templates of the workload's existing revisions: ReplicaSets (Deployments, Rollouts) or
    ControllerRevisions (StatefulSets, DaemonSets)."""
    old = request.get("oldObject") or {}
    metadata = old.get("metadata") or {}
    uid, namespace = metadata.get("uid", ""), str(request.get("namespace") or metadata.get("namespace") or "")
    kind = (request.get("kind") or {}).get("kind")
    if not uid or not namespace:
        return []
    if kind in ("Deployment", "Rollout"):
        return [
            (rs.get("spec") or {}).get("template")
            for rs in cluster.list(REPLICA_SET, namespace, _selector(old))
            if _owned_by(rs, uid)
        ]
    templates = []
    for revision in cluster.list(CONTROLLER_REVISION, namespace, _selector(old)):
        if _owned_by(revision, uid):
            template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
            template.pop("$patch", None)
            templates.append(template)
    return templates


def _pausable_targets(cluster: Cluster, namespace: str, targets: Sequence[Target]) -> list[tuple[Any, dict[str, Any]]]:
    found = []
    for (group, kind_name), kind in WORKLOADS.items():
        if kind_name not in ("Deployment", "Rollout"):
            continue  # only these two have spec.paused
        wanted = [t for t in targets if t.kind == kind_name]
        if not wanted:
            continue
        for item in cluster.list(kind, namespace):
            meta = item.get("metadata") or {}
            if any(
                targets_workload(t, group, kind_name, meta.get("name", ""), meta.get("labels") or {}) for t in wanted
            ):
                found.append((kind, item))
    return found


def pause_targets(cluster: Cluster, namespace: str, gate: str, targets: Sequence[Target]) -> list[str]:
    """Pause every targeted Deployment and Rollout not paused already; returns what this gate holds paused."""
    held = []
    for kind, item in _pausable_targets(cluster, namespace, targets):
        meta, spec = item["metadata"], item.get("spec") or {}
        ours = (meta.get("annotations") or {}).get(PAUSED_BY) == gate
        if spec.get("paused") and not ours:
            continue  # paused by someone else: theirs to resume
        if not ours:
            cluster.patch(
                kind,
                namespace,
                meta["name"],
                {"metadata": {"annotations": {PAUSED_BY: gate}}, "spec": {"paused": True}},
            )
        held.append(f"{kind.kind}/{meta['name']}")
    return held


def resume_targets(cluster: Cluster, namespace: str, gate: str, targets: Sequence[Target]) -> list[str]:
    """Resume what this gate paused (and nothing else); returns what was resumed."""
    resumed = []
    for kind, item in _pausable_targets(cluster, namespace, targets):
        meta = item["metadata"]
        if (meta.get("annotations") or {}).get(PAUSED_BY) != gate:
            continue
        cluster.patch(
            kind, namespace, meta["name"], {"metadata": {"annotations": {PAUSED_BY: None}}, "spec": {"paused": False}}
        )
        resumed.append(f"{kind.kind}/{meta['name']}")
    return resumed


def capacity_inventory(cluster: Cluster, namespace: str, refs: Sequence[WorkloadRef], with_budgets: bool) -> Found:
    """The namespace's workloads of the kinds ``refs`` name, its autoscalers and (if asked) disruption budgets:
    one list request per kind."""
    workloads: dict[tuple[str, str], dict[str, Any]] = {}
    for kind_name in sorted({ref.kind for ref in refs}):
        kind = next(k for (_, name), k in WORKLOADS.items() if name == kind_name)
        for item in cluster.list(kind, namespace):
            workloads[(kind_name, item["metadata"]["name"])] = item
    return Found(
        workloads,
        cluster.list(AUTOSCALER, namespace),
        cluster.list(DISRUPTION_BUDGET, namespace) if with_budgets else [],
    )
