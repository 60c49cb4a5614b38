"""OpenSLO documents as plans: v1 ``SLO`` with its ``SLI`` (inline or by reference), ``AlertPolicy`` and
``AlertCondition``, and v1alpha ``SLO``. One plan per service. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sre_operator.durations import is_duration
from sre_operator.interop.common import (
    UNKNOWN_TEAM,
    Conversion,
    Dropped,
    RateQuery,
    counter_selector,
    dns_name,
    plan_document,
    rate_query,
)

CALENDAR_UNITS = {"w": ("week", "7d"), "M": ("month", "30d"), "Q": ("quarter", "90d")}
ALPHA_UNITS = {"Second": "s", "Minute": "m", "Hour": "h", "Day": "d", "Week": "w"}
KNOWN_KINDS = {"SLO", "SLI", "AlertPolicy", "AlertCondition", "Service", "AlertNotificationTarget", "DataSource"}
PAGE_SEVERITIES = {"page", "critical", "high", "sev1", "sev2", "p1", "p2"}


def is_openslo(document: Mapping[str, Any]) -> bool:
    return str(document.get("apiVersion", "")).startswith("openslo/")


def _counter(metric: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> RateQuery | None:
    """A ratio side's counter from its metricSource (v1) or its source and query (v1alpha)."""
    origin = metric.get("metricSource") or metric
    kind = str(origin.get("type") or origin.get("source") or "")
    if kind.lower() != "prometheus":
        conversion.dropped.append(
            Dropped(source, where, f"a {kind or 'source without a type'} query; the plan reads Prometheus only")
        )
        return None
    spec = origin.get("spec") or {}
    query = str(spec.get("query") or spec.get("promql") or origin.get("query") or "")
    found = counter_selector(query) or rate_query(query, "$window")
    if found is None:
        conversion.dropped.append(
            Dropped(
                source,
                where,
                f"{query!r} is neither a counter selector nor sum(rate(counter[...])): the plan "
                "needs the counter to compute its own windows",
            )
        )
    return found


