"""When an alert fires and clears on given traffic, as a real promtool sees it.

A scenario is a clean history, then phases of error ratios, on a constant request rate, scraped at a given
interval. The rules under test are evaluated by ``promtool test rules`` at every evaluation interval, each
evaluation asking for no alert: every failure promtool reports is a moment the alert was firing. From those
moments come the minutes after the errors start that the alert fired, and after they stop that it cleared.

Used by the suite (tests/generate/test_alert_speed.py) and by bench/alert_speed_bench.py, which prints the
table in docs/rules.md.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sre_operator.durations import seconds
from sre_operator.generate import prometheus_rule
from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.tiers import TIERS, BurnTier

JOB = "checkout"
ERRORS = f'http_requests_total{{job="{JOB}",code="500"}}'
TOTAL = f'http_requests_total{{job="{JOB}"}}'
REQUESTS_PER_SECOND = 10.0
BASELINE_ERROR_RATIO = 0.0001
WARMUP_SECONDS = 6 * 3600
AFTER_SECONDS = 3600


@dataclass(frozen=True)
class Phase:
    seconds: int
    error_ratio: float


@dataclass(frozen=True)
class Scenario:
    """Errors after ``warmup`` seconds at the baseline ratio, then ``after`` seconds of it again."""

    name: str
    phases: tuple[Phase, ...]
    warmup: int = WARMUP_SECONDS
    after: int = AFTER_SECONDS

    @property
    def errors_start(self) -> int:
        return self.warmup

    @property
    def errors_end(self) -> int:
        return self.warmup + sum(p.seconds for p in self.phases)

    @property
    def horizon(self) -> int:
        return self.errors_end + self.after

    def workbook_seconds(self, tiers: Sequence[BurnTier], budget: float, window: str) -> float | None:
        """The Workbook's detection time of the earliest of ``tiers``: a constant burn fires a tier once the
        long window holds ``factor x budget`` of its requests in errors, if the errors last that long."""
        ratio = self.phases[0].error_ratio
        lasting = sum(p.seconds for p in self.phases)
        times = [
            t for tier in tiers if (t := tier.detection_seconds(window, ratio / budget)) is not None and t <= lasting
        ]
        return min(times) if times else None


def scenarios(budget: float) -> list[Scenario]:
    """The issue's scenarios for an SLO with ``budget`` (1 - objective)."""
    return [
        Scenario("total outage", (Phase(3600, 1.0),)),
        Scenario("10x burn", (Phase(5 * 3600, min(1.0, 10 * budget)),)),
        Scenario("20x burn", (Phase(3 * 3600, min(1.0, 20 * budget)),)),
        Scenario("90 s of total failure", (Phase(90, 1.0),)),
        Scenario("5 min of total failure", (Phase(300, 1.0),)),
    ]


def _counter(steps: list[float]) -> str:
    """A counter from 0 through ``steps``, every sample written out: promtool's expanding notation adds its
    steps in floating point, and where the next term starts a hair lower the counter seems to reset."""
    values, total = ["0"], 0.0
    for step in steps:
        total += step
        values.append(f"{total:.6f}")
    return " ".join(values)


