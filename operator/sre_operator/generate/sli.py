"""PromQL for one SLO's indicator: error and request rates over a window, or a raw error ratio.

Ratio and latency SLIs are recorded as error and request rates: every tile's
worth for the alert windows, and once an hour over the hour for the SLO window.
Every longer window's error ratio is the sum of recorded errors over the sum of
recorded requests: traffic-weighted, and nothing runs ``rate`` over raw series
for longer than an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sre_operator.models.plan import Slo
from sre_operator.promql import Matcher, Selector, parse_selector
from sre_operator.tiers import SHORTEST_WINDOW, Tiling


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
        return self._errors(lambda selector: _sum(selector, self.group_by, window), requests, f"0 * {requests}")

    def requests_per_tile(self, tile: Tiling) -> str:
        return _tile_sum(self.total, self.group_by, tile)

    def errors_per_tile(self, tile: Tiling) -> str:
        # Zero wherever the requests tile has a value: a group whose counters have a sample now and a tile
        # ago, looked up once each rather than computing the requests tile again.
        zero = f"0 * sum{_by(self.group_by)}({tile.lookup(self.total)} and {tile.lookup(self.total, offset=True)})"
        return self._errors(
            lambda selector: _tile_sum(selector, self.group_by, tile), self.requests_per_tile(tile), zero
        )

    def _errors(self, summed: Callable[[str], str], requests: str, zero: str) -> str:
        """Errors, or failing that (no error was ever counted) ``zero``: 0 with the requests' labels."""
        if self.errors is not None:
            return f"({summed(self.errors)} or ({zero}))"
        assert self.good is not None
        return f"({requests} - ({summed(self.good)} or ({zero})))"


@dataclass(frozen=True)
class ExpressionSli:
    """SLI given as a ratio expression with ``$window``."""

    error_ratio_template: str

    def error_ratio(self, window: str) -> str:
        return f"({self.error_ratio_template.replace('$window', window)})"


def _by(group_by: tuple[str, ...]) -> str:
    return f" by ({', '.join(group_by)}) " if group_by else ""


def _sum(selector: str, group_by: tuple[str, ...], window: str) -> str:
    return f"sum{_by(group_by)}(rate({selector}[{window}]))"


def _tile_sum(selector: str, group_by: tuple[str, ...], tiling: Tiling) -> str:
    """The mean rate over the last tile, as each counter's value now less its value a tile ago: the tiles
    chain sample to sample, so no increase is counted twice or lost, and nothing is extrapolated (``rate``
    guesses the span before a range's first sample and, for a counter near zero, guesses it short). A counter
    that went down was reset: its value now is what it counted since (``now < before`` keeps ``now``)."""
    now, before = tiling.lookup(selector), tiling.lookup(selector, offset=True)
    return f"sum{_by(group_by)}((({now} - {before}) >= 0) or ({now} < {before})) / {tiling.tile_seconds:g}"


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
