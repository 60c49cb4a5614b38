"""What an SLO's rules cost Prometheus: ours beside Sloth-shaped and Pyrra-shaped rules, on the same traffic.

30 days of synthetic counters (a daily traffic shape, error bursts, four instances of one service, three
status codes, one sample a minute) are loaded, and each rule set is evaluated at every evaluation
interval over the whole month, in order, by Prometheus' own rule manager and query engine
(``bench/rule-engine``, built from the Prometheus 3.16 Go module). That is what ``promtool test rules``
does, but promtool's test engine refuses any query that loads more than 10,000 samples, which every
30-day window at one sample a minute exceeds (Sloth's and Pyrra's shapes fail there on the first
day), so the harness keeps a production Prometheus' limits. Runs are alternated (ours, Sloth, Pyrra,
then again) and the CPU time of the evaluations alone is measured. At the end of the month each rule
set's remaining budget is read back and set beside the traffic-weighted value computed by hand.

The peers' rules are written here from their documentation and generated examples, for the same SLO
(99.9% of requests without a 5xx, 30 days, page and ticket tiers); they are shapes, not their code.

Run: .venv/bin/python bench/rule_cost_bench.py [--rounds 3]
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sre_operator.generate import prometheus_rule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.alert_timing import one_slo_plan  # noqa: E402 - after the path is set

DAYS = 30
MINUTES = DAYS * 24 * 60
OBJECTIVE = 0.999
BUDGET = round(1 - OBJECTIVE, 10)
INSTANCES = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
PEAK_REQUESTS_PER_SECOND = 50.0
BASE_ERROR_RATIO = 0.0003
NOT_FOUND_RATIO = 0.02
# (day, minute of the day, minutes, error ratio): bursts at odd minutes, so none lines up with an hour.
BURSTS = ((2, 14 * 60 + 17, 40, 0.2), (9, 3 * 60 + 41, 25, 0.5), (16, 20 * 60 + 5, 90, 0.05), (24, 11 * 60 + 53, 15, 1))
JOB = "checkout"
ERRORS = f'http_requests_total{{job="{JOB}",code=~"5.."}}'
TOTAL = f'http_requests_total{{job="{JOB}"}}'


def requests_per_minute(minute: int) -> float:
    """The daily shape: a trough at 04:00 a fifth of the 16:00 peak."""
    hour = (minute % 1440) / 60
    share = 0.6 - 0.4 * math.cos(2 * math.pi * (hour - 4) / 24)
    return PEAK_REQUESTS_PER_SECOND * 60 * share


def error_ratio(minute: int) -> float:
    for day, start, length, ratio in BURSTS:
        first = day * 1440 + start
        if first <= minute < first + length:
            return ratio
    return BASE_ERROR_RATIO


def increments(instance_share: float, code: str) -> list[float]:
    """Per-minute counter increments of one series: minute m's traffic lands in the sample at m + 1."""
    found = []
    for minute in range(MINUTES):
        total = requests_per_minute(minute) * instance_share
        errors = total * error_ratio(minute)
        found.append(
            {"500": errors, "404": (total - errors) * NOT_FOUND_RATIO, "200": (total - errors) * (1 - NOT_FOUND_RATIO)}[
                code
            ]
        )
    return found


def expanding(steps: list[float]) -> str:
    """promtool's notation for a counter starting at 0, one sample a minute; runs of equal steps share a term."""
    terms, value, index = [], 0.0, 0
    first = True
    while index < len(steps):
        step = round(steps[index], 6)
        end = index
        while end + 1 < len(steps) and round(steps[end + 1], 6) == step:
            end += 1
        run = end - index + 1
        if first:
            terms.append(f"0+{step:.6f}x{run}")
            first = False
        else:
            terms.append(f"{value + step:.6f}+{step:.6f}x{run - 1}")
        value += step * run
        index = end + 1
    return " ".join(terms)


def traffic() -> tuple[list[dict[str, str]], float]:
    """The input series, and the share of requests that failed over the month, counted by hand."""
    series, errors, total = [], 0.0, 0.0
    for instance, share in INSTANCES.items():
        for code in ("200", "404", "500"):
            steps = increments(share, code)
            series.append(
                {
                    "series": f'http_requests_total{{job="{JOB}",instance="{instance}",code="{code}"}}',
                    "values": expanding(steps),
                }
            )
            total += sum(steps)
            errors += sum(steps) if code == "500" else 0
    return series, errors / total


