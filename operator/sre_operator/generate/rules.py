"""A plan's SLOs as one PrometheusRule: per SLO, one rule group of SLI, metadata and alert rules.

Rules inside a group run in order, so each group lists recordings before the
rules that read them and needs no evaluation-order hints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_operator.generate import names
from sre_operator.generate.sli import CounterSli, ExpressionSli, build_sli
from sre_operator.generate.tiers import SHORTEST_WINDOW, BurnTier, alert_windows, tiers_of
from sre_operator.models.assumptions import slo_window
from sre_operator.models.plan import ServiceReliabilityPlan, Slo
from sre_operator.promql import escape_string

Rule = dict[str, Any]


@dataclass(frozen=True)
class RenderOptions:
    """Settings that come from the operator's configuration rather than from the plan."""

    runbook_base_url: str = names.DEFAULT_RUNBOOK_BASE_URL


DEFAULT_OPTIONS = RenderOptions()


@dataclass(frozen=True)
class SloContext:
    plan: ServiceReliabilityPlan
    slo: Slo
    options: RenderOptions

    @property
    def service(self) -> str:
        return self.plan.spec.service.name

    @property
    def window(self) -> str:
        return slo_window(self.slo)

    @property
    def budget(self) -> float:
        return round(1 - self.slo.objective / 100, 10)

    @property
    def identity(self) -> dict[str, str]:
        """Namespace, service and SLO: an SLO's identity in Prometheus, unique across the cluster."""
        return {
            names.LABEL_NAMESPACE: self.plan.metadata.namespace,
            names.LABEL_SERVICE: self.service,
            names.LABEL_SLO: self.slo.name,
        }

    def series(self, metric: str, **extra: str) -> str:
        """A selector of one of this SLO's own recorded series."""
        labels = {**self.identity, **extra}
        inner = ", ".join(f"{k}={escape_string(v)}" for k, v in labels.items())
        return f"{metric}{{{inner}}}"


def template_literal(text: str) -> str:
    """Text for an alert label or annotation, where Prometheus runs Go templates: ``{{`` stays literal."""
    return text.replace("{{", '{{ "{{" }}')


def sli_rules(ctx: SloContext) -> list[Rule]:
    sli = build_sli(ctx.slo)
    windows = [*alert_windows(), ctx.window]
    rules: list[Rule] = []
    if isinstance(sli, CounterSli):
        rules.append({"record": names.ERRORS_RATE, "expr": sli.errors_rate, "labels": ctx.identity})
        rules.append({"record": names.REQUESTS_RATE, "expr": sli.requests_rate, "labels": ctx.identity})
        for window in windows:
            if window == SHORTEST_WINDOW:
                expr = f"{ctx.series(names.ERRORS_RATE)} / {ctx.series(names.REQUESTS_RATE)}"
            else:
                expr = (
                    f"sum_over_time({ctx.series(names.ERRORS_RATE)}[{window}])"
                    f" / sum_over_time({ctx.series(names.REQUESTS_RATE)}[{window}])"
                )
            rules.append(_ratio_rule(ctx, window, expr))
        return rules
    assert isinstance(sli, ExpressionSli)
    for window in windows:
        if window == ctx.window:
            # No request counts to weight by: average the recorded short ratio instead of scanning raw series.
            expr = f"avg_over_time({ctx.series(names.ERROR_RATIO, window=SHORTEST_WINDOW)}[{window}])"
        else:
            expr = sli.error_ratio(window)
        rules.append(_ratio_rule(ctx, window, expr))
    return rules


def _ratio_rule(ctx: SloContext, window: str, expr: str) -> Rule:
    return {"record": names.ERROR_RATIO, "expr": expr, "labels": {**ctx.identity, names.LABEL_WINDOW: window}}


def metadata_rules(ctx: SloContext) -> list[Rule]:
    return [
        {"record": names.OBJECTIVE, "expr": f"vector({ctx.slo.objective / 100:.10g})", "labels": ctx.identity},
        {"record": names.ERROR_BUDGET, "expr": f"vector({ctx.budget:.10g})", "labels": ctx.identity},
        {
            "record": names.BURN_RATE,
            "expr": f"{ctx.series(names.ERROR_RATIO)} / {ctx.budget:.10g}",
            "labels": ctx.identity,
        },
        {
            "record": names.BUDGET_REMAINING,
            "expr": f"1 - {ctx.series(names.BURN_RATE, window=ctx.window)}",
            "labels": ctx.identity,
        },
    ]


