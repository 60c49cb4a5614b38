"""What an SLO's rules cost Prometheus: ours beside Sloth-shaped and Pyrra-shaped rules, on the same traffic.

A sweep of scrape intervals (15s, 30s, 1m, 5m), evaluation intervals (1m, 15s: the global one, which
groups without their own interval follow) and sizes (12, 120 and 1,200 raw series: 4, 40 and 400
instances of one service with three status codes each). Each point is a steady state: a month of
counters with a daily shape and four error bursts is written into a real TSDB, compacted into blocks as
a server does; the recorded series the rules read over ranges get their month of history (evaluated,
untimed); then every group of each rule set runs at its own interval for the timed span, the sets taking
turns at each step, and only those evaluations are timed (CPU of the process while a set's groups run,
and the samples its queries loaded). ``bench/rule-engine`` does this with Prometheus 3.16's own TSDB,
rule manager and query engine. Each point is run ``--rounds`` times, the order of the sets rotated
between rounds; the table gives the median and the spread. At the end each set's remaining budget is
read back beside the value counted by hand.

The peers' rules are written here from their documentation and generated examples, for the same SLO
(99.9% of requests without a 5xx, 30 days, page and ticket tiers; Pyrra's with its own group intervals
and 30-day windows); they are shapes, not their code.

Run: .venv/bin/python bench/rule_cost_bench.py [--rounds 3] [--timed 24h] [--only 15s/1m/12 ...]
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sre_operator.durations import seconds
from sre_operator.generate import prometheus_rule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.alert_timing import one_slo_plan  # noqa: E402 - after the path is set

DAYS = 30
OBJECTIVE = 0.999
BUDGET = round(1 - OBJECTIVE, 10)
JOB = "checkout"
ERRORS = f'http_requests_total{{job="{JOB}",code=~"5.."}}'
TOTAL = f'http_requests_total{{job="{JOB}"}}'
SCRAPES = ("15s", "30s", "1m", "5m")
EVALUATIONS = ("1m", "15s")
INSTANCES = (4, 40, 400)
SETS = ("sre-operator", "Sloth-shaped", "Pyrra-shaped")


def our_rules(scrape: str) -> tuple[dict[str, Any], str]:
    plan = one_slo_plan(OBJECTIVE * 100, window=f"{DAYS}d", errors=ERRORS, total=TOTAL, scrape=int(seconds(scrape)))
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


def run_point(
    harness: Path, folder: Path, scrape: str, evaluation: str, instances: int, order: list[str], timed: str
) -> dict[str, Any]:
    """One process: the month written and preloaded, then the timed span, for every set in ``order``."""
    shapes = {"sre-operator": our_rules(scrape), "Sloth-shaped": sloth_rules(), "Pyrra-shaped": pyrra_rules()}
    sets = []
    for name in order:
        rules, query = shapes[name]
        rule_file = folder / f"{name}.rules.yaml"
        rule_file.write_text(yaml.safe_dump(rules, width=100_000), encoding="utf-8")
        sets.append({"name": name, "file": str(rule_file), "query": query})
    (folder / "sets.json").write_text(json.dumps(sets), encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=folder) as database:
        answer = subprocess.run(
            [str(harness), f"-sets={folder / 'sets.json'}", f"-scrape={scrape}", f"-interval={evaluation}",
             f"-instances={instances}", f"-preload-days={DAYS}", f"-timed={timed}", f"-budget={BUDGET}",
             f"-tsdb={database}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if answer.returncode != 0:
        raise RuntimeError(f"rule-engine failed: {answer.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(answer.stdout)
    for item in found["sets"]:
        if item["rule_errors"]:
            raise RuntimeError(f"{item['name']}: rules failed: {item['rule_errors']}")
    return found


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timed", default="24h", help="the span timed after the month of history")
    parser.add_argument("--only", nargs="*", default=[], help="points as SCRAPE/EVALUATION/SERIES, e.g. 30s/1m/120")
    args = parser.parse_args()
    harness = build_harness()
    points = [
        (scrape, evaluation, instances)
        for scrape, evaluation, instances in itertools.product(SCRAPES, EVALUATIONS, INSTANCES)
        if not args.only or f"{scrape}/{evaluation}/{instances * 3}" in args.only
    ]
    print(f"{DAYS} days of history, then {args.timed} timed; {args.rounds} rounds per point", flush=True)
    print(
        "| scrape | evaluation | series | sre-operator CPU (s) | Sloth-shaped | Pyrra-shaped |"
        " ours / Sloth | ours / Pyrra | samples per minute: ours / Sloth / Pyrra | remaining budget: hand / ours / Sloth / Pyrra |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for scrape, evaluation, instances in points:
            cpu: dict[str, list[float]] = {name: [] for name in SETS}
            samples: dict[str, list[float]] = {name: [] for name in SETS}
            values: dict[str, float | None] = {}
            hand = 0.0
            for round_number in range(args.rounds):
                order = list(SETS[round_number % 3 :] + SETS[: round_number % 3])
                found = run_point(harness, Path(scratch), scrape, evaluation, instances, order, args.timed)
                hand = found["hand_remaining"]
                minutes = seconds(args.timed) / 60
                for item in found["sets"]:
                    cpu[item["name"]].append(item["cpu_seconds"])
                    samples[item["name"]].append(item["samples"] / minutes)
                    values[item["name"]] = item["value"]
            ours = statistics.median(cpu["sre-operator"])
            shown = " / ".join("none" if values[n] is None else f"{values[n]:.3f}" for n in SETS)
            print(
                f"| {scrape} | {evaluation} | {instances * 3} | {spread(cpu['sre-operator'])} |"
                f" {spread(cpu['Sloth-shaped'])} | {spread(cpu['Pyrra-shaped'])} |"
                f" **{ours / statistics.median(cpu['Sloth-shaped']):.2f}x** |"
                f" **{ours / statistics.median(cpu['Pyrra-shaped']):.2f}x** |"
                f" {' / '.join(f'{statistics.median(samples[n]):,.0f}' for n in SETS)} |"
                f" {hand:.3f} / {shown} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
