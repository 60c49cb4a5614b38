"""A restarted process resets its counters: the tile that spans the restart counts what was counted since,
and an SLI whose error counter never existed still records zero errors beside every requests tile.

promtool evaluates the generated rules over an hour of counters scraped every 15 s that restart at minute
30; the recorded tiles are summed and compared with the requests and errors counted by hand.
"""

from __future__ import annotations

from pathlib import Path

from sre_operator.generate import prometheus_rule
from tests.conftest import plan_from_yaml
from tests.support.promtool import failed_rule_tests

PLAN = """
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {name: restarts, namespace: default}
spec:
  service: {name: restarts, owner: {team: t}}
  slos:
    - name: availability
      objective: 99
      indicator:
        ratio: {errors: 'requests_total{code="500"}', total: 'requests_total'}
        scrapeInterval: 15s
    - name: never-failed
      objective: 99
      indicator:
        ratio: {errors: 'requests_total{code="503"}', total: 'requests_total'}
        scrapeInterval: 15s
"""

NEVER_FAILED_ERRORS = 'slo:sli:rate{slo="never-failed", sli="errors"}'
NEVER_FAILED_ERRORS_LABELS = '{namespace="default", service="restarts", slo="never-failed", sli="errors"}'
SCRAPE_SECONDS, MINUTES, RESTART_MINUTE = 15, 60, 30
OK_PER_SCRAPE, ERRORS_PER_SCRAPE = 12, 3


def restarting_counter(per_scrape: int) -> str:
    """A counter scraped every 15 s for an hour that starts again from zero just after minute 30's scrape."""
    restart = RESTART_MINUTE * 60 // SCRAPE_SECONDS
    values = [per_scrape * (k if k <= restart else k - restart) for k in range(MINUTES * 60 // SCRAPE_SECONDS + 1)]
    return " ".join(str(v) for v in values)


def summed(slo: str, sli: str) -> str:
    """Everything the tiles of the hour counted (the first tile, at minute 0, has nothing a tile before it)."""
    return f'sum_over_time(slo:sli:rate{{slo="{slo}", sli="{sli}"}}[59m30s]) * 60'


def test_a_restart_counts_what_was_counted_since_and_a_missing_error_counter_counts_zero(
    promtool: str, tmp_path: Path
) -> None:
    rule = prometheus_rule(plan_from_yaml(PLAN))
    scrapes = MINUTES * 60 // SCRAPE_SECONDS
    requests, errors = (OK_PER_SCRAPE + ERRORS_PER_SCRAPE) * scrapes, ERRORS_PER_SCRAPE * scrapes
    at_the_hour = f"{MINUTES}m"

    def expect(expr: str, value: float, labels: str = "{}") -> dict[str, object]:
        return {"expr": expr, "eval_time": at_the_hour, "exp_samples": [{"labels": labels, "value": value}]}

    tests = [
        {
            "interval": f"{SCRAPE_SECONDS}s",
            "input_series": [
                {"series": 'requests_total{code="200"}', "values": restarting_counter(OK_PER_SCRAPE)},
                {"series": 'requests_total{code="500"}', "values": restarting_counter(ERRORS_PER_SCRAPE)},
            ],
            "promql_expr_test": [
                expect(f"sum({summed('availability', 'requests')})", requests),
                expect(f"sum({summed('availability', 'errors')})", errors),
                expect(f"sum({summed('never-failed', 'errors')})", 0),
                # A zero beside every requests tile, not a gap: the windows divide sums of equal counts.
                expect(f"count_over_time({NEVER_FAILED_ERRORS}[59m30s])", 60, NEVER_FAILED_ERRORS_LABELS),
            ],
        }
    ]
    failures = failed_rule_tests(promtool, tmp_path, rule["spec"], tests)
    assert not failures, failures