def _tier_condition(ctx: SloContext, tier: BurnTier) -> str:
    factor = f"{tier.factor(ctx.window):.10g}"
    condition = (
        f"({ctx.series(names.BURN_RATE, window=tier.long)} > {factor}"
        f" and ignoring(window) {ctx.series(names.BURN_RATE, window=tier.short)} > {factor})"
    )
    min_rate = ctx.slo.alerting.min_request_rate
    if min_rate is not None:
        condition = (
            f"({condition} and ignoring(window)"
            f" avg_over_time({ctx.series(names.REQUESTS_RATE)}[{tier.long}]) >= {min_rate:.10g})"
        )
    return condition


def _labels(ctx: SloContext, severity: str) -> dict[str, str]:
    plan_labels = ctx.plan.spec.alerting.labels if ctx.plan.spec.alerting else {}
    merged = {**plan_labels, **ctx.slo.alerting.labels, "severity": severity, **ctx.identity}
    return {key: template_literal(value) for key, value in merged.items()}


def _runbook_url(ctx: SloContext, alert: str) -> str:
    runbooks = ctx.plan.spec.runbooks
    base = (runbooks.base_url if runbooks and runbooks.base_url else ctx.options.runbook_base_url).rstrip("/")
    meta = ctx.plan.metadata
    return template_literal(f"{base}/{meta.namespace}/{meta.name}/{ctx.slo.name}#{alert}")


def _describe(ctx: SloContext) -> str:
    return f"{ctx.service} SLO {ctx.slo.name} ({ctx.slo.objective:g}% over {ctx.window})"


def _burn_alert(ctx: SloContext, alert: str, severity: str, tiers: tuple[BurnTier, ...]) -> Rule:
    either = " or ignoring(window) ".join(_tier_condition(ctx, t) for t in tiers)
    windows = " or ".join(
        f"{t.factor(ctx.window):g}x over {t.long} and {t.short} ({t.budget_spent:.0%} of the budget in {t.long})"
        for t in tiers
    )
    speed = "fast" if severity == "critical" else "steadily"
    return {
        "alert": alert,
        "expr": f"max without (window) ({either})",
        "labels": _labels(ctx, severity),
        "annotations": {
            "summary": template_literal(f"{_describe(ctx)} is burning its error budget {speed}"),
            "description": template_literal(f"The error budget of {_describe(ctx)} burns faster than {windows}."),
            "runbook_url": _runbook_url(ctx, alert),
        },
    }


def _no_data_alert(ctx: SloContext, no_data_for: str) -> Rule:
    sli = build_sli(ctx.slo)
    if isinstance(sli, CounterSli):
        watched = sli.total_selector.render()
    else:
        watched = ctx.series(names.ERROR_RATIO, window=SHORTEST_WINDOW)
    return {
        "alert": names.ALERT_NO_DATA,
        # sum() drops the labels absent_over_time copies from the selector's equality matchers.
        "expr": f"sum(absent_over_time({watched}[{no_data_for}]))",
        "labels": _labels(ctx, "warning"),
        "annotations": {
            "summary": template_literal(f"{_describe(ctx)} has had no SLI data for {no_data_for}"),
            "description": template_literal(
                f"No samples of the SLI of {_describe(ctx)} for {no_data_for}: its budget and burn alerts are blind."
            ),
            "runbook_url": _runbook_url(ctx, names.ALERT_NO_DATA),
        },
    }


def alert_rules(ctx: SloContext) -> list[Rule]:
    rules: list[Rule] = []
    if ctx.slo.alerting.page:
        rules.append(_burn_alert(ctx, names.ALERT_PAGE, "critical", tiers_of("critical")))
    if ctx.slo.alerting.ticket:
        rules.append(_burn_alert(ctx, names.ALERT_TICKET, "warning", tiers_of("warning")))
    if ctx.slo.alerting.no_data_for is not None:
        rules.append(_no_data_alert(ctx, ctx.slo.alerting.no_data_for))
    return rules


def slo_group(ctx: SloContext) -> dict[str, Any]:
    return {
        "name": f"{ctx.service}-{ctx.slo.name}",
        "rules": [*sli_rules(ctx), *metadata_rules(ctx), *alert_rules(ctx)],
    }


def rule_groups(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> list[dict[str, Any]]:
    return [slo_group(SloContext(plan, slo, options)) for slo in plan.spec.slos]


def plan_labels(plan: ServiceReliabilityPlan) -> dict[str, str]:
    return {**names.MANAGED_BY, names.PLAN_LABEL: plan.metadata.name}


def prometheus_rule(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The PrometheusRule (monitoring.coreos.com/v1) holding every SLO of ``plan``."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"{plan.metadata.name}-slos",
            "namespace": plan.metadata.namespace,
            "labels": plan_labels(plan),
        },
        "spec": {"groups": rule_groups(plan, options)},
    }