def input_series(scenario: Scenario, scrape: int) -> list[dict[str, str]]:
    """The errors (code 500) and successes (code 200) counters: each sample holds the scrape before it."""
    ratios: list[float] = [BASELINE_ERROR_RATIO] * (scenario.warmup // scrape)
    for phase in scenario.phases:
        ratios += [phase.error_ratio] * (phase.seconds // scrape)
    ratios += [BASELINE_ERROR_RATIO] * (scenario.after // scrape + 1)
    per_scrape = REQUESTS_PER_SECOND * scrape
    errors = [per_scrape * r for r in ratios]
    good = [per_scrape - e for e in errors]
    return [
        {"series": f'http_requests_total{{job="{JOB}",code="500"}}', "values": _counter(errors)},
        {"series": f'http_requests_total{{job="{JOB}",code="200"}}', "values": _counter(good)},
    ]


@dataclass(frozen=True)
class Timing:
    """Seconds after the errors start that ``alert`` first fired, and after they stop that it last cleared."""

    fired: float | None
    cleared: float | None


def measure(
    promtool: str,
    groups: list[dict[str, Any]],
    alerts: Sequence[str],
    cases: Sequence[Scenario],
    *,
    scrape: int,
    evaluation: int,
) -> dict[tuple[str, str], Timing]:
    """Each alert's timing in each scenario, from one promtool run."""
    with tempfile.TemporaryDirectory(prefix="alert-timing-") as folder:
        rules = Path(folder) / "rules.yaml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
        tests = []
        for case in cases:
            checks = [
                {"eval_time": f"{t}s", "alertname": alert, "exp_alerts": []}
                for t in range(case.errors_start - 600, case.horizon + 1, evaluation)
                for alert in alerts
            ]
            tests.append(
                {
                    "name": case.name,
                    "interval": f"{scrape}s",
                    "input_series": input_series(case, scrape),
                    "alert_rule_test": checks,
                }
            )
        test_file = Path(folder) / "test.yaml"
        test_file.write_text(
            yaml.safe_dump(
                {"rule_files": [rules.name], "evaluation_interval": f"{evaluation}s", "tests": tests}, sort_keys=False
            ),
            encoding="utf-8",
        )
        run = subprocess.run(
            [promtool, "test", "rules", test_file.name], cwd=folder, capture_output=True, text=True, timeout=900
        )
    firing = _firing(run.stdout + run.stderr)
    if run.returncode != 0 and not firing:
        raise RuntimeError(f"promtool failed without a firing alert:\n{run.stdout}\n{run.stderr}")
    found = {}
    for case in cases:
        for alert in alerts:
            moments = sorted(firing.get((case.name, alert), []))
            fired = next((m - case.errors_start for m in moments if m >= case.errors_start), None)
            after = [m for m in moments if m >= case.errors_end]
            cleared = None  # also when still firing at the horizon
            if fired is not None and (not after or after[-1] + evaluation <= case.horizon):
                last = after[-1] if after else max(moments)
                cleared = max(0.0, last + evaluation - case.errors_end)
            found[(case.name, alert)] = Timing(fired, cleared)
    return found


_NAME = re.compile(r"^\s*name: (.*),\s*$")
_ALERT = re.compile(r"^\s*alertname: (\S+), time: (\S+?),")


def _firing(output: str) -> dict[tuple[str, str], list[float]]:
    found: dict[tuple[str, str], list[float]] = {}
    name = ""
    for line in output.splitlines():
        if matched := _NAME.match(line):
            name = matched.group(1)
        elif matched := _ALERT.match(line):
            found.setdefault((name, matched.group(1)), []).append(seconds(matched.group(2)))
    return found


PAGE, TICKET = "SLOErrorBudgetFastBurn", "SLOErrorBudgetSlowBurn"


def one_slo_plan(
    objective: float, *, window: str = "30d", errors: str = ERRORS, total: str = TOTAL, scrape: int | None = None
) -> ServiceReliabilityPlan:
    """A plan with one ratio SLO named availability, in namespace shop, for service checkout."""
    indicator: dict[str, Any] = {"ratio": {"errors": errors, "total": total}}
    if scrape is not None:
        indicator["scrapeInterval"] = f"{scrape}s"
    document = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": JOB, "namespace": "shop"},
        "spec": {
            "service": {"name": JOB, "owner": {"team": "payments"}},
            "slos": [{"name": "availability", "objective": objective, "window": window, "indicator": indicator}],
        },
    }
    parsed = parse_document(document)
    assert isinstance(parsed.model, ServiceReliabilityPlan), parsed.problems
    return parsed.model


def our_groups(objective: float, scrape: int, window: str = "30d") -> list[dict[str, Any]]:
    """The operator's rule group for one ratio SLO on the scenario's series."""
    groups: list[dict[str, Any]] = prometheus_rule(one_slo_plan(objective, window=window, scrape=scrape))["spec"][
        "groups"
    ]
    return groups


def raw_rate_groups(objective: float, window: str = "30d") -> list[dict[str, Any]]:
    """Rules shaped as Sloth generates them: each window's ratio is a ``rate`` over the raw series, and the
    alerts compare the windows' ratios with the same tiers."""
    budget = round(1 - objective / 100, 10)
    windows = sorted({w for t in TIERS for w in (t.long, t.short)}, key=seconds)
    rules: list[dict[str, Any]] = [
        {
            "record": "slo:sli_error:ratio_rate",
            "expr": f"sum(rate({ERRORS}[{w}])) / sum(rate({TOTAL}[{w}]))",
            "labels": {"sloth_window": w},
        }
        for w in windows
    ]

    def tier(t: BurnTier) -> str:
        threshold = f"{t.factor(window) * budget:.10g}"
        return (
            f'(max without (sloth_window) (slo:sli_error:ratio_rate{{sloth_window="{t.long}"}} > {threshold})'
            f' and max without (sloth_window) (slo:sli_error:ratio_rate{{sloth_window="{t.short}"}} > {threshold}))'
        )

    for alert, severity in ((PAGE, "critical"), (TICKET, "warning")):
        rules.append({"alert": alert, "expr": " or ".join(tier(t) for t in TIERS if t.severity == severity)})
    return [{"name": "raw-rate", "rules": rules}]


PYRRA_TIERS = (("1h", "5m", 14, PAGE), ("6h", "30m", 7, PAGE), ("1d", "2h", 2, TICKET), ("4d", "6h", 1, TICKET))
"""Pyrra's burn-rate alerts for its 4-week window: (long, short, factor, which of our alerts it stands beside)."""


def pyrra_shaped_groups(objective: float) -> list[dict[str, Any]]:
    """Rules shaped as Pyrra generates them for a ratio SLO over 4 weeks: a burn rate per window from raw series,
    an alert per tier (named here as ours, so one measurement reads both)."""
    budget = round(1 - objective / 100, 10)
    windows = sorted({w for long, short, _, _ in PYRRA_TIERS for w in (long, short)}, key=seconds)
    rules: list[dict[str, Any]] = [
        {"record": "http_requests:burnrate", "expr": f"sum(rate({ERRORS}[{w}])) / sum(rate({TOTAL}[{w}]))",
         "labels": {"window": w}}
        for w in windows
    ]  # fmt: skip
    for long, short, factor, alert in PYRRA_TIERS:
        threshold = f"{factor * budget:.10g}"
        rules.append({
            "alert": alert,
            "expr": f'max without (window) (http_requests:burnrate{{window="{long}"}} > {threshold})'
                    f' and max without (window) (http_requests:burnrate{{window="{short}"}} > {threshold})',
            "labels": {"long": long, "short": short},  # as Pyrra's: two tiers of one alert firing at once differ
        })  # fmt: skip
    return [{"name": "pyrra-shaped", "rules": rules}]
