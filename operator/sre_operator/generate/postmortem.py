"""The postmortem draft of an Incident, prefilled with what the operator knows. Pure."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sre_operator.generate.markdown import render
from sre_operator.generate.names import PLAN_LABEL
from sre_operator.models.assumptions import slo_window
from sre_operator.models.base import API_GROUP
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.timestamps import parse_rfc3339

INCIDENT_LABEL = f"{API_GROUP}/incident"


def _when(text: str) -> datetime.datetime | None:
    return parse_rfc3339(text) if text else None


def _duration(start: datetime.datetime | None, end: datetime.datetime | None) -> str:
    if start is None or end is None:
        return "unknown"
    minutes = round((end - start).total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def postmortem_markdown(plan: ServiceReliabilityPlan, incident: Mapping[str, Any]) -> str:
    spec, status = incident.get("spec") or {}, incident.get("status") or {}
    slos = list(status.get("slos") or [])
    journeys = sorted({s.journey for s in plan.spec.slos if s.name in slos and s.journey})
    consumed = sorted((status.get("budgetConsumed") or {}).items())
    alerts = sorted(status.get("alerts") or [], key=lambda a: a.get("startsAt", ""))
    started, resolved = _when(status.get("startedAt", "")), _when(status.get("resolvedAt", ""))
    notified = _when(status.get("notifiedAt", ""))
    paged = (
        f"the operator's receiver at {status['notifiedAt']}, {_duration(started, notified)} after the alert started"
        if notified
        else "unknown"
    )
    reason = status.get("postmortemReason", "")
    return render(
        "postmortem.md.j2",
        title=spec.get("summary") or incident["metadata"]["name"],
        incident=incident["metadata"]["name"],
        plan=plan.metadata.name,
        service=plan.spec.service.name,
        namespace=plan.metadata.namespace,
        reason=reason or "required",
        summary=spec.get("summary") or "To be filled in.",
        duration=_duration(started, resolved),
        started=status.get("startedAt", ""),
        resolved=status.get("resolvedAt", ""),
        severity=spec.get("severity") or "not set",
        consumed=[(slo, f"{share:.2%}") for slo, share in consumed],
        window_of={s.name: slo_window(s) for s in plan.spec.slos},
        journeys=", ".join(journeys) or "none named in the plan",
        first_alert=alerts[0].get("alertname", "") if alerts else "unknown",
        paged=paged,
        timeline=status.get("timeline") or [],
        needs_p0="outage rule" in reason,
    )


def postmortem_config_map(plan: ServiceReliabilityPlan, incident: Mapping[str, Any]) -> dict[str, Any]:
    """A ConfigMap ``<incident>-postmortem`` owned by the Incident (not by the plan: it outlives plan edits)."""
    metadata = incident["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{metadata['name']}-postmortem"[:253],
            "namespace": metadata["namespace"],
            "labels": {PLAN_LABEL: plan.metadata.name, INCIDENT_LABEL: metadata["name"]},
            "ownerReferences": [
                {
                    "apiVersion": incident.get("apiVersion", f"{API_GROUP}/v1alpha1"),
                    "kind": "Incident",
                    "name": metadata["name"],
                    "uid": metadata.get("uid", ""),
                }
            ],
        },
        "data": {"postmortem.md": postmortem_markdown(plan, incident)},
    }
