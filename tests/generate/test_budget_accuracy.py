"""The remaining budget is traffic-weighted: a short burst at high traffic counts for what it served.

Sloth's window ratio averages short-window ratios over time, so a 20-minute
burst at ten times the usual traffic weighs as much as any quiet 20 minutes.
Here promtool evaluates the generated rules over a whole 7-day window of
synthetic counters, and the remaining budget is compared with the value
computed by hand from those counters.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from sre_operator.generate import prometheus_rule
from tests.conftest import plan_from_yaml

PLAN = """
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {name: uneven, namespace: default}
spec:
  service: {name: uneven, owner: {team: t}}
  slos:
    - name: availability
      objective: 99
      window: 7d
      indicator: {ratio: {errors: 'requests_total{code="500"}', total: 'requests_total'}}
"""

WINDOW_MIN = 7 * 24 * 60
BURST_START_MIN, BURST_MIN = 3 * 24 * 60, 20
QUIET_PER_MIN, QUIET_ERRORS_PER_MIN = 60, 0.03  # 1 request/s, 0.05% errors
BURST_PER_MIN, BURST_ERRORS_PER_MIN = 600, 120  # ten times the traffic, 20% errors
BUDGET = 0.01


def counter(quiet: float, burst: float) -> str:
    """promtool notation: one sample a minute for the whole window, with the burst in the middle."""
    before = f"0+{quiet}x{BURST_START_MIN}"
    at_burst = quiet * BURST_START_MIN
    during = f"{at_burst + burst}+{burst}x{BURST_MIN - 1}"
    at_end = at_burst + burst * BURST_MIN
    after = f"{at_end + quiet}+{quiet}x{WINDOW_MIN - BURST_START_MIN - BURST_MIN - 1}"
    return f"{before} {during} {after}"


def by_hand() -> tuple[float, float]:
    """Remaining budget over the window: traffic-weighted, and time-averaged as Sloth computes it."""
    quiet_minutes = WINDOW_MIN - BURST_MIN
    errors = QUIET_ERRORS_PER_MIN * quiet_minutes + BURST_ERRORS_PER_MIN * BURST_MIN
    requests = QUIET_PER_MIN * quiet_minutes + BURST_PER_MIN * BURST_MIN
    weighted = 1 - errors / requests / BUDGET
    time_averaged_ratio = (
        QUIET_ERRORS_PER_MIN / QUIET_PER_MIN * quiet_minutes + BURST_ERRORS_PER_MIN / BURST_PER_MIN * BURST_MIN
    ) / WINDOW_MIN
    return weighted, 1 - time_averaged_ratio / BUDGET


def test_remaining_budget_is_within_one_percent_of_the_hand_computed_value(promtool: str, tmp_path: Path) -> None:
    weighted, time_averaged = by_hand()
    # The two methods really disagree on this traffic, so agreeing with the first one means something.
    assert abs(time_averaged - weighted) / abs(weighted) > 0.3
    rule = prometheus_rule(plan_from_yaml(PLAN))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]), encoding="utf-8")
    remaining = 'slo:error_budget_remaining:ratio{slo="availability"}'
    test = {
        "rule_files": ["rules.yaml"],
        # With 5-minute rates evaluated every 5 minutes each instant is counted once.
        "evaluation_interval": "5m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": 'requests_total{code="500"}',
                        "values": counter(QUIET_ERRORS_PER_MIN, BURST_ERRORS_PER_MIN),
                    },
                    {
                        "series": 'requests_total{code="200"}',
                        "values": counter(QUIET_PER_MIN - QUIET_ERRORS_PER_MIN, BURST_PER_MIN - BURST_ERRORS_PER_MIN),
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": f"abs({remaining} - {weighted}) < bool {0.01 * abs(weighted)}",
                        "eval_time": f"{WINDOW_MIN}m",
                        "exp_samples": [
                            {
                                "labels": '{namespace="default", service="uneven", slo="availability", window="7d"}',
                                "value": 1,
                            }
                        ],
                    },
                    {
                        "expr": f"abs({remaining} - {time_averaged}) < bool {0.01 * abs(time_averaged)}",
                        "eval_time": f"{WINDOW_MIN}m",
                        "exp_samples": [
                            {
                                "labels": '{namespace="default", service="uneven", slo="availability", window="7d"}',
                                "value": 0,
                            }
                        ],
                    },
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, width=10_000), encoding="utf-8")
    result = subprocess.run(
        [promtool, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
