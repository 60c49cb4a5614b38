"""Sloth's specs as plans: the ``prometheus/v1`` file format and the ``PrometheusServiceLevel`` custom resource
(``sloth.slok.dev/v1``), which say the same things in snake_case and camelCase. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sre_operator.interop.common import (
    UNKNOWN_TEAM,
    Conversion,
    Dropped,
    dns_name,
    plan_document,
    rate_query,
)
from sre_operator.models.validation import IDENTITY_LABELS

WINDOW_TEMPLATE = "{{.window}}"
SLOTH_PERIOD = "30d"
"""Sloth's default SLO period (its --default-slo-period); the spec itself does not say."""


def is_sloth(document: Mapping[str, Any]) -> bool:
    return document.get("version") == "prometheus/v1" or (
        str(document.get("apiVersion", "")).startswith("sloth.slok.dev/")
        and document.get("kind") == "PrometheusServiceLevel"
    )


def _get(node: Mapping[str, Any], snake: str) -> Any:
    """A field by its file-format (snake_case) name, or its custom resource (camelCase) name."""
    head, *rest = snake.split("_")
    return node.get(snake, node.get(head + "".join(word.title() for word in rest)))


def _labels(labels: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> dict[str, str]:
    kept = {}
    for key, value in (labels or {}).items():
        if key in IDENTITY_LABELS:
            conversion.dropped.append(
                Dropped(source, f"{where}.{key}", "the operator sets this label on every alert itself")
            )
        else:
            kept[str(key)] = str(value)
    return kept


def _indicator(sli: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> dict[str, Any] | None:
    events, raw, plugin = _get(sli, "events"), _get(sli, "raw"), _get(sli, "plugin")
    if events:
        errors, total = str(_get(events, "error_query") or ""), str(_get(events, "total_query") or "")
        error_rate, total_rate = rate_query(errors, WINDOW_TEMPLATE), rate_query(total, WINDOW_TEMPLATE)
        if error_rate and total_rate and error_rate.group_by == total_rate.group_by:
            ratio: dict[str, Any] = {"errors": error_rate.selector, "total": total_rate.selector}
            if error_rate.group_by:
                ratio["groupBy"] = list(error_rate.group_by)
            return {"ratio": ratio}
        # Any other shape keeps its PromQL: the ratio of the two queries, the range where Sloth put it.
        expression = f"({errors.strip()}) / ({total.strip()})".replace(WINDOW_TEMPLATE, "$window")
        return {"expression": {"errorRatio": expression}}
    if raw:
        query = str(_get(raw, "error_ratio_query") or "")
        return {"expression": {"errorRatio": query.strip().replace(WINDOW_TEMPLATE, "$window")}}
    if plugin:
        conversion.dropped.append(
            Dropped(source, f"{where}.sli.plugin", f"Sloth SLI plugin {plugin.get('id', '')!r} runs Go code when Sloth "
                    "generates rules; no plan can carry it: write its SLI as events or raw PromQL"))  # fmt: skip
        return None
    conversion.dropped.append(Dropped(source, f"{where}.sli", "no events, raw or plugin SLI"))
    return None


def _alerting(alerting: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if _get(alerting, "name"):
        conversion.dropped.append(
            Dropped(
                source,
                f"{where}.alerting.name",
                "the plan's alerts are named SLOErrorBudgetFastBurn and "
                "SLOErrorBudgetSlowBurn for every SLO (the slo label tells them apart)",
            )
        )
    if _get(alerting, "annotations"):
        conversion.dropped.append(
            Dropped(
                source,
                f"{where}.alerting.annotations",
                "the operator writes summary, description and runbook_url itself, the runbook served from the plan",
            )
        )
    labels = _labels(_get(alerting, "labels") or {}, f"{where}.alerting.labels", source, conversion)
    if labels:
        found["labels"] = labels
    for tier, ours in (("page_alert", "page"), ("ticket_alert", "ticket")):
        alert = _get(alerting, tier) or {}
        if alert.get("disable"):
            found[ours] = False
        for key in ("labels", "annotations"):
            extra = {k: v for k, v in (alert.get(key) or {}).items() if not (k == "severity" and key == "labels")}
            if extra:
                conversion.dropped.append(
                    Dropped(
                        source,
                        f"{where}.alerting.{tier}.{key}",
                        f"labels and annotations per tier are not "
                        f"carried ({', '.join(sorted(extra))}); the plan's alerts carry severity critical "
                        "(page) and warning (ticket)",
                    )
                )
    return found


def convert(document: Mapping[str, Any], source: str, conversion: Conversion) -> None:
    """Add the plan of one Sloth spec or PrometheusServiceLevel to ``conversion``."""
    spec = document.get("spec", document) if document.get("kind") == "PrometheusServiceLevel" else document
    metadata = document.get("metadata") or {}
    service = str(spec.get("service") or metadata.get("name") or "service")
    labels = dict(spec.get("labels") or {})
    team = str(labels.get("owner") or labels.get("team") or "")
    if not team:
        team = UNKNOWN_TEAM
        conversion.assumed.append(Dropped(source, "spec.service.owner.team", f"Sloth names no owner: set to {team!r}"))
    slos = []
    for index, slo in enumerate(spec.get("slos") or []):
        where = f"slos[{index}]"
        indicator = _indicator(_get(slo, "sli") or {}, where, source, conversion)
        if indicator is None:
            continue
        converted: dict[str, Any] = {"name": dns_name(str(slo.get("name", f"slo-{index}"))), "objective": slo.get("objective"),
                                     "window": SLOTH_PERIOD, "indicator": indicator}  # fmt: skip
        if slo.get("description"):
            converted["description"] = str(slo["description"])
        alerting = _alerting(_get(slo, "alerting") or {}, where, source, conversion)
        slo_labels = _labels(slo.get("labels") or {}, f"{where}.labels", source, conversion)
        if slo_labels:
            alerting["labels"] = {**slo_labels, **alerting.get("labels", {})}
        if alerting:
            converted["alerting"] = alerting
        slos.append(converted)
    if slos:
        period = f"Sloth's period is a command-line flag, not in the spec: {SLOTH_PERIOD} (its default)"
        conversion.assumed.append(Dropped(source, "slos[].window", period))
        plan_labels = _labels(labels, "labels", source, conversion)
        conversion.plans.append(
            plan_document(
                str(metadata.get("name") or service),
                str(metadata.get("namespace") or ""),
                service,
                team,
                slos,
                plan_labels,
            )
        )
