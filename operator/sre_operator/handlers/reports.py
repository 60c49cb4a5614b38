"""Reliability reports on each plan's reporting.cadence and calendars: every ``--report-interval`` seconds,
the reports whose period has ended and that status.reports does not list yet are read from Prometheus,
written to the ConfigMap ``<plan>-reports`` and announced. A plan whose reports are current costs nothing."""

from __future__ import annotations

import asyncio
import datetime
import logging

from kubernetes.client.exceptions import ApiException

from sre_operator.budgets import QueryFailed
from sre_operator.budgets.periods import period_report
from sre_operator.handlers.state import OperatorState, render_options
from sre_operator.k8s.client import INCIDENT, PLAN
from sre_operator.models import ServiceReliabilityPlan
from sre_operator.registry import Known
from sre_operator.reports import IncidentSummary, ReportContext, plan_incidents, report_config_map, scheduled_reports
from sre_operator.status import checked_status, now_rfc3339

logger = logging.getLogger(__name__)


def _incidents(state: OperatorState, known: Known) -> list[IncidentSummary]:
    """Listed when a report is due (rarely), so a report written just after a restart misses none."""
    return plan_incidents(state.cluster.list(INCIDENT, known.namespace), known.namespace, known.name)


async def write_due_reports(
    state: OperatorState, known: Known, plan: ServiceReliabilityPlan, now: datetime.datetime
) -> None:
    schedule = scheduled_reports(plan, now)
    written = {str(r.get("name")): str(r.get("period")) for r in known.status.get("reports") or []}
    if state.prometheus is None or all(written.get(s.name) == s.period.label for s in schedule):
        return
    policy = state.registry.policy(known.namespace, plan.spec.release.policy_ref) if plan.spec.release else None
    review = ReportContext(
        now.date(), policy.spec.review_by if policy else None, await asyncio.to_thread(_incidents, state, known)
    )
    options = render_options(state.config)
    texts = {s.name: await period_report(state.prometheus, plan, s.period, review, options, s.slos) for s in schedule}
    config_map = report_config_map(plan, known.uid, texts)
    await asyncio.to_thread(state.cluster.apply, config_map)
    at, name = now_rfc3339(), config_map["metadata"]["name"]
    reports = [{"name": s.name, "period": s.period.label, "configMap": name, "writtenAt": at} for s in schedule]
    patch = {"status": checked_status(PLAN.kind, {"reports": reports})}
    await asyncio.to_thread(state.cluster.patch, PLAN, known.namespace, known.name, patch, subresource="status")
    new = ", ".join(f"{s.name} {s.period.label}" for s in schedule if written.get(s.name) != s.period.label)
    message = f"Reliability report written to ConfigMap {name}: {new}"
    await asyncio.to_thread(state.cluster.post_event, known.reference, "Normal", "ReportWritten", message)


async def write_reports(state: OperatorState) -> None:
    state.collector.note_activity()
    now = datetime.datetime.now(datetime.UTC)
    for known, plan in list(state.registry.plans()):
        try:
            await write_due_reports(state, known, plan, now)
        except QueryFailed as error:
            logger.warning("report of plan %s/%s not written: %s", known.namespace, known.name, error)
        except ApiException as error:
            logger.warning(
                "report of plan %s/%s not written: %s %s", known.namespace, known.name, error.status, error.reason
            )