def our_rules() -> tuple[dict[str, Any], str]:
    # One sample a minute: the series are declared scraped every minute (a 1m tile).
    plan = one_slo_plan(OBJECTIVE * 100, window=f"{DAYS}d", errors=ERRORS, total=TOTAL, scrape=60)
    return prometheus_rule(plan)["spec"], 'slo:error_budget_remaining:ratio{slo="availability"}'


def _ratio(window: str) -> str:
    return f"sum(rate({ERRORS}[{window}])) / sum(rate({TOTAL}[{window}]))"


def sloth_rules() -> tuple[dict[str, Any], str]:
    """Sloth's shape: a ratio per window from raw series, the 30d ratio averaged from the 5m one, metadata."""
    ids = {"sloth_id": f"{JOB}-availability", "sloth_service": JOB, "sloth_slo": "availability"}
    selector = ", ".join(f'{k}="{v}"' for k, v in ids.items())
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    sli = [
        {"record": f"slo:sli_error:ratio_rate{w}", "expr": f"({_ratio(w)})", "labels": {**ids, "sloth_window": w}}
        for w in windows
    ]
    sli.append(
        {
            "record": "slo:sli_error:ratio_rate30d",
            "expr": f"sum_over_time(slo:sli_error:ratio_rate5m{{{selector}}}[30d])"
            f" / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{{{selector}}}[30d])",
            "labels": {**ids, "sloth_window": "30d"},
        }
    )
    on = "on(sloth_id, sloth_slo, sloth_service) group_left"
    meta = [
        {"record": "slo:objective:ratio", "expr": f"vector({OBJECTIVE})", "labels": ids},
        {"record": "slo:error_budget:ratio", "expr": f"vector(1-{OBJECTIVE})", "labels": ids},
        {"record": "slo:time_period:days", "expr": f"vector({DAYS})", "labels": ids},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{{{selector}}} / {on} slo:error_budget:ratio{{{selector}}}",
            "labels": ids,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate30d{{{selector}}} / {on} slo:error_budget:ratio{{{selector}}}",
            "labels": ids,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{{{selector}}}",
            "labels": ids,
        },
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": {**ids, "sloth_version": "bench"}},
    ]

    def tier(short: str, long: str, factor: float) -> str:
        return (
            f"(max(slo:sli_error:ratio_rate{short}{{{selector}}} > ({factor} * {BUDGET:g})) without (sloth_window)"
            f" and max(slo:sli_error:ratio_rate{long}{{{selector}}} > ({factor} * {BUDGET:g})) without (sloth_window))"
        )

    alerts = [
        {
            "alert": "CheckoutAvailabilityPage",
            "expr": f"{tier('5m', '1h', 14.4)} or ignoring(sloth_window) {tier('30m', '6h', 6)}",
            "labels": {"severity": "critical", "sloth_severity": "page"},
        },
        {
            "alert": "CheckoutAvailabilityTicket",
            "expr": f"{tier('2h', '1d', 3)} or ignoring(sloth_window) {tier('6h', '3d', 1)}",
            "labels": {"severity": "warning", "sloth_severity": "ticket"},
        },
    ]
    groups = [
        {"name": "sloth-slo-sli-recordings-checkout-availability", "rules": sli},
        {"name": "sloth-slo-meta-recordings-checkout-availability", "rules": meta},
        {"name": "sloth-slo-alerts-checkout-availability", "rules": alerts},
    ]
    return {"groups": groups}, "slo:period_error_budget_remaining:ratio"


def pyrra_rules() -> tuple[dict[str, Any], str]:
    """Pyrra's shape (default options): a burn rate per window from raw series, the 30d increase, four alerts."""
    labels = {"slo": "checkout-availability"}
    increase = {
        "name": "checkout-availability-increase",
        "interval": "2m30s",
        "rules": [
            {
                "record": "http_requests:increase30d",
                "expr": f"sum by (code) (increase({TOTAL}[30d]))",
                "labels": {**labels, "job": JOB},
            },
            {
                "alert": "SLOMetricAbsent",
                "expr": f"absent({TOTAL}) == 1",
                "for": "2m",
                "labels": {**labels, "job": JOB, "severity": "critical"},
            },
        ],
    }
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "4d")
    burnrates = [
        {"record": f"http_requests:burnrate{w}", "expr": _ratio(w), "labels": {**labels, "job": JOB}} for w in windows
    ]
    tiers = [("5m", "1h", 14, "critical"), ("30m", "6h", 7, "critical"), ("2h", "1d", 2, "warning")]
    tiers.append(("6h", "4d", 1, "warning"))
    alerts = [
        {
            "alert": "ErrorBudgetBurn",
            "expr": f'http_requests:burnrate{short}{{job="{JOB}",slo="checkout-availability"}} > ({factor} * (1-{OBJECTIVE}))'
            f' and http_requests:burnrate{long}{{job="{JOB}",slo="checkout-availability"}} > ({factor} * (1-{OBJECTIVE}))',
            "labels": {**labels, "job": JOB, "severity": severity, "short": short, "long": long},
        }
        for short, long, factor, severity in tiers
    ]
    groups = [increase, {"name": "checkout-availability", "interval": "30s", "rules": [*burnrates, *alerts]}]
    remaining = (
        f'1 - (sum(http_requests:increase30d{{code=~"5..",slo="checkout-availability"}})'
        f' / sum(http_requests:increase30d{{slo="checkout-availability"}})) / {BUDGET:g}'
    )
    return {"groups": groups}, remaining


