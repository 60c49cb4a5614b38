"""PromQL for one SLO's indicator: the 5-minute error and request rates, or a raw error ratio.

Ratio and latency SLIs are recorded as two 5-minute rates. Every longer
window's error ratio is the sum of recorded errors over the sum of recorded
requests: traffic-weighted, exact when evaluations are evenly spaced (each
instant is covered by the same number of 5-minute windows in both sums), and
it never runs ``rate`` over raw series for days.
"""

from __future__ import annotations

from dataclasses import dataclass

from sre_operator.generate.tiers import SHORTEST_WINDOW
from sre_operator.models.plan import Slo
from sre_operator.promql import Matcher, Selector, parse_selector


@dataclass(frozen=True)
class CounterSli:
    """SLI measured as counted events: both expressions aggregate to ``group_by``."""

    errors_rate: str
    requests_rate: str
    group_by: tuple[str, ...]
    total_selector: Selector


@dataclass(frozen=True)
class ExpressionSli:
    """SLI given as a ratio expression with ``$window``."""

    error_ratio_template: str

    def error_ratio(self, window: str) -> str:
        return f"({self.error_ratio_template.replace('$window', window)})"


def _sum(expression: str, group_by: tuple[str, ...]) -> str:
    by = f" by ({', '.join(group_by)}) " if group_by else ""
    return f"sum{by}(rate({expression}[{SHORTEST_WINDOW}]))"


def _bucket_bound_matcher(threshold: float) -> Matcher:
    """``le`` as Go's client libraries write it (0.3, 1) and as Prometheus 3 normalises it (1.0)."""
    spellings = {repr(threshold).removesuffix(".0"), repr(float(threshold))}
    return Matcher("le", "=~", "|".join(sorted(s.replace(".", "\\.") for s in spellings)))


def build_sli(slo: Slo) -> CounterSli | ExpressionSli:
    indicator = slo.indicator
    if indicator.ratio is not None:
        ratio = indicator.ratio
        group_by = tuple(ratio.group_by)
        total = parse_selector(ratio.total)
        requests = _sum(total.render(), group_by)
        if ratio.errors is not None:
            errors = f"({_sum(parse_selector(ratio.errors).render(), group_by)} or (0 * {requests}))"
        else:
            assert ratio.good is not None
            good = _sum(parse_selector(ratio.good).render(), group_by)
            errors = f"({requests} - ({good} or (0 * {requests})))"
        return CounterSli(errors, requests, group_by, total)
    if indicator.latency is not None:
        latency = indicator.latency
        group_by = tuple(latency.group_by)
        histogram = parse_selector(latency.histogram)
        count = histogram.with_metric(f"{histogram.metric}_count")
        fast = histogram.with_metric(f"{histogram.metric}_bucket").with_matcher(
            _bucket_bound_matcher(latency.threshold)
        )
        requests = _sum(count.render(), group_by)
        errors = f"({requests} - ({_sum(fast.render(), group_by)} or (0 * {requests})))"
        return CounterSli(errors, requests, group_by, count)
    assert indicator.expression is not None
    return ExpressionSli(indicator.expression.error_ratio)
