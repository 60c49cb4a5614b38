"""A plan's SLOs as one PrometheusRule: per SLO, one rule group of eight rules.

Rules inside a group run in order, so each group lists recordings before the
rules that read them and needs no evaluation-order hints. What keeps the cost
near nothing is that no rule reads much: alert windows are sums of recorded
5-minute rates, and the SLO window (7 to 90 days) is a sum of hourly rates
that the first rule records once an hour, so a 30d ratio reads 720 samples
per series instead of one per evaluation. Several windows share one rule
through ``label_replace(...) or ...``. The group's interval is set because
"once an hour" is "the evaluation in the first interval of the hour".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_operator.durations import format_duration, seconds
from sre_operator.generate import names
from sre_operator.generate.capacity import capacity_group
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.sli import CounterSli, ExpressionSli, build_sli
from sre_operator.generate.tiers import SHORTEST_WINDOW, BurnTier, alert_windows, tiers_of
from sre_operator.models.assumptions import slo_window
from sre_operator.models.plan import ServiceReliabilityPlan, Slo
from sre_operator.promql import escape_string

Rule = dict[str, Any]


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
        return self._selector(metric, [f"{k}={escape_string(v)}" for k, v in extra.items()])

    def series_matching(self, metric: str, **patterns: str) -> str:
        """A selector of this SLO's own series whose ``patterns`` labels match regular expressions."""
        return self._selector(metric, [f"{k}=~{escape_string(v)}" for k, v in patterns.items()])

    def _selector(self, metric: str, extra: list[str]) -> str:
        matchers = [f"{k}={escape_string(v)}" for k, v in self.identity.items()] + extra
        return f"{metric}{{{', '.join(matchers)}}}"


def template_literal(text: str) -> str:
    """Text for an alert label or annotation, where Prometheus runs Go templates: ``{{`` stays literal."""
    return text.replace("{{", '{{ "{{" }}')


HOURLY = "1h"


def _tagged(expr: str, label: str, value: str) -> str:
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def _once_an_hour(ctx: SloContext, expr: str) -> str:
    """``expr`` at the one evaluation that falls in the first rule interval of each clock hour."""
    return f"({expr}) and on() vector(time() % 3600) < {seconds(ctx.options.rule_interval):g}"


def _sli_rate(ctx: SloContext, part: str) -> str:
    return ctx.series(names.SLI_RATE, **{names.LABEL_SLI: part})


def sli_rate_rule(ctx: SloContext) -> Rule:
    """The SLI's 5-minute rates at every evaluation and, once an hour, their mean over the past hour.

    The hourly means read this rule's own earlier samples, not raw series: a ``rate`` over an hour of raw
    samples on Prometheus 3 (left-open ranges) drops the increase across each hour's boundary, and a
    burst there goes missing. The range reaches half an interval past the hour, so the sample written at
    the previous hour's evaluation (which could not read itself) is counted here: every 5-minute rate
    lands in exactly one hour, on Prometheus 2 (closed ranges) and 3 alike.
    """
    sli = build_sli(ctx.slo)
    hour_and_a_half_interval = format_duration(seconds(HOURLY) + seconds(ctx.options.rule_interval) / 2)
    if isinstance(sli, CounterSli):
        five_minutes = " or ".join(
            (
                _tagged(sli.errors_rate(SHORTEST_WINDOW), names.LABEL_SLI, names.SLI_ERRORS),
                _tagged(sli.requests_rate(SHORTEST_WINDOW), names.LABEL_SLI, names.SLI_REQUESTS),
            )
        )
        recorded = ctx.series_matching(names.SLI_RATE, **{names.LABEL_SLI: f"{names.SLI_ERRORS}|{names.SLI_REQUESTS}"})
        hourly = (
            f'label_replace(avg_over_time({recorded}[{hour_and_a_half_interval}]), "{names.LABEL_SLI}",'
            f' "${{1}}{names.SLI_HOURLY_SUFFIX}", "{names.LABEL_SLI}", "(.+)")'
        )
        expr = f"{five_minutes} or ({_once_an_hour(ctx, hourly)})"
    else:
        five_minute_ratio = ctx.series(names.ERROR_RATIO, **{names.LABEL_WINDOW: SHORTEST_WINDOW})
        hourly = _tagged(
            f"avg_over_time({five_minute_ratio}[{hour_and_a_half_interval}])",
            names.LABEL_SLI,
            names.SLI_ERROR_RATIO_HOURLY,
        )
        expr = _once_an_hour(ctx, _without(hourly, names.LABEL_WINDOW))
    return {"record": names.SLI_RATE, "expr": expr, "labels": ctx.identity}


