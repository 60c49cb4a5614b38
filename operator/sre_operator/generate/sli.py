"""PromQL for one SLO's indicator: error and request rates over a window, or a raw error ratio.

Ratio and latency SLIs are recorded as error and request rates: every 5 minutes'
worth for the alert windows, and once an hour over the hour for the SLO window.
Every longer window's error ratio is the sum of recorded errors over the sum of
recorded requests: traffic-weighted, and nothing runs ``rate`` over raw series
for longer than an hour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sre_operator.generate.tiers import SHORTEST_WINDOW
from sre_operator.models.plan import Slo
from sre_operator.promql import Matcher, Selector, parse_selector


@dataclass(frozen=True)
class CounterSli:
    """SLI measured as counted events; ``errors`` or ``good`` is set, both rates aggregate to ``group_by``."""

    total: str
    errors: str | None
    good: str | None
    group_by: tuple[str, ...]
    total_selector: Selector

    def requests_rate(self, window: str = SHORTEST_WINDOW) -> str:
        return _sum(self.total, self.group_by, window)

    def errors_rate(self, window: str = SHORTEST_WINDOW) -> str:
        requests = self.requests_rate(window)
        if self.errors is not None:
            return f"({_sum(self.errors, self.group_by, window)} or (0 * {requests}))"
        assert self.good is not None
        return f"({requests} - ({_sum(self.good, self.group_by, window)} or (0 * {requests})))"


@dataclass(frozen=True)
class ExpressionSli:
    """SLI given as a ratio expression with ``$window``."""

    error_ratio_template: str

    def error_ratio(self, window: str) -> str:
        return f"({self.error_ratio_template.replace('$window', window)})"


def _sum(selector: str, group_by: tuple[str, ...], window: str) -> str:
    by = f" by ({', '.join(group_by)}) " if group_by else ""
    return f"sum{by}(rate({selector}[{window}]))"


def _bucket_bound_matcher(threshold: float) -> Matcher:
    """``le`` as Go's client libraries write it (0.3, 1) and as Prometheus 3 normalises it (1.0)."""
    spellings = {repr(threshold).removesuffix(".0"), repr(float(threshold))}
    return Matcher("le", "=~", "|".join(sorted(s.replace(".", "\\.") for s in spellings)))


def build_sli(slo: Slo) -> CounterSli | ExpressionSli:
    indicator = slo.indicator
    if indicator.ratio is not None:
        ratio = indicator.ratio
        total = parse_selector(ratio.total)
        errors = parse_selector(ratio.errors).render() if ratio.errors is not None else None
        good = parse_selector(ratio.good).render() if ratio.good is not None else None
        return CounterSli(total.render(), errors, good, tuple(ratio.group_by), total)
    if indicator.latency is not None:
        latency = indicator.latency
        histogram = parse_selector(latency.histogram)
        count = histogram.with_metric(f"{histogram.metric}_count")
        fast = histogram.with_metric(f"{histogram.metric}_bucket").with_matcher(
            _bucket_bound_matcher(latency.threshold)
        )
        return CounterSli(count.render(), None, fast.render(), tuple(latency.group_by), count)
    assert indicator.expression is not None
    return ExpressionSli(indicator.expression.error_ratio)
