"""A plan's SLOs as one PrometheusRule: per SLO, one rule group of eight rules.

Rules inside a group run in order, so each group lists recordings before the
rules that read them and needs no evaluation-order hints. The group runs once
per tile (``sre_operator.tiers``): the first rule records the SLI's rates over
the last tile, and every alert window is the sum of the tiles inside it, so a
window counts exactly its own errors and requests, reads one recorded series
per side, and sees a change at the next evaluation. The SLO window (7 to 90
days) sums hourly means that the first rule records once an hour, so a 30d
ratio reads 720 samples per series instead of one per tile. Several windows
share one rule through ``label_replace(...) or ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sre_operator.durations import format_duration, seconds
from sre_operator.generate import names
from sre_operator.generate.capacity import capacity_group
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.sli import CounterSli, ExpressionSli, build_sli
from sre_operator.models.assumptions import slo_tiling, slo_window
from sre_operator.models.plan import ServiceReliabilityPlan, Slo
from sre_operator.promql import escape_string
from sre_operator.tiers import HOUR, SHORTEST_WINDOW, BurnTier, Tiling, alert_windows, tiers_of

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

    @cached_property
    def tiling(self) -> Tiling:
        """Decided once per SLO: every range and offset of its rules derives from it."""
        return slo_tiling(self.slo)

    @cached_property
    def sli(self) -> CounterSli | ExpressionSli:
        """Built once per SLO: several of its rules read it."""
        return build_sli(self.slo)

    @property
    def tile(self) -> str:
        """How often the SLO's rules run and how long each recorded rate is (``validate`` refuses a plan
        without one)."""
        if self.tiling.tile is None:
            raise ValueError(f"SLO {self.slo.name}: {self.tiling.problem}")
        return self.tiling.tile

    @property
    def half_tile(self) -> str:
        return self.tiling.half

    def tiled(self, window: str) -> str:
        """A range over the recorded tiles of the last ``window``: half a tile short, so it holds exactly
        ``window / tile`` samples on Prometheus 2 (closed ranges) and 3 (left-open) alike."""
        return format_duration(seconds(window) - seconds(self.tile) / 2)

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


def _tagged(expr: str, label: str, value: str) -> str:
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def _once_an_hour(ctx: SloContext, expr: str) -> str:
    """``expr`` as it stood at a clock hour, at the one evaluation whose window holds that hour: a subquery
    stepped on clock hours runs ``expr`` only when an hour falls in its window, so the other evaluations
    compute nothing and throw nothing away. The window is one tile, reaching a quarter of a tile past the
    evaluation (a negative offset): an evaluation on the hour catches its own hour, the window's edges
    stay off evaluations on the hour (where Prometheus 2, closed ranges, and 3, left-open, disagree), and
    the hour ``expr`` reads (ending half a tile before the clock hour) is always stored by then."""
    lead = format_duration(seconds(ctx.tile) / 4)
    return f"last_over_time(({expr})[{ctx.tile}:{HOUR}] offset -{lead})"


def _sli_rate(ctx: SloContext, part: str) -> str:
    return ctx.series(names.SLI_RATE, **{names.LABEL_SLI: part})


def _last_hour(ctx: SloContext, series: str) -> str:
    """The mean of ``series`` over the hour of tiles that ended half a tile before the clock hour it is
    evaluated at: ranges end between two tiles, never on a sample (at evaluations on the hour, as in
    ``promtool test rules``), so each tile lands in exactly one hour."""
    return f"avg_over_time({series}[{HOUR}] offset {ctx.half_tile})"


def sli_rate_rule(ctx: SloContext) -> Rule:
    """The SLI's rates over the last tile at every evaluation and, once an hour, their mean over the hour."""
    sli = ctx.sli
    if isinstance(sli, CounterSli):
        tile = " or ".join(
            (
                _tagged(sli.errors_per_tile(ctx.tiling), names.LABEL_SLI, names.SLI_ERRORS),
                _tagged(sli.requests_per_tile(ctx.tiling), names.LABEL_SLI, names.SLI_REQUESTS),
            )
        )
        recorded = ctx.series_matching(names.SLI_RATE, **{names.LABEL_SLI: f"{names.SLI_ERRORS}|{names.SLI_REQUESTS}"})
        hourly = (
            f'label_replace({_last_hour(ctx, recorded)}, "{names.LABEL_SLI}",'
            f' "${{1}}{names.SLI_HOURLY_SUFFIX}", "{names.LABEL_SLI}", "(.+)")'
        )
        expr = f"{tile} or ({_once_an_hour(ctx, hourly)})"
    else:
        five_minute_ratio = ctx.series(names.ERROR_RATIO, **{names.LABEL_WINDOW: SHORTEST_WINDOW})
        hourly = _tagged(_last_hour(ctx, five_minute_ratio), names.LABEL_SLI, names.SLI_ERROR_RATIO_HOURLY)
        expr = _once_an_hour(ctx, _without(hourly, names.LABEL_WINDOW))
    return {"record": names.SLI_RATE, "expr": expr, "labels": ctx.identity}


