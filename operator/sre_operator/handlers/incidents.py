"""Pages become Incidents: the receiver queues Alertmanager's notifications and this worker records them,
one Incident per alert group of a plan, then measures the budget each SLO spent once an incident resolves.

The receiver answers at once; everything here runs in the background, one notification at a time, so two
notifications of one group never race."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from sre_operator.budgets import PrometheusClient, QueryFailed
from sre_operator.generate.names import PLAN_LABEL
from sre_operator.generate.postmortem import postmortem_config_map
from sre_operator.handlers.state import OperatorState, render_options
from sre_operator.incidents import Alert, Notification, incident_name, opens_new_incident, record
from sre_operator.incidents.assess import budget_query, commander, postmortem_requirement, sev_level
from sre_operator.incidents.record import highest_severity
from sre_operator.k8s.client import INCIDENT
from sre_operator.models import API_GROUP, ServiceReliabilityPlan
from sre_operator.status import checked_status
from sre_operator.timestamps import parse_rfc3339

logger = logging.getLogger(__name__)
GROUP_LABEL = f"{API_GROUP}/alert-group"
QUEUE_SIZE = 1_000
MEASURE_RETRY_SECONDS = (2.0, 5.0, 10.0)


@dataclass
class IncidentBook:
    """The latest open Incident of each (namespace, plan, alert group), as last written: repeats of a page cost no
    request. A resolved one is dropped (a later notification of its group lists the group's Incidents once)."""

    latest: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)


