"""How fast the SLO alerts fire and clear: the operator's rules beside Sloth-shaped rules and the SRE Workbook.

One ratio SLO (30d window) on 10 requests a second with 0.01% baseline errors, scraped every 15 s and every
30 s, rules evaluated every minute by real promtool (Debian's 2.42 and the cached 3.x), for objectives of
99%, 99.9% and 99.99% and five kinds of trouble after six clean hours. "Sloth-shaped" rules take ``rate``
over the raw series for every window (tests/support/alert_timing.py writes them); the Workbook column is
the theoretical detection time of the fastest tier. Then each tier of ours alone, on a total outage: when
it fires and how long after the errors stop it clears.

Run: .venv/bin/python bench/alert_speed_bench.py (about five minutes). Its output is the tables in
docs/rules.md.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.alert_timing import (  # noqa: E402
    PAGE,
    Phase,
    Scenario,
    Timing,
    measure,
    our_groups,
    raw_rate_groups,
    scenarios,
)

from sre_operator.tiers import TIERS, BurnTier, tiers_of  # noqa: E402 - after the path is set

OBJECTIVES = (99.0, 99.9, 99.99)
SCRAPES = (15, 30)
EVALUATION = 60


def promtools() -> list[tuple[str, str]]:
    found = [("2.42", "promtool")]
    folder = os.environ.get("SRE_OPERATOR_PROMETHEUS_BIN") or str(
        Path.home() / ".cache/sre-operator/prometheus-v0.316.0"
    )
    if (Path(folder) / "promtool").exists():
        found.append(("3.16", str(Path(folder) / "promtool")))
    return found


def minutes(value: float | None) -> str:
    return "never" if value is None else f"{value / 60:.1f}"


def tier_alert(tier: BurnTier) -> str:
    return f"Tier{tier.long}{tier.short}"


def with_tier_alerts(groups: list[dict[str, Any]], window: str = "30d") -> list[dict[str, Any]]:
    """Our group plus one alert per tier, on the burn rates the group records."""
    (group,) = groups
    ids = 'namespace="shop", service="checkout", slo="availability"'
    alerts = [
        {
            "alert": tier_alert(t),
            "expr": f'slo:burn_rate:ratio{{{ids}, window="{t.long}"}} > {t.factor(window):g}'
            f' and ignoring(window) slo:burn_rate:ratio{{{ids}, window="{t.short}"}} > {t.factor(window):g}',
        }
        for t in TIERS
    ]
    return [{**group, "rules": [*group["rules"], *alerts]}]


def main() -> None:
    tools = promtools()
    print("## Pages: minutes after the errors start, and after they stop until the page clears\n")
    print(
        "| promtool | scrape | objective | scenario | Workbook | ours: pages | Sloth-shaped | ours: clears | Sloth-shaped |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    jobs = []
    with ThreadPoolExecutor(2) as pool:
        for version, promtool in tools:
            for scrape in SCRAPES:
                for objective in OBJECTIVES:
                    cases = scenarios(round(1 - objective / 100, 10))
                    for name, groups in (("ours", our_groups(objective, scrape)), ("raw", raw_rate_groups(objective))):
                        future = pool.submit(
                            measure, promtool, groups, [PAGE], cases, scrape=scrape, evaluation=EVALUATION
                        )
                        jobs.append(((version, scrape, objective, name), cases, future))
        found: dict[tuple[str, int, float, str], dict[tuple[str, str], Timing]] = {
            key: future.result() for key, _, future in jobs
        }
    for (version, scrape, objective, name), cases, _ in jobs:
        if name != "ours":
            continue
        budget = round(1 - objective / 100, 10)
        raw = found[(version, scrape, objective, "raw")]
        ours = found[(version, scrape, objective, "ours")]
        for case in cases:
            theory = case.workbook_seconds(tiers_of("critical"), budget, "30d")
            o, r = ours[(case.name, PAGE)], raw[(case.name, PAGE)]
            print(
                f"| {version} | {scrape} s | {objective:g}% | {case.name} | {minutes(theory)} | {minutes(o.fired)} |"
                f" {minutes(r.fired)} | {minutes(o.cleared)} | {minutes(r.cleared)} |"
            )

    print("\n## Each tier of ours on an hour-long total outage after three days of history (30 s scrapes)\n")
    print("| promtool | objective | tier | Workbook | fires | clears after the errors stop |")
    print("|---|---|---|---|---|---|")
    # Three days and an hour of history, so even the 3d window is full when the outage starts, and seven hours
    # after, so the ticket tiers' 6h window can clear.
    outage = Scenario("total outage", (Phase(3600, 1.0),), warmup=73 * 3600, after=7 * 3600)
    alerts = [tier_alert(t) for t in TIERS]
    with ThreadPoolExecutor(2) as pool:
        runs = [
            (
                version,
                objective,
                pool.submit(
                    measure,
                    promtool,
                    with_tier_alerts(our_groups(objective, 30)),
                    alerts,
                    [outage],
                    scrape=30,
                    evaluation=EVALUATION,
                ),
            )
            for version, promtool in tools
            for objective in OBJECTIVES
        ]
        for version, objective, future in runs:
            timings = future.result()
            budget = round(1 - objective / 100, 10)
            for tier in TIERS:
                timing = timings[(outage.name, tier_alert(tier))]
                theory = outage.workbook_seconds((tier,), budget, "30d")
                cleared = minutes(timing.cleared) if timing.cleared is not None or timing.fired is None else "over 420"
                print(
                    f"| {version} | {objective:g}% | {tier.factor('30d'):g}x over {tier.long}/{tier.short} |"
                    f" {minutes(theory)} | {minutes(timing.fired)} | {cleared} |"
                )


if __name__ == "__main__":
    main()
