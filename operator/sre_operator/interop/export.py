"""Plans as OpenSLO v1, for teams that keep OpenSLO as their source of truth: a Service per plan, an SLO per SLO
with its SLI inline, and the page and ticket tiers as an AlertPolicy with burn-rate AlertConditions. What
OpenSLO cannot say is reported. Pure."""

from __future__ import annotations

from typing import Any

from sre_operator.interop.common import Dropped
from sre_operator.models import ServiceReliabilityPlan
from sre_operator.models.assumptions import slo_window
from sre_operator.models.plan import Slo
from sre_operator.promql import Matcher, parse_selector
from sre_operator.tiers import TIERS

OPENSLO = "openslo/v1"
# Sections of a plan that OpenSLO has no place for (it describes SLOs and their alerts only).
PLAN_ONLY = ("incident", "capacity", "runbooks", "postmortem", "release", "reporting")


def _source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _indicator(slo: Slo, where: str, dropped: list[Dropped]) -> dict[str, Any] | None:
    indicator = slo.indicator
    if indicator.ratio is not None:
        ratio = indicator.ratio
        spec: dict[str, Any] = {"counter": True, "total": _source(ratio.total)}
        if ratio.errors is not None:
            spec["bad"] = _source(ratio.errors)
        else:
            spec["good"] = _source(str(ratio.good))
        if ratio.group_by:
            dropped.append(
                Dropped(where, "indicator.ratio.groupBy", "OpenSLO ratios have no grouping: one SLO over every series")
            )
        return spec
    if indicator.latency is not None:
        histogram = parse_selector(indicator.latency.histogram)
        bucket = histogram.with_metric(histogram.metric + "_bucket")
        good = bucket.with_matcher(Matcher("le", "=", f"{indicator.latency.threshold:g}")).render()
        if indicator.latency.group_by:
            dropped.append(Dropped(where, "indicator.latency.groupBy", "OpenSLO ratios have no grouping"))
        return {
            "counter": True,
            "good": _source(good),
            "total": _source(histogram.with_metric(histogram.metric + "_count").render()),
        }
    dropped.append(
        Dropped(
            where,
            "indicator.expression",
            "an error-ratio expression over $window has no OpenSLO form (a ratio "
            "of two counters, or one precomputed query at a fixed range): the SLO is left out",
        )
    )
    return None


def _alert_documents(slo: Slo, name: str) -> list[dict[str, Any]]:
    window = slo_window(slo)
    conditions: list[dict[str, Any]] = []
    enabled = [tier for tier in TIERS if (slo.alerting.page if tier.severity == "critical" else slo.alerting.ticket)]
    for tier in enabled:
        conditions.append({
            "apiVersion": OPENSLO, "kind": "AlertCondition",
            "metadata": {"name": f"{name}-{tier.long}-{tier.short}"},
            "spec": {"severity": "page" if tier.severity == "critical" else "ticket", "description":
                     f"burn rate over {tier.long}, confirmed over {tier.short}",
                     "condition": {"kind": "burnrate", "op": "gt", "threshold": round(tier.factor(window), 4),
                                   "lookbackWindow": tier.long, "alertAfter": tier.short}},
        })  # fmt: skip
    if not conditions:
        return []
    policy = {
        "apiVersion": OPENSLO, "kind": "AlertPolicy", "metadata": {"name": name},
        "spec": {"alertWhenBreaching": True, "conditions": [{"conditionRef": c["metadata"]["name"]} for c in conditions]},
    }  # fmt: skip
    return [*conditions, policy]


def to_openslo(plan: ServiceReliabilityPlan, namespace: str) -> tuple[list[dict[str, Any]], list[Dropped]]:
    service = plan.spec.service.name
    where = f"{namespace}/{plan.metadata.name}"
    dropped = [
        Dropped(where, f"spec.{section}", "OpenSLO describes SLOs and their alerts only")
        for section in PLAN_ONLY
        if getattr(plan.spec, section, None) is not None
    ]
    if plan.spec.alerting is not None and plan.spec.alerting.routing is not None:
        dropped.append(
            Dropped(where, "spec.alerting.routing", "OpenSLO notification targets name no receivers' secrets")
        )
    labels = {"team": plan.spec.service.owner.team}
    documents: list[dict[str, Any]] = [
        {"apiVersion": OPENSLO, "kind": "Service", "metadata": {"name": service, "labels": labels},
         "spec": {"description": f"Owned by {plan.spec.service.owner.team}"}}
    ]  # fmt: skip
    for slo in plan.spec.slos:
        name = f"{service}-{slo.name}"
        ratio = _indicator(slo, f"{where}: slos[{slo.name}]", dropped)
        if ratio is None:
            continue
        if slo.calendar is not None:
            dropped.append(
                Dropped(
                    f"{where}: slos[{slo.name}]",
                    "calendar",
                    "reports per calendar period: the OpenSLO window stays rolling",
                )
            )
        alerts = _alert_documents(slo, name)
        spec: dict[str, Any] = {
            "service": service,
            "indicator": {"metadata": {"name": name}, "spec": {"ratioMetric": ratio}},
            "budgetingMethod": "Occurrences",
            "timeWindow": [{"duration": slo_window(slo), "isRolling": True}],
            "objectives": [{"displayName": slo.name, "target": round(slo.objective / 100, 8)}],
        }
        if slo.description:
            spec["description"] = slo.description
        if alerts:
            spec["alertPolicies"] = [name]
        documents += [{"apiVersion": OPENSLO, "kind": "SLO", "metadata": {"name": name}, "spec": spec}, *alerts]
    return documents, dropped