def _slo_window_ratio(ctx: SloContext, sli: CounterSli | ExpressionSli) -> str:
    """The error ratio over the SLO window, from the hourly means: the one expression that reads a range
    as long as the SLO window, so it lives in its own rule and no short window shares its index lookups."""
    span = ctx.tiled(ctx.window)
    if isinstance(sli, CounterSli):
        errors, requests = names.SLI_ERRORS, names.SLI_REQUESTS
        hourly = _sum_ratio(ctx, errors + names.SLI_HOURLY_SUFFIX, requests + names.SLI_HOURLY_SUFFIX, span)
        recent = _sum_ratio(ctx, errors, requests, ctx.tiled(HOUR))
    else:
        # No request counts to weight by: the mean of the hourly ratios.
        hourly = _without(f"avg_over_time({_sli_rate(ctx, names.SLI_ERROR_RATIO_HOURLY)}[{span}])", names.LABEL_SLI)
        five_minute_ratio = ctx.series(names.ERROR_RATIO, **{names.LABEL_WINDOW: SHORTEST_WINDOW})
        recent = _without(f"avg_over_time({five_minute_ratio}[{HOUR}])", names.LABEL_WINDOW)
    # Until the first hour is recorded (a new SLO, a new group), the last hour stands in.
    return f"({hourly}) or ({recent})"


def _alert_window_ratio(ctx: SloContext, sli: CounterSli | ExpressionSli, window: str) -> str:
    if isinstance(sli, ExpressionSli):
        return sli.error_ratio(window)
    errors, requests = names.SLI_ERRORS, names.SLI_REQUESTS
    if window == ctx.tile:
        return f"{_sli_rate(ctx, errors)} / ignoring({names.LABEL_SLI}) {_sli_rate(ctx, requests)}"
    return _sum_ratio(ctx, errors, requests, ctx.tiled(window))


def _without(expr: str, label: str) -> str:
    return f'label_replace({expr}, "{label}", "", "", "")'


def _sum_ratio(ctx: SloContext, errors: str, requests: str, window: str) -> str:
    return (
        f"sum_over_time({_sli_rate(ctx, errors)}[{window}])"
        f" / ignoring({names.LABEL_SLI}) sum_over_time({_sli_rate(ctx, requests)}[{window}])"
    )


def budget_remaining_rule(ctx: SloContext) -> Rule:
    """The share of the SLO window's budget left: 1 less the window's error ratio over the budget."""
    ratio = _slo_window_ratio(ctx, ctx.sli)
    return {
        "record": names.BUDGET_REMAINING,
        "expr": _tagged(f"1 - ({ratio}) / {ctx.budget:.10g}", names.LABEL_WINDOW, ctx.window),
        "labels": ctx.identity,
    }


def ratio_rule(ctx: SloContext) -> Rule:
    """The error ratio over every alert window, each told apart by its ``window`` label, and over the SLO
    window, read back from the remaining budget recorded just before (not from its month of samples)."""
    sli = ctx.sli
    tile = seconds(ctx.tile)
    readable = (
        alert_windows() if isinstance(sli, ExpressionSli) else [w for w in alert_windows() if seconds(w) % tile == 0]
    )
    expr = " or ".join(_tagged(_alert_window_ratio(ctx, sli, w), names.LABEL_WINDOW, w) for w in readable)
    remaining = ctx.series(names.BUDGET_REMAINING, **{names.LABEL_WINDOW: ctx.window})
    expr += f" or (1 - {remaining}) * {ctx.budget:.10g}"
    return {"record": names.ERROR_RATIO, "expr": expr, "labels": ctx.identity}


def sli_rules(ctx: SloContext) -> list[Rule]:
    return [sli_rate_rule(ctx), budget_remaining_rule(ctx), ratio_rule(ctx)]


def metadata_rules(ctx: SloContext) -> list[Rule]:
    return [
        {"record": names.OBJECTIVE, "expr": f"vector({ctx.slo.objective / 100:.10g})", "labels": ctx.identity},
        {"record": names.ERROR_BUDGET, "expr": f"vector({ctx.budget:.10g})", "labels": ctx.identity},
        {
            "record": names.BURN_RATE,
            "expr": f"{ctx.series(names.ERROR_RATIO)} / {ctx.budget:.10g}",
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
            f" avg_over_time({_sli_rate(ctx, names.SLI_REQUESTS)}[{ctx.tiled(tier.long)}]) >= {min_rate:.10g})"
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
    sli = ctx.sli
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
        "interval": ctx.tile,
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
