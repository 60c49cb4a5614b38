"""Pyrra's ``ServiceLevelObjective`` (``pyrra.dev/v1alpha1``) as plans, one per object. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sre_operator.interop.common import UNKNOWN_TEAM, Conversion, Dropped, counter_selector, dns_name, plan_document
from sre_operator.promql import parse_selector

TEAM_LABELS = ("pyrra.dev/team", "team", "owner")
ABSENT_AFTER = "10m"


def is_pyrra(document: Mapping[str, Any]) -> bool:
    return (
        str(document.get("apiVersion", "")).startswith("pyrra.dev/") and document.get("kind") == "ServiceLevelObjective"
    )


def window_of(text: str) -> str:
    """Pyrra writes windows in weeks (4w); a plan says days."""
    return f"{int(text[:-1]) * 7}d" if text.endswith("w") and text[:-1].isdigit() else text


def _latency(latency: Mapping[str, Any], where: str, source: str, conversion: Conversion) -> dict[str, Any] | None:
    success = str(((latency.get("success") or {}).get("metric")) or "")
    try:
        bucket = parse_selector(success)
    except ValueError as error:
        conversion.dropped.append(Dropped(source, f"{where}.success.metric", f"{success!r} {error}"))
        return None
    thresholds = [m for m in bucket.matchers if m.name == "le" and m.op == "="]
    if not bucket.metric.endswith("_bucket") or len(thresholds) != 1:
        conversion.dropped.append(Dropped(source, f"{where}.success.metric", 'not a histogram bucket with le="..."'))
        return None
    histogram = bucket.with_metric(bucket.metric.removesuffix("_bucket"))
    histogram = type(histogram)(histogram.metric, tuple(m for m in histogram.matchers if m.name != "le"))
    found: dict[str, Any] = {"histogram": histogram.render(), "threshold": float(thresholds[0].value)}
    if latency.get("grouping"):
        found["groupBy"] = list(latency["grouping"])
    return {"latency": found}


def _indicator(indicator: Mapping[str, Any], source: str, conversion: Conversion) -> dict[str, Any] | None:
    if "ratio" in indicator:
        ratio = indicator["ratio"] or {}
        errors = counter_selector(str((ratio.get("errors") or {}).get("metric") or ""))
        total = counter_selector(str((ratio.get("total") or {}).get("metric") or ""))
        if errors is None or total is None:
            conversion.dropped.append(
                Dropped(source, "spec.indicator.ratio", "errors and total must be counter selectors")
            )
            return None
        found: dict[str, Any] = {"errors": errors.selector, "total": total.selector}
        if ratio.get("grouping"):
            found["groupBy"] = list(ratio["grouping"])
        return {"ratio": found}
    if "latency" in indicator:
        return _latency(indicator["latency"] or {}, "spec.indicator.latency", source, conversion)
    for kind, reason in (
        ("latencyNative", "native histograms are not read by the plan's latency SLI (classic _bucket series are)"),
        ("boolGauge", "a 0/1 gauge is not a count of events; write the SLI as a ratio of counters or raw PromQL"),
        ("bool_gauge", "a 0/1 gauge is not a count of events; write the SLI as a ratio of counters or raw PromQL"),
    ):
        if kind in indicator:
            conversion.dropped.append(Dropped(source, f"spec.indicator.{kind}", reason))
            return None
    conversion.dropped.append(Dropped(source, "spec.indicator", "no ratio or latency indicator"))
    return None


def convert(document: Mapping[str, Any], source: str, conversion: Conversion) -> None:
    metadata, spec = document.get("metadata") or {}, document.get("spec") or {}
    name = str(metadata.get("name") or "slo")
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    indicator = _indicator(spec.get("indicator") or {}, source, conversion)
    if indicator is None:
        return
    team = next((labels[key] for key in TEAM_LABELS if labels.get(key)), "")
    if not team:
        team = UNKNOWN_TEAM
        conversion.assumed.append(Dropped(source, "spec.service.owner.team", f"no team label: set to {team!r}"))
    slo: dict[str, Any] = {"name": dns_name(name), "objective": float(str(spec.get("target", "99"))),
                           "window": window_of(str(spec.get("window") or "28d")), "indicator": indicator}  # fmt: skip
    if spec.get("description"):
        slo["description"] = str(spec["description"])
    alerting = spec.get("alerting") or {}
    if alerting.get("disabled") or alerting.get("burnrates") is False:
        slo["alerting"] = {"page": False, "ticket": False}
    if alerting.get("name"):
        conversion.dropped.append(
            Dropped(
                source,
                "spec.alerting.name",
                "the plan's alerts are named SLOErrorBudgetFastBurn and SLOErrorBudgetSlowBurn",
            )
        )
    if alerting.get("absent") is not False:
        slo.setdefault("alerting", {})["noDataFor"] = ABSENT_AFTER
        conversion.assumed.append(
            Dropped(
                source,
                "spec.alerting.absent",
                f"Pyrra's absent alert: SLOSignalMissing after {ABSENT_AFTER} without data",
            )
        )
    alert_labels = {
        k.removeprefix("pyrra.dev/"): v
        for k, v in labels.items()
        if k.startswith("pyrra.dev/") and k not in TEAM_LABELS
    }
    for key in labels:
        if not key.startswith("pyrra.dev/") and key not in TEAM_LABELS:
            conversion.dropped.append(
                Dropped(
                    source,
                    f"metadata.labels.{key}",
                    "a label of the object, not of its alerts (Pyrra passes on only pyrra.dev/ labels)",
                )
            )
    service = labels.get("app.kubernetes.io/name") or labels.get("app") or name
    conversion.plans.append(
        plan_document(name, str(metadata.get("namespace") or ""), service, team, [slo], alert_labels)
    )