def _window_ratio(ctx: SloContext, sli: CounterSli | ExpressionSli, window: str) -> str:
    errors, requests = names.SLI_ERRORS, names.SLI_REQUESTS
    if window == ctx.window:
        # Half an interval short of the window: at the evaluation on the hour, Prometheus 2's closed range
        # would also take the hour the window has just left.
        span = format_duration(seconds(window) - seconds(ctx.options.rule_interval) / 2)
        if isinstance(sli, CounterSli):
            hourly = _sum_ratio(ctx, errors + names.SLI_HOURLY_SUFFIX, requests + names.SLI_HOURLY_SUFFIX, span)
            recent = _sum_ratio(ctx, errors, requests, HOURLY)
        else:
            # No request counts to weight by: the mean of the hourly ratios.
            hourly = _without(f"avg_over_time({_sli_rate(ctx, names.SLI_ERROR_RATIO_HOURLY)}[{span}])", names.LABEL_SLI)
            five_minute_ratio = ctx.series(names.ERROR_RATIO, **{names.LABEL_WINDOW: SHORTEST_WINDOW})
            recent = _without(f"avg_over_time({five_minute_ratio}[{HOURLY}])", names.LABEL_WINDOW)
        # Until the first hour is recorded (a new SLO, a new group), the data there is stands in.
        return f"({hourly}) or ({recent})"
    if isinstance(sli, ExpressionSli):
        return sli.error_ratio(window)
    if window == SHORTEST_WINDOW:
        return f"{_sli_rate(ctx, errors)} / ignoring({names.LABEL_SLI}) {_sli_rate(ctx, requests)}"
    return _sum_ratio(ctx, errors, requests, window)


def _without(expr: str, label: str) -> str:
    return f'label_replace({expr}, "{label}", "", "", "")'


def _sum_ratio(ctx: SloContext, errors: str, requests: str, window: str) -> str:
    return (
        f"sum_over_time({_sli_rate(ctx, errors)}[{window}])"
        f" / ignoring({names.LABEL_SLI}) sum_over_time({_sli_rate(ctx, requests)}[{window}])"
    )


def ratio_rule(ctx: SloContext) -> Rule:
    """The error ratio over every alert window and the SLO window, each told apart by its ``window`` label."""
    windows = [*alert_windows(), ctx.window]
    sli = build_sli(ctx.slo)
    expr = " or ".join(_tagged(_window_ratio(ctx, sli, w), names.LABEL_WINDOW, w) for w in windows)
    return {"record": names.ERROR_RATIO, "expr": expr, "labels": ctx.identity}


def sli_rules(ctx: SloContext) -> list[Rule]:
    return [sli_rate_rule(ctx), ratio_rule(ctx)]


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
            f"({condition} and ignoring({names.LABEL_WINDOW}, {names.LABEL_SLI})"
            f" avg_over_time({_sli_rate(ctx, names.SLI_REQUESTS)}[{tier.long}]) >= {min_rate:.10g})"
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
        "interval": ctx.options.rule_interval,
        "rules": [*sli_rules(ctx), *metadata_rules(ctx), *alert_rules(ctx)],
    }


def rule_groups(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> list[dict[str, Any]]:
    groups = [slo_group(SloContext(plan, slo, options)) for slo in plan.spec.slos]
    capacity = capacity_group(plan, options)
    return groups + ([capacity] if capacity is not None else [])


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