def _ratio(ratio: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> dict[str, Any] | None:
    total = _counter(ratio.get("total") or {}, f"{where}.total", source, conversion)
    if ratio.get("raw") is not None:
        conversion.dropped.append(Dropped(source, f"{where}.raw", "a precomputed ratio is not a count of events"))
        return None
    side = "good" if ratio.get("good") is not None else "bad"
    counted = _counter(ratio.get(side) or {}, f"{where}.{side}", source, conversion)
    if total is None or counted is None:
        return None
    if ratio.get("counter") is False or ratio.get("incremental") is False:
        conversion.dropped.append(Dropped(source, f"{where}.counter", "gauges of events are read as counters"))
    found: dict[str, Any] = {"good" if side == "good" else "errors": counted.selector, "total": total.selector}
    if counted.group_by and counted.group_by == total.group_by:
        found["groupBy"] = list(counted.group_by)
    return {"ratio": found}


def _window(
    windows: Sequence[Mapping[str, Any]], source: str, conversion: Conversion
) -> tuple[str, dict[str, Any] | None]:
    if not windows:
        conversion.assumed.append(Dropped(source, "spec.timeWindow", "none given: 30d rolling"))
        return "30d", None
    window = windows[0]
    if len(windows) > 1:
        conversion.dropped.append(Dropped(source, "spec.timeWindow[1:]", "one window per SLO: the first is kept"))
    duration = str(window.get("duration") or "")
    if not duration and window.get("count"):  # v1alpha: {unit: Day, count: 28}
        duration = f"{window['count']}{ALPHA_UNITS.get(str(window.get('unit')), 'd')}"
    rolling = window.get("isRolling", not window.get("calendar"))
    unit = duration[-1:]
    if not rolling or unit in CALENDAR_UNITS:
        period, days = CALENDAR_UNITS.get(unit, ("month", "30d"))
        zone = str((window.get("calendar") or {}).get("timeZone") or "UTC")
        conversion.dropped.append(
            Dropped(
                source,
                "spec.timeWindow.calendar",
                f"a calendar {duration} budget: the plan's budget rolls over "
                f"{days}, and its reports follow the calendar {period} ({zone})",
            )
        )
        return days, {"period": period, "timeZone": zone}
    if unit == "w" and duration[:-1].isdigit():
        duration = f"{int(duration[:-1]) * 7}d"
    if not is_duration(duration):
        conversion.assumed.append(Dropped(source, "spec.timeWindow.duration", f"{duration!r} unreadable: 30d"))
        return "30d", None
    return duration, None


def _alerting(slo: Mapping[str, Any], policies: Mapping[str, Mapping[str, Any]], conditions: Mapping[str, Mapping[str, Any]],
              source: str, conversion: Conversion) -> dict[str, Any]:  # fmt: skip
    """Page and ticket on or off from the alert policies' severities; their own burn-rate conditions are reported."""
    attached = []
    for index, entry in enumerate(slo.get("alertPolicies") or []):
        name = entry if isinstance(entry, str) else str(entry.get("alertPolicyRef") or "")
        policy = policies.get(name) if name else (entry.get("spec") and entry)
        if not policy:
            conversion.dropped.append(
                Dropped(source, f"spec.alertPolicies[{index}]", f"no AlertPolicy {name!r} among the files")
            )
            continue
        attached.append(policy)
    if not attached:
        return {}
    severities = set()
    for policy in attached:
        spec = policy.get("spec") or {}
        policy_name = str((policy.get("metadata") or {}).get("name", ""))
        for entry in spec.get("conditions") or []:
            condition = conditions.get(str(entry.get("conditionRef") or "")) or entry
            body = condition.get("spec") or {}
            severities.add(str(body.get("severity") or "").lower())
            rule = body.get("condition") or {}
            conversion.dropped.append(
                Dropped(
                    source,
                    f"AlertPolicy {policy_name}: condition",
                    f"burn rate {rule.get('op', 'gt')} "
                    f"{rule.get('threshold')} over {rule.get('lookbackWindow')}: the plan alerts on the SRE "
                    "Workbook's multiwindow tiers (14.4x 1h/5m and 6x 6h/30m page, 3x 1d/2h and 1x 3d/6h ticket)",
                )
            )
        if spec.get("notificationTargets"):
            conversion.dropped.append(
                Dropped(
                    source,
                    f"AlertPolicy {policy_name}: notificationTargets",
                    "set spec.alerting.routing: "
                    "Slack, PagerDuty, Opsgenie, webhooks or email, their secrets referenced",
                )
            )
    pages = bool(severities & PAGE_SEVERITIES)
    return {} if pages else {"page": False}


def convert(documents: Sequence[tuple[str, Mapping[str, Any]]], conversion: Conversion) -> None:
    """Every SLO among ``documents`` ((source, document) pairs), grouped into one plan per service."""
    by_kind: dict[str, dict[str, Mapping[str, Any]]] = {}
    for _, document in documents:
        name = str((document.get("metadata") or {}).get("name", ""))
        by_kind.setdefault(str(document.get("kind", "")), {})[name] = document
    services: dict[tuple[str, str], list[dict[str, Any]]] = {}
    teams: dict[tuple[str, str], str] = {}
    for source, document in documents:
        kind = str(document.get("kind", ""))
        if kind not in KNOWN_KINDS:
            conversion.dropped.append(
                Dropped(source, f"kind {kind}", "no counterpart in a plan (composite SLOs included)")
            )
        if kind != "SLO":
            continue
        metadata, spec = document.get("metadata") or {}, document.get("spec") or {}
        service = str(spec.get("service") or metadata.get("name") or "service")
        key = (str(metadata.get("namespace") or ""), service)
        owner = (by_kind.get("Service", {}).get(service) or {}).get("metadata", {}).get("labels", {}) or {}
        teams.setdefault(key, str(owner.get("team") or (metadata.get("labels") or {}).get("team") or ""))
        indicator_doc = spec.get("indicator") or by_kind.get("SLI", {}).get(str(spec.get("indicatorRef") or ""))
        if indicator_doc is None and spec.get("indicatorRef"):
            conversion.dropped.append(
                Dropped(source, "spec.indicatorRef", f"no SLI {spec['indicatorRef']!r} among the files")
            )
            continue
        sli = (indicator_doc or {}).get("spec") or indicator_doc or {}
        method = str(spec.get("budgetingMethod") or "Occurrences")
        if method != "Occurrences":
            conversion.dropped.append(
                Dropped(
                    source,
                    "spec.budgetingMethod",
                    f"{method}: the plan budgets occurrences (good events over "
                    "all events); time slices are not carried",
                )
            )
        window, calendar = _window(spec.get("timeWindow") or spec.get("timeWindows") or [], source, conversion)
        alerting = _alerting(
            spec, by_kind.get("AlertPolicy", {}), by_kind.get("AlertCondition", {}), source, conversion
        )
        objectives = spec.get("objectives") or []
        for index, objective in enumerate(objectives):
            where = f"spec.objectives[{index}]"
            if "compositeWeight" in objective or (
                spec.get("indicator") is None
                and spec.get("objectives")
                and any("indicator" in o or "indicatorRef" in o for o in objectives)
            ):
                conversion.dropped.append(
                    Dropped(
                        source,
                        where,
                        "a composite SLO (objectives over other SLOs' indicators): each part "
                        "becomes its own SLO only when imported on its own",
                    )
                )
                continue
            if "thresholdMetric" in sli or (
                "value" in objective and "ratioMetrics" not in objective and "ratioMetric" not in sli
            ):
                conversion.dropped.append(
                    Dropped(
                        source,
                        f"{where}",
                        "a threshold metric (a value compared per time slice): the plan's SLIs "
                        "count good and bad events",
                    )
                )
                continue
            ratio = sli.get("ratioMetric") or objective.get("ratioMetrics")
            if not ratio:
                conversion.dropped.append(Dropped(source, where, "no ratio metric"))
                continue
            indicator = _ratio(ratio, f"{where}.ratio", source, conversion)
            if indicator is None:
                continue
            if "targetPercent" in objective:
                target = float(objective["targetPercent"])
            else:
                target = float(objective.get("target", 0.99)) * 100
            name = str(metadata.get("name", "slo"))
            if len(objectives) > 1:
                name = f"{name}-{objective.get('displayName') or index}"
            slo: dict[str, Any] = {
                "name": dns_name(name),
                "objective": round(target, 6),
                "window": window,
                "indicator": indicator,
            }
            if spec.get("description"):
                slo["description"] = str(spec["description"])
            if calendar:
                slo["calendar"] = calendar
            if alerting:
                slo["alerting"] = dict(alerting)
            services.setdefault(key, []).append(slo)
    for (namespace, service), slos in services.items():
        team = teams.get((namespace, service)) or UNKNOWN_TEAM
        if team == UNKNOWN_TEAM:
            conversion.assumed.append(
                Dropped(service, "spec.service.owner.team", f"OpenSLO names no owner team: set to {team!r}")
            )
        conversion.plans.append(plan_document(service, namespace, service, team, slos, {}))
