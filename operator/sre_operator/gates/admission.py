"""Whether a change to a workload may pass its release gates: the admission webhook's decision. Pure.

A freeze holds *releases*: changes to what a workload runs, its pod template.
It lets through what keeps a service alive or is not a release at all:
scaling, ``kubectl rollout restart`` (only the ``restartedAt`` annotation of
the template changes), a rollback to the template of one of the workload's
existing revisions, a workload created where none ran (unless the policy says
``exceptions.newWorkloads: false``), changes that set the ``reliability.dev/change-class``
annotation to one of the policy's exceptions (``hotfix``, or ``hotfix:INC-124``
to claim it again later), and anything while an override is active. A dry-run request is judged exactly like a real one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sre_operator.models.base import API_GROUP
from sre_operator.models.gate import Target

CHANGE_CLASS_ANNOTATION = f"{API_GROUP}/change-class"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
REVISION_LABELS = ("pod-template-hash", "controller-revision-hash", "rollouts-pod-template-hash")

Outcome = Literal["admitted", "denied", "exception", "override", "dry-run"]


@dataclass(frozen=True)
class GateView:
    """What admission needs of one gate, from the operator's cached decision."""

    namespace: str
    name: str
    targets: tuple[Target, ...]
    state: str
    reason: str
    allowed: bool
    dry_run: bool = False
    admission: bool = True
    override_active: bool = False
    change_classes: tuple[str, ...] = ()
    new_workloads: bool = True

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Record:
    """A decision worth keeping: on the gate's Events, metrics and ``status.lastDecisions``."""

    gate: GateView
    outcome: Outcome
    message: str


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""
    warnings: tuple[str, ...] = ()
    records: tuple[Record, ...] = field(default_factory=tuple)
    gates: tuple[GateView, ...] = ()
    """The gates that target the workload."""


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def targets_workload(target: Target, group: str, kind: str, name: str, labels: Mapping[str, str]) -> bool:
    if target.kind != kind or _group(target.api_version) != group:
        return False
    if target.name is not None:
        return target.name == name
    assert target.selector is not None
    wanted = target.selector.match_labels
    return all(labels.get(k) == v for k, v in wanted.items())


def normalised_template(template: Any) -> Any:
    """A pod template without what differs between revisions but is no release (restart stamp, revision hashes)."""
    if not isinstance(template, dict):
        return template
    result = copy.deepcopy(template)
    metadata = result.get("metadata") or {}
    annotations = dict(metadata.get("annotations") or {})
    annotations.pop(RESTARTED_AT_ANNOTATION, None)
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k not in REVISION_LABELS}
    metadata = {k: v for k, v in metadata.items() if k not in ("annotations", "labels", "creationTimestamp")}
    if annotations:
        metadata["annotations"] = annotations
    if labels:
        metadata["labels"] = labels
    result["metadata"] = metadata
    return result


def change_class_of(new: Mapping[str, Any], old: Mapping[str, Any]) -> str:
    """The change class this request claims: set (or changed) by the request itself, so a class left on a
    workload does not wave every later change through. ``hotfix`` and ``hotfix:INC-124`` both claim ``hotfix``."""

    def annotation(obj: Mapping[str, Any]) -> str:
        return str(((obj.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CLASS_ANNOTATION, ""))

    claimed = annotation(new)
    if not claimed or claimed == annotation(old):
        return ""
    return claimed.partition(":")[0].strip()


def _template(obj: Mapping[str, Any] | None) -> Any:
    return ((obj or {}).get("spec") or {}).get("template")


def judge(
    request: Mapping[str, Any],
    gates: Sequence[GateView],
    earlier_templates: Callable[[], Sequence[Any]] = lambda: (),
) -> Verdict:
    """The verdict on one AdmissionReview ``request``.

    ``gates`` are the gates of the request's namespace; ``earlier_templates`` is
    called only when a frozen gate would otherwise deny, to recognise a rollback.
    """
    kind = request.get("kind") or {}
    group, kind_name = str(kind.get("group", "")), str(kind.get("kind", ""))
    new = request.get("object") or {}
    old = request.get("oldObject") or {}
    metadata = new.get("metadata") or {}
    name = str(request.get("name") or metadata.get("name") or "")
    labels = {**((old.get("metadata") or {}).get("labels") or {}), **(metadata.get("labels") or {})}
    matching = [
        g for g in gates if g.admission and any(targets_workload(t, group, kind_name, name, labels) for t in g.targets)
    ]
    if not matching:
        return Verdict(True)
    operation = request.get("operation")
    what = f"{kind_name} {name}"
    if operation == "UPDATE" and normalised_template(_template(new)) == normalised_template(_template(old)):
        return Verdict(True, gates=tuple(matching))  # scaling, a restart, metadata: not a release
    change_class = change_class_of(new, old)
    allowed, denials, warnings, records = True, [], [], []
    rollback: bool | None = None
    for gate in matching:
        if gate.state != "Frozen":
            records.append(Record(gate, "admitted", f"{what} admitted: the gate is {gate.state}"))
            continue
        if gate.override_active:
            records.append(Record(gate, "override", f"{what} admitted: an override is active"))
            continue
        if operation == "CREATE" and gate.new_workloads:
            continue
        if change_class and change_class in gate.change_classes:
            records.append(Record(gate, "exception", f"{what} admitted as change class {change_class!r}"))
            warnings.append(f"release gate {gate.key} is frozen; admitted as change class {change_class!r}")
            continue
        if operation == "UPDATE":
            if rollback is None:
                wanted = normalised_template(_template(new))
                rollback = any(normalised_template(t) == wanted for t in earlier_templates())
            if rollback:
                records.append(Record(gate, "exception", f"{what} admitted: rollback to an earlier revision"))
                continue
        if gate.dry_run:
            message = f"release gate {gate.key} would block this change (dry run): {gate.reason}"
            warnings.append(message)
            records.append(Record(gate, "dry-run", f"{what} would be denied: {gate.reason}"))
            continue
        allowed = False
        exceptions = ", ".join(gate.change_classes) or "none"
        denials.append(
            f"release gate {gate.key}: {gate.reason}. Still admitted: scaling, rollout restart, rollback to an "
            f"earlier revision, a change that sets annotation {CHANGE_CLASS_ANNOTATION} to one of [{exceptions}], or "
            "an override on the gate"
        )
        records.append(Record(gate, "denied", f"{what} denied: {gate.reason}"))
    return Verdict(allowed, "; ".join(denials), tuple(warnings), tuple(records), tuple(matching))
