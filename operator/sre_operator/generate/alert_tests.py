"""``promtool test rules`` files that prove each SLO's alerts with synthetic traffic.

Per SLO, scenarios are built from the SLO's own numbers (budget, window,
burn-rate factors) and checked by real promtool:

- a total outage pages within minutes, and the page resolves within the slow
  page tier's short window once errors stop;
- a 20x burn (for a 30d window; scaled with the window) pages within the hour;
- a 5x burn never pages but opens a ticket within a day;
- errors inside the budget alert nobody;
- the no-data alert fires, and the low-traffic guard holds pages back.

Input series are synthesised to match the SLO's selectors, so the user's
selectors are tested too. Where that is impossible (an expression SLI, or
selectors no series can satisfy) the alert logic is tested on a synthetic
twin of the SLO and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sre_operator.durations import format_duration, seconds
from sre_operator.generate import names
from sre_operator.generate.examples import render_series, series_labels
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.rules import SloContext, slo_group
from sre_operator.models.assumptions import scrape_interval
from sre_operator.models.plan import Indicator, RatioIndicator, ServiceReliabilityPlan, Slo
from sre_operator.promql import parse_selector
from sre_operator.tiers import BurnTier, tiers_of

SLOW_INTERVAL_MIN = 5
STALENESS_MIN = 5
SYNTHETIC_METRIC = "slo_synthetic_requests_total"
SYNTHETIC_GROUP_VALUE = "synthetic"


@dataclass(frozen=True)
class Phase:
    minutes: int
    error_ratio: float
    requests_per_second: float


@dataclass
class Scenario:
    name: str
    phases: list[Phase] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    slow: bool = False
    not_applicable: str = ""

    def expect(self, minute: int, alert: str, labels: dict[str, str] | None, annotations: dict[str, str]) -> None:
        alerts = [] if labels is None else [{"exp_labels": labels, "exp_annotations": annotations}]
        self.checks.append({"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": alerts})


@dataclass(frozen=True)
class SloTestSuite:
    """Everything ``test-rules`` writes and reports for one SLO."""

    slo: str
    rules: dict[str, Any]
    fast_tests: dict[str, Any]
    slow_tests: dict[str, Any]
    scenarios: tuple[Scenario, ...]
    synthetic_reason: str


class _Traffic:
    """Turns phases into counter series that the SLO's selectors pick."""

    def __init__(self, slo: Slo, group_labels: dict[str, str]) -> None:
        self.slo = slo
        self.scrape = seconds(scrape_interval(slo))
        self.group_labels = group_labels
        self.streams: list[tuple[str, str]] = []  # (series, role): role is "bad", "good" or "total"
        self.reason = ""
        self._plan_streams()

    def _plan_streams(self) -> None:
        indicator = self.slo.indicator
        extra = self.group_labels
        if indicator.latency is not None:
            base = parse_selector(indicator.latency.histogram)
            labels = series_labels(base, extra)
            if labels is None:
                self.reason = "no series satisfies the histogram selector"
                return
            threshold = repr(indicator.latency.threshold).removesuffix(".0")
            self.streams = [
                (render_series(f"{base.metric}_bucket", {**labels, "le": threshold}), "good"),
                (render_series(f"{base.metric}_count", labels), "total"),
            ]
            return
        if indicator.ratio is None:
            self.reason = "an expression SLI cannot be fed synthetic traffic"
            return
        ratio = indicator.ratio
        total = parse_selector(ratio.total)
        counted = parse_selector(ratio.errors if ratio.errors is not None else ratio.good or "")
        role = "bad" if ratio.errors is not None else "good"
        other_role = "good" if role == "bad" else "bad"
        counted_labels = series_labels(counted, extra)
        other_labels = series_labels(total, extra, avoid=counted)
        if counted_labels is None or other_labels is None:
            self.reason = "no series satisfies the SLO's selectors"
            return
        if counted.accepts(total.metric, other_labels):
            self.reason = "every series of the total selector also matches the errors/good selector"
            return
        counted_series = render_series(counted.metric, counted_labels)
        in_total = total.accepts(counted.metric, counted_labels)
        self.streams = [
            (counted_series, role if in_total else role + "-only"),
            (render_series(total.metric, other_labels), other_role if in_total else "total"),
        ]

    def input_series(self, phases: list[Phase]) -> list[dict[str, str]]:
        return [{"series": series, "values": _values(phases, role, self.scrape)} for series, role in self.streams]


def _per_minute(phase: Phase, role: str) -> float:
    total = phase.requests_per_second * 60
    bad = total * phase.error_ratio
    return {"bad": bad, "good": total - bad, "total": total, "bad-only": bad, "good-only": total - bad}[role]


def _number(value: float) -> str:
    return f"{value:.10g}"