def count_rules(rules: dict[str, Any]) -> int:
    return sum(len(group["rules"]) for group in rules["groups"])


def load_command(series: list[dict[str, str]]) -> str:
    return "load 1m\n" + "".join(f"  {item['series']} {item['values']}\n" for item in series)


def run(harness: Path, folder: Path, name: str, rules: dict[str, Any], query: str, interval: str) -> dict[str, Any]:
    """One month of evaluations of ``rules``: CPU and wall seconds, evaluations, and ``query`` at the end."""
    rule_file = folder / f"{name}.rules.yaml"
    rule_file.write_text(yaml.safe_dump(rules, width=100_000), encoding="utf-8")
    answer = subprocess.run(
        [str(harness), f"-load={folder / 'traffic.load'}", f"-interval={interval}", f"-span={DAYS * 24}h",
         f"-query={query}", str(rule_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if answer.returncode != 0:
        raise RuntimeError(f"{name}: {answer.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(answer.stdout)
    if found["rule_errors"]:
        raise RuntimeError(f"{name}: rules failed: {found['rule_errors']}")
    return found


def build_harness() -> Path:
    source = Path(__file__).parent / "rule-engine"
    cache = Path(os.environ.get("SRE_OPERATOR_CACHE", Path.home() / ".cache" / "sre-operator"))
    binary = cache / "bench" / "rule-engine"
    binary.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "build", "-trimpath", "-o", str(binary), "."],
        cwd=source, check=True, env={**os.environ, "CGO_ENABLED": "0"},
    )  # fmt: skip
    return binary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--evaluation-interval", default="1m")
    args = parser.parse_args()
    harness = build_harness()
    series, failed_share = traffic()
    hand = 1 - failed_share / BUDGET
    shapes = {"sre-operator": our_rules(), "Sloth-shaped": sloth_rules(), "Pyrra-shaped": pyrra_rules()}
    cpu: dict[str, list[float]] = {name: [] for name in shapes}
    found: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "traffic.load").write_text(load_command(series), encoding="utf-8")
        for round_number in range(args.rounds):
            for name, (rules, remaining) in shapes.items():
                found[name] = run(harness, folder, name.lower(), rules, remaining, args.evaluation_interval)
                cpu[name].append(found[name]["cpu_seconds"])
                print(
                    f"round {round_number + 1}: {name}: {found[name]['cpu_seconds']:.2f} s CPU,"
                    f" {found[name]['wall_seconds']:.2f} s wall, {found[name]['evaluations']} evaluations",
                    flush=True,
                )
    ours = statistics.median(cpu["sre-operator"])
    print()
    print(f"{DAYS} days, {len(series)} series, one sample a minute, rules evaluated every {args.evaluation_interval}")
    print(f"remaining budget at day {DAYS} by hand (traffic-weighted): {hand:.4f}")
    print()
    print(
        "| rule set | rules per SLO | rule-engine CPU, median of runs (s) | ours as a share | remaining budget at day 30 |"
    )
    print("|---|---|---|---|---|")
    for name, (rules, _) in shapes.items():
        median = statistics.median(cpu[name])
        value = found[name]["value"]
        shown = "none" if value is None else f"{value:.4f} ({(value - hand) / abs(hand):+.1%} from the hand value)"
        print(
            f"| {name} | {count_rules(rules)} | {median:.2f} (runs: {', '.join(f'{c:.2f}' for c in cpu[name])}) |"
            f" {ours / median:.2f}x | {shown} |"
        )


if __name__ == "__main__":
    main()
