"""What an SLO's rules cost Prometheus: ours beside Sloth-shaped and Pyrra-shaped rules, on the same traffic.

A sweep of scrape intervals (15s, 30s, 1m, 5m), evaluation intervals (1m, 15s: the global one, which
groups without their own interval follow) and sizes (12, 120 and 1,200 raw series: 4, 40 and 400
instances of one service with three status codes each). Each point is a steady state: a month of
counters with a daily shape and four error bursts is written into a real TSDB, compacted into blocks as
a server does; the recorded series the rules read over ranges get their month of history (evaluated,
untimed); then every group of each rule set runs at its own interval for the timed span, the sets taking
turns going first at each step, and only those evaluations are timed (CPU of the process while a set's
groups run, and the samples its queries loaded). ``bench/rule-engine`` does this with Prometheus 3.16's
own TSDB, rule manager and query engine. The month is written once per scrape interval and size; the
``--rounds`` timed spans follow one another on it, and the table gives their median and spread. Only
Sloth's groups follow the global evaluation interval, so both intervals are measured in one process:
Sloth-shaped rules at 1m and at 15s (told apart by their ``sloth_id``) beside the same runs of ours and
Pyrra's. At the end each set's remaining budget is read back beside the value counted by hand.

The peers' rules are written here from their documentation and generated examples, for the same SLO
(99.9% of requests without a 5xx, 30 days, page and ticket tiers; Pyrra's with its own group intervals
and 30-day windows); they are shapes, not their code.

Run: .venv/bin/python bench/rule_cost_bench.py [--rounds 3] [--timed 2h] [--only 15s/12 ...]
With ``--against COMMIT`` each point runs ours beside ours as COMMIT rendered them (no peers): what a
change to the rules saves, on the same month, in the same process.
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


def our_rules(scrape: str) -> tuple[dict[str, Any], str]:
    plan = one_slo_plan(OBJECTIVE * 100, window=f"{DAYS}d", errors=ERRORS, total=TOTAL, scrape=int(seconds(scrape)))
    return prometheus_rule(plan)["spec"], 'slo:error_budget_remaining:ratio{slo="availability",namespace="shop"}'


def our_rules_at(revision: str, scrape: str, folder: Path) -> tuple[dict[str, Any], str]:
    """Ours as the commit ``revision`` renders them, in a namespace of their own so they record beside
    today's: a change to the rules measured against the rules before it, on the same month and CPU."""
    tree = folder / f"tree-{revision}"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), revision], cwd=ROOT, check=True)
    try:
        rendered = subprocess.run(
            [sys.executable, "-c", f"import json, rule_cost_bench as b; print(json.dumps(b.our_rules({scrape!r})[0]))"],
            cwd=tree / "bench", env={**os.environ, "PYTHONPATH": f"{tree / 'operator'}:{tree}:{tree / 'bench'}"},
            stdout=subprocess.PIPE, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    namespace = f"shop-{revision}"
    rules = json.loads(rendered)
    for group in rules["groups"]:
        group["name"] += f"-{revision}"
        for rule in group["rules"]:
            rule["expr"] = rule["expr"].replace('namespace="shop"', f'namespace="{namespace}"')
            rule["labels"]["namespace"] = namespace
    return rules, f'slo:error_budget_remaining:ratio{{slo="availability",namespace="{namespace}"}}'


def _ratio(window: str) -> str:
    return f"sum(rate({ERRORS}[{window}])) / sum(rate({TOTAL}[{window}]))"


def sloth_rules(evaluation: str) -> tuple[dict[str, Any], str]:
    """Sloth's shape: a ratio per window from raw series, the 30d ratio averaged from the 5m one, metadata.

    Sloth's groups set no interval, so they run at the global evaluation interval: ``evaluation``. Each
    interval gets its own ``sloth_id``, so the two copies measured side by side record apart."""
    ids = {"sloth_id": f"{JOB}-availability-{evaluation}", "sloth_service": JOB, "sloth_slo": "availability"}
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
        {"name": f"sloth-slo-sli-recordings-checkout-availability-{evaluation}", "rules": sli},
        {"name": f"sloth-slo-meta-recordings-checkout-availability-{evaluation}", "rules": meta},
        {"name": f"sloth-slo-alerts-checkout-availability-{evaluation}", "rules": alerts},
    ]
    for group in groups:
        group["interval"] = evaluation
    return {"groups": groups}, f'slo:period_error_budget_remaining:ratio{{sloth_id="{ids["sloth_id"]}"}}'


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
    harness: Path,
    folder: Path,
    scrape: str,
    instances: int,
    timed: str,
    rounds: int,
    evaluations: list[str],
    against: str | None = None,
) -> dict[str, Any]:
    """One process: the month written and preloaded once, then ``rounds`` timed spans one after the other.

    Only Sloth's groups follow the global evaluation interval (ours run at their tile, Pyrra's at their own
    intervals), so one process measures both evaluation intervals: Sloth-shaped rules at each, beside the
    same runs of ours and Pyrra's. ``against`` measures ours beside ours at that commit instead."""
    shapes = {"sre-operator": our_rules(scrape)}
    if against is not None:
        shapes[f"sre-operator@{against}"] = our_rules_at(against, scrape, folder)
    else:
        shapes.update({f"Sloth-shaped@{e}": sloth_rules(e) for e in evaluations})
        shapes["Pyrra-shaped"] = pyrra_rules()
    sets = []
    for name, (rules, query) in shapes.items():
        rule_file = folder / f"{name}.rules.yaml"
        rule_file.write_text(yaml.safe_dump(rules, width=100_000), encoding="utf-8")
        sets.append({"name": name, "file": str(rule_file), "query": query})
    (folder / "sets.json").write_text(json.dumps(sets), encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=folder) as database:
        answer = subprocess.run(
            [str(harness), f"-sets={folder / 'sets.json'}", f"-scrape={scrape}", "-interval=1m",
             f"-instances={instances}", f"-preload-days={DAYS}", f"-timed={timed}", f"-rounds={rounds}",
             f"-budget={BUDGET}", f"-tsdb={database}"],
            stdout=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    if answer.returncode != 0:  # its reason and its progress lines went to stderr, which it shares with us
        raise RuntimeError(f"rule-engine failed with exit code {answer.returncode}")
    found: dict[str, Any] = json.loads(answer.stdout)
    for item in found["sets"]:
        if item["rule_errors"]:
            raise RuntimeError(f"{item['name']}: rules failed: {item['rule_errors']}")
    return found


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def comparison_row(scrape: str, instances: int, found: dict[str, Any], timed: str, against: str) -> str:
    """Ours now beside ours at ``against``: medians over the rounds, with their spread."""
    by_name = {item["name"]: item for item in found["sets"]}
    now, before = by_name["sre-operator"], by_name[f"sre-operator@{against}"]
    minutes = seconds(timed) / 60
    cpu_now, cpu_before = ([r["cpu_seconds"] for r in item["rounds"]] for item in (now, before))
    per_minute = [f"{statistics.median(r['samples'] / minutes for r in item['rounds']):,.0f}" for item in (before, now)]
    budgets = ["none" if item["value"] is None else f"{item['value']:.3f}" for item in (before, now)]
    return (
        f"| {scrape} | {instances * 3} | {len(cpu_now)} | {spread(cpu_before)} | {spread(cpu_now)} |"
        f" **{statistics.median(cpu_now) / statistics.median(cpu_before):.2f}x** | {' / '.join(per_minute)} |"
        f" {found['hand_remaining']:.3f} / {' / '.join(budgets)} |"
    )


def rows(scrape: str, instances: int, found: dict[str, Any], timed: str, evaluations: list[str]) -> list[str]:
    """One table row per evaluation interval: medians over the rounds, with their spread."""
    by_name = {item["name"]: item for item in found["sets"]}
    minutes = seconds(timed) / 60

    def cpu(name: str) -> list[float]:
        return [r["cpu_seconds"] for r in by_name[name]["rounds"]]

    def per_minute(name: str) -> str:
        return f"{statistics.median(r['samples'] / minutes for r in by_name[name]['rounds']):,.0f}"

    def value(name: str) -> str:
        return "none" if by_name[name]["value"] is None else f"{by_name[name]['value']:.3f}"

    lines = []
    for evaluation in evaluations:
        sloth = f"Sloth-shaped@{evaluation}"
        ours, peer, pyrra = (statistics.median(cpu(n)) for n in ("sre-operator", sloth, "Pyrra-shaped"))
        lines.append(
            f"| {scrape} | {evaluation} | {instances * 3} | {len(cpu('sre-operator'))} | {spread(cpu('sre-operator'))} |"
            f" {spread(cpu(sloth))} | {spread(cpu('Pyrra-shaped'))} | **{ours / peer:.2f}x** | **{ours / pyrra:.2f}x** |"
            f" {per_minute('sre-operator')} / {per_minute(sloth)} / {per_minute('Pyrra-shaped')} |"
            f" {found['hand_remaining']:.3f} / {value('sre-operator')} / {value(sloth)} / {value('Pyrra-shaped')} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timed", default="2h", help="the span timed in each round, after the month of history")
    parser.add_argument("--only", nargs="*", default=[], help="points as SCRAPE/SERIES, e.g. 30s/120")
    parser.add_argument(
        "--evaluations", nargs="*", default=list(EVALUATIONS), help="global evaluation intervals (Sloth-shaped sets)"
    )
    parser.add_argument(
        "--against", metavar="COMMIT", help="measure ours beside ours at COMMIT (a change to the rules), no peers"
    )
    args = parser.parse_args()
    harness = build_harness()
    points = [
        (scrape, instances)
        for instances, scrape in itertools.product(INSTANCES, SCRAPES)
        if not args.only or f"{scrape}/{instances * 3}" in args.only
    ]
    print(f"{DAYS} days of history, then {args.rounds} rounds of {args.timed} timed", flush=True)
    if args.against:
        print(
            f"| scrape | series | rounds | CPU (s) at {args.against} | CPU (s) now | now / before |"
            " samples per minute: before / now | remaining budget: hand / before / now |"
        )
        print("|---|---|---|---|---|---|---|---|")
    else:
        print(
            "| scrape | evaluation | series | rounds | sre-operator CPU (s) | Sloth-shaped | Pyrra-shaped |"
            " ours / Sloth | ours / Pyrra | samples per minute: ours / Sloth / Pyrra |"
            " remaining budget: hand / ours / Sloth / Pyrra |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for scrape, instances in points:
            found = run_point(
                harness, Path(scratch), scrape, instances, args.timed, args.rounds, args.evaluations, args.against
            )
            if args.against:
                print(comparison_row(scrape, instances, found, args.timed, args.against), flush=True)
            else:
                print("\n".join(rows(scrape, instances, found, args.timed, args.evaluations)), flush=True)


if __name__ == "__main__":
    main()