def _values(phases: list[Phase], role: str, scrape: float) -> str:
    """promtool's expanding notation for a counter through ``phases``, one sample a scrape. Each term starts
    from the value written out, so the counter never seems to reset where floating-point sums disagree."""
    parts: list[str] = []
    value = 0.0
    for index, phase in enumerate(phases):
        step = float(_number(_per_minute(phase, role) * scrape / 60))
        samples = round(phase.minutes * 60 / scrape)
        if index == 0:
            parts.append(f"0+{_number(step)}x{samples}")
        else:
            parts.append(f"{_number(value + step)}+{_number(step)}x{samples - 1}")
        value = float(_number(value + step * samples))
    return " ".join(parts)


def _unescape(text: str) -> str:
    return text.replace('{{ "{{" }}', "{{")


def _workbook_minutes(tiers: tuple[BurnTier, ...], window: str, burn: float) -> float | None:
    """The SRE Workbook's minutes after a constant ``burn`` starts (after a clean history) until the earliest
    of ``tiers`` fires."""
    times = [t for tier in tiers if (t := tier.detection_seconds(window, burn)) is not None]
    return min(times) / 60 if times else None


def _fire_minutes(tiers: tuple[BurnTier, ...], window: str, burn: float, tile_minutes: float) -> int | None:
    """The minute by which a tier must fire: no later than one evaluation after the Workbook's time."""
    found = _workbook_minutes(tiers, window, burn)
    return math.floor(found + tile_minutes) if found is not None else None


def _synthetic_twin(slo: Slo) -> Slo:
    """The SLO with a counter indicator promtool can be fed, keeping objective, window and alerting."""
    indicator = Indicator(
        ratio=RatioIndicator(
            errors=render_series(SYNTHETIC_METRIC, {"outcome": "error"}),
            total=SYNTHETIC_METRIC,
            group_by=_group_by(slo),
        )
    )
    return slo.model_copy(update={"indicator": indicator})


def _group_by(slo: Slo) -> list[str]:
    if slo.indicator.ratio is not None:
        return list(slo.indicator.ratio.group_by)
    if slo.indicator.latency is not None:
        return list(slo.indicator.latency.group_by)
    return []


def _scenarios(ctx: SloContext, group_labels: dict[str, str], rules: list[dict[str, Any]]) -> list[Scenario]:
    slo, window, budget = ctx.slo, ctx.window, ctx.budget
    scale = seconds(window) / seconds("30d")
    rate = max(10.0, 10 * (slo.alerting.min_request_rate or 0))
    alerts = {r["alert"]: r for r in rules if "alert" in r}

    def expected(alert: str) -> tuple[dict[str, str], dict[str, str]]:
        rule = alerts[alert]
        labels = {k: _unescape(v) for k, v in rule["labels"].items()}
        per_series = {} if alert == names.ALERT_NO_DATA else group_labels
        return {**labels, **per_series}, {k: _unescape(v) for k, v in rule["annotations"].items()}

    def quiet(scenario: Scenario, minute: int, *which: str) -> None:
        for alert in which:
            if alert in alerts:
                scenario.expect(minute, alert, None, {})

    def firing(scenario: Scenario, minute: int, alert: str) -> None:
        labels, annotations = expected(alert)
        scenario.expect(minute, alert, labels, annotations)

    page, ticket = names.ALERT_PAGE, names.ALERT_TICKET
    warmup = int(seconds("6h") / 60)
    tile = seconds(ctx.tile) / 60
    found: list[Scenario] = []

    outage = Scenario("a total outage pages within minutes and resolves once errors stop")
    fire = _fire_minutes(tiers_of("critical"), window, 1 / budget, tile)
    if page not in alerts:
        outage.not_applicable = "paging is off for this SLO"
    elif fire is None:
        outage.not_applicable = f"an objective of {slo.objective:g}% cannot page even on a total outage"
    else:
        outage.name = (
            f"a total outage pages within {fire} minute{'' if fire == 1 else 's'} (the Workbook's time plus one"
            " evaluation) and resolves once errors stop"
        )
        burst = fire + 5
        # Errors leave the slow page tier's short window exactly that long after they stop.
        resolve = int(seconds(tiers_of("critical")[-1].short) / 60) + math.ceil(tile)
        outage.phases = [Phase(warmup, 0, rate), Phase(burst, 1, rate), Phase(resolve + 10, 0, rate)]
        quiet(outage, warmup - 1, page, ticket)
        firing(outage, warmup + fire, page)
        quiet(outage, warmup + burst + resolve, page)
    found.append(outage)

    fast_burn = 20 * scale
    fast = Scenario(f"a {fast_burn:.3g}x burn pages within the hour")
    fire = _fire_minutes(tiers_of("critical"), window, fast_burn, tile)
    if page not in alerts:
        fast.not_applicable = "paging is off for this SLO"
    elif fast_burn * budget > 1:
        fast.not_applicable = f"a {fast_burn:.3g}x burn needs more than a 100% error ratio at {slo.objective:g}%"
    elif fire is None or fire > 60:
        fast.not_applicable = (
            f"the page tiers of a {window} window do not fire on a {fast_burn:.3g}x burn within the hour"
        )
    else:
        fast.phases = [Phase(warmup, 0, rate), Phase(61, fast_burn * budget, rate)]
        quiet(fast, warmup - 1, page)
        firing(fast, warmup + fire, page)
    found.append(fast)

    inside = 0.9 * scale
    calm = Scenario(f"errors inside the budget ({inside:.3g}x burn) alert nobody")
    calm.phases = [Phase(8 * 60, inside * budget, rate)]
    for hour in (1, 2, 4, 8):
        quiet(calm, hour * 60, page, ticket)
    found.append(calm)

    slow_burn = 5 * scale
    slow = Scenario(f"a {slow_burn:.3g}x burn never pages but opens a ticket within a day", slow=True)
    slow_interval = math.ceil(max(SLOW_INTERVAL_MIN, tile))
    theory = _workbook_minutes(tiers_of("warning"), window, slow_burn)
    if ticket not in alerts:
        slow.not_applicable = "tickets are off for this SLO"
    elif slow_burn * budget > 1 or theory is None:
        slow.not_applicable = f"a {slow_burn:.3g}x burn needs more than a 100% error ratio at {slo.objective:g}%"
    else:
        history = int(seconds("3d") / 60)
        # Evaluated every few minutes to keep three days quick: by the first evaluation a tile after the time.
        fire = math.ceil((theory + tile) / slow_interval) * slow_interval
        slow.phases = [Phase(history, 0, rate), Phase(24 * 60, slow_burn * budget, rate)]
        quiet(slow, history - slow_interval, ticket)
        for hour in (1, 6, 12, 24):
            quiet(slow, history + hour * 60, page)
        firing(slow, history + fire, ticket)
    found.append(slow)

    no_data = Scenario("the no-data alert fires when the SLI stops reporting")
    if slo.alerting.no_data_for is None:
        no_data.not_applicable = "alerting.noDataFor is not set"
    else:
        lasting = int(seconds(slo.alerting.no_data_for) / 60)
        no_data.name = f"the no-data alert fires once the SLI has been silent for {slo.alerting.no_data_for}"
        no_data.phases = [Phase(60, 0, rate)]
        lag = STALENESS_MIN if slo.indicator.expression is not None else 0
        quiet(no_data, 59, names.ALERT_NO_DATA)
        firing(no_data, 60 + lag + lasting + 2, names.ALERT_NO_DATA)
    found.append(no_data)

    guard = Scenario("the low-traffic guard keeps a total outage on thin traffic from paging")
    min_rate = slo.alerting.min_request_rate
    outage_fire = _fire_minutes(tiers_of("critical"), window, 1 / budget, tile)
    if min_rate is None or min_rate == 0:
        guard.not_applicable = "alerting.minRequestRate is not set"
    elif page not in alerts or outage_fire is None:
        guard.not_applicable = "this SLO cannot page on a total outage"
    else:
        guard.phases = [Phase(warmup, 0, min_rate / 2), Phase(60, 1, min_rate / 2)]
        quiet(guard, warmup + outage_fire + 5, page)
        quiet(guard, warmup + 60, page)
    found.append(guard)
    return found