def group_label(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()[:16]


def _reference(incident: dict[str, Any]) -> dict[str, str]:
    """The Incident as an Event's involvedObject."""
    return INCIDENT.involved(incident["metadata"])


def by_plan(state: OperatorState, alerts: Sequence[Alert]) -> dict[tuple[str, str], list[Alert]]:
    """The notification's alerts by the plan that covers their namespace and service; others are dropped."""
    found: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        namespace, service = alert.labels.get("namespace", ""), alert.labels.get("service", "")
        plans = state.registry.plans_of_service(namespace, service)
        if not plans:
            logger.info("alert %s (%s/%s) matches no plan", alert.labels.get("alertname"), namespace, service)
            continue
        found.setdefault((namespace, plans[0]), []).append(alert)
    return found


def _group_incidents(state: OperatorState, namespace: str, plan: str, group: str) -> list[dict[str, Any]]:
    """The plan's Incidents of one alert group, as stored (one list request, by label)."""
    return state.cluster.list(INCIDENT, namespace, f"{PLAN_LABEL}={plan},{GROUP_LABEL}={group}")


def _latest(state: OperatorState, book: IncidentBook, namespace: str, plan: str, group: str) -> dict[str, Any] | None:
    key = (namespace, plan, group)
    if key in book.latest:
        return book.latest[key]
    listed = _group_incidents(state, namespace, plan, group)
    if not listed:
        return None
    latest = max(listed, key=lambda i: (i.get("status") or {}).get("startedAt", ""))
    if (latest.get("status") or {}).get("state") != "Resolved":
        book.latest[key] = latest
    return latest


def _new_incident(
    plan: ServiceReliabilityPlan, name: str, group: str, alerts: Sequence[Alert], status: dict[str, Any]
) -> dict[str, Any]:
    worst = highest_severity(a.labels.get("severity", "") for a in alerts)
    summary = next((a.annotations.get("summary", "") for a in alerts if a.annotations.get("summary")), "")
    return {
        "apiVersion": INCIDENT.api_version,
        "kind": "Incident",
        "metadata": {
            "name": name,
            "namespace": plan.metadata.namespace,
            "labels": {PLAN_LABEL: plan.metadata.name, GROUP_LABEL: group},
            "annotations": {f"{API_GROUP}/group-key": status["groupKey"]},
        },
        "spec": {
            "planRef": {"name": plan.metadata.name},
            "severity": sev_level(plan, worst),
            "commander": commander(plan),
            "summary": summary[:1024],
        },
    }


def record_alerts(
    state: OperatorState,
    book: IncidentBook,
    namespace: str,
    plan_name: str,
    group_key: str,
    alerts: Sequence[Alert],
    received_at: datetime.datetime | None = None,
) -> dict[str, Any] | None:
    """Take one plan's alerts of one notification into its Incident; returns the Incident if it changed."""
    known = state.registry.get("ServiceReliabilityPlan", namespace, plan_name)
    if known is None or not isinstance(known.model, ServiceReliabilityPlan):
        return None
    plan = known.model
    group = group_label(group_key)
    latest = _latest(state, book, namespace, plan_name, group)
    previous = (latest or {}).get("status") or None
    if opens_new_incident(previous, alerts):
        recorded = record(None, group_key, alerts, received_at)
        name = incident_name(plan_name, recorded.status["startedAt"], recorded.status["slos"])
        body = _new_incident(plan, name, group, alerts, recorded.status)
        try:
            incident = state.cluster.create(INCIDENT, namespace, body)
        except ApiException as error:
            if error.status != 409:  # 409: recorded before a restart; take it up where it was
                raise
            listed = _group_incidents(state, namespace, plan_name, group)
            incident = next((i for i in listed if i["metadata"]["name"] == name), body)
            recorded = record(incident.get("status") or None, group_key, alerts)
        opened = True
    else:
        assert latest is not None
        incident = latest
        recorded = record(previous, group_key, alerts)
        opened = False
    key = (namespace, plan_name, group)
    if not recorded.changed and not opened:
        return None
    incident = {**incident, "status": recorded.status}
    state.cluster.patch(
        INCIDENT,
        namespace,
        incident["metadata"]["name"],
        {"status": checked_status(INCIDENT.kind, recorded.status)},
        subresource="status",
    )
    if recorded.status.get("state") == "Resolved":
        book.latest.pop(key, None)
    else:
        book.latest[key] = incident
    for event in recorded.new_events:
        state.cluster.post_event(_reference(incident), "Warning" if "firing" in event else "Normal", "Timeline", event)
    return incident


async def _query_with_retries(prometheus: PrometheusClient, query: str) -> list[dict[str, Any]]:
    """A Prometheus that is restarting or busy gets a few more chances before the budget stays unknown."""
    for delay in MEASURE_RETRY_SECONDS:
        try:
            return await prometheus.query(query)
        except QueryFailed as error:
            logger.info("budget query failed (%s); again in %.0fs", error, delay)
            await asyncio.sleep(delay)
    return await prometheus.query(query)


async def measure_budget(state: OperatorState, incident: dict[str, Any]) -> None:
    """Once resolved: the budget each SLO spent over the incident's span, and whether a postmortem is due."""
    status = incident.get("status") or {}
    namespace, name = incident["metadata"]["namespace"], incident["metadata"]["name"]
    plan_name = incident["spec"]["planRef"]["name"]
    known = state.registry.get("ServiceReliabilityPlan", namespace, plan_name)
    if known is None or not isinstance(known.model, ServiceReliabilityPlan):
        return
    plan = known.model
    options = render_options(state.config)
    consumed: dict[str, float] = {}
    prometheus = state.prometheus
    for slo in status.get("slos", []) if prometheus is not None else []:
        query = budget_query(
            plan, slo, parse_rfc3339(status["startedAt"]), parse_rfc3339(status["resolvedAt"]), options
        )
        if query is None or prometheus is None:
            continue
        try:
            result = await _query_with_retries(prometheus, query)
        except QueryFailed as error:  # the severity triggers still apply
            logger.warning("budget spent by incident %s/%s unknown: %s", namespace, name, error)
            consumed.clear()
            break
        if result:
            consumed[slo] = round(float(result[0]["value"][1]), 6)
    policy = state.registry.policy(namespace, plan.spec.release.policy_ref) if plan.spec.release else None
    reason = postmortem_requirement(plan, policy, incident["spec"].get("severity", ""), consumed)
    worst = max(consumed.values(), default=None)
    patch = {
        "budgetConsumed": consumed,
        "budgetSpent": f"{worst:.1%}" if worst is not None else "",
        "postmortemRequired": bool(reason),
        "postmortemReason": reason,
    }
    incident["status"] = {**status, **patch}
    if reason:
        draft = postmortem_config_map(plan, incident)
        await asyncio.to_thread(state.cluster.apply, draft)
        patch["postmortemDraft"] = draft["metadata"]["name"]
        incident["status"]["postmortemDraft"] = draft["metadata"]["name"]
    checked = {"status": checked_status(INCIDENT.kind, patch)}
    await asyncio.to_thread(state.cluster.patch, INCIDENT, namespace, name, checked, subresource="status")
    if reason:
        message = f"Postmortem required ({reason}); draft in ConfigMap {patch['postmortemDraft']}"
        await asyncio.to_thread(
            state.cluster.post_event, _reference(incident), "Warning", "PostmortemRequired", message
        )


async def take_notifications(state: OperatorState, queue: asyncio.Queue[Notification]) -> None:
    book = IncidentBook()
    while True:
        notification = await queue.get()
        received_at = datetime.datetime.now(datetime.UTC)
        state.collector.note_activity()
        try:
            for (namespace, plan_name), alerts in by_plan(state, notification.alerts).items():
                incident = await asyncio.to_thread(
                    record_alerts, state, book, namespace, plan_name, notification.group_key, alerts, received_at
                )
                if incident is not None and incident["status"]["state"] == "Resolved":
                    await measure_budget(state, incident)
        except Exception:  # one bad notification must not stop the worker
            logger.exception("recording notification of group %s failed", notification.group_key)
        finally:
            queue.task_done()


def receiver_queue() -> asyncio.Queue[Notification]:
    return asyncio.Queue(maxsize=QUEUE_SIZE)