def slo_test_suite(
    plan: ServiceReliabilityPlan, slo: Slo, rules_file: str, options: RenderOptions = DEFAULT_OPTIONS
) -> SloTestSuite:
    """The rules under test (one group), two promtool test files and the scenario list, for one SLO."""
    group_labels = {name: SYNTHETIC_GROUP_VALUE for name in _group_by(slo)}
    traffic = _Traffic(slo, group_labels)
    tested, why_synthetic = slo, traffic.reason  # said before the twin's own (empty) reason replaces it
    if traffic.reason:
        tested = _synthetic_twin(slo)
        traffic = _Traffic(tested, group_labels)
    ctx = SloContext(plan, tested, options)
    group = slo_group(ctx)
    scenarios = _scenarios(ctx, group_labels, group["rules"])

    def test_file(slow: bool) -> dict[str, Any]:
        tile = seconds(ctx.tile)
        interval = max(SLOW_INTERVAL_MIN * 60, tile) if slow else tile
        tests = [
            {
                "name": s.name,
                "interval": format_duration(traffic.scrape),
                "input_series": traffic.input_series(s.phases),
                "alert_rule_test": s.checks,
            }
            for s in scenarios
            if s.slow == slow and not s.not_applicable
        ]
        return {"rule_files": [rules_file], "evaluation_interval": format_duration(interval), "tests": tests}

    return SloTestSuite(
        slo.name,
        {"groups": [group]},
        test_file(False),
        test_file(True),
        tuple(scenarios),
        _reason(why_synthetic, tested is not slo),
    )


def _reason(traffic_reason: str, twin: bool) -> str:
    if not twin:
        return ""
    return f"alert logic tested on a synthetic indicator: {traffic_reason}"


def plan_test_suites(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> list[SloTestSuite]:
    return [slo_test_suite(plan, slo, f"{slo.name}.rules.yaml", options) for slo in plan.spec.slos]


__all__ = ["Phase", "Scenario", "SloTestSuite", "plan_test_suites", "slo_test_suite"]
