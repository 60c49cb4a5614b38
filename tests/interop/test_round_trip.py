"""An imported plan pages and tickets on the same traffic as the source tool's own rules, measured by promtool.

For each source (a Sloth spec, a Pyrra object, an OpenSLO SLO, as Sloth generates rules for it), the same SLO
on the same scenarios: its imported plan's rules beside rules shaped as that tool generates them (``rate``
over the raw series per window, the tool's own tiers). Every scenario that fires one fires the other, within
the tools' different thresholds (Pyrra's 4-week tiers are 14x and 7x where the Workbook's, scaled to 28 days,
are 13.44x and 5.6x); a burn too slow to page pages neither.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sre_operator.generate import prometheus_rule
from sre_operator.interop import Tool, convert
from sre_operator.models import ServiceReliabilityPlan, parse_document
from tests.support.alert_timing import (
    ERRORS,
    JOB,
    PAGE,
    TICKET,
    TOTAL,
    Phase,
    Scenario,
    measure,
    pyrra_shaped_groups,
    raw_rate_groups,
    scenarios,
)

pytestmark = pytest.mark.live
OBJECTIVE = 99.9
SCRAPE, EVALUATION = 30, 60

SOURCES: dict[str, tuple[Tool, dict[str, Any]]] = {
    "sloth": ("sloth", {
        "version": "prometheus/v1", "service": JOB, "labels": {"owner": "payments"},
        "slos": [{"name": "availability", "objective": OBJECTIVE, "sli": {"events": {
            "error_query": f"sum(rate({ERRORS}[{{{{.window}}}}]))", "total_query": f"sum(rate({TOTAL}[{{{{.window}}}}]))"}}}],
    }),
    "pyrra": ("pyrra", {
        "apiVersion": "pyrra.dev/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": "availability", "namespace": "shop", "labels": {"pyrra.dev/team": "payments"}},
        "spec": {"target": str(OBJECTIVE), "window": "4w",
                 "indicator": {"ratio": {"errors": {"metric": ERRORS}, "total": {"metric": TOTAL}}}},
    }),
    "openslo": ("openslo", {
        "apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": "availability"},
        "spec": {"service": JOB, "budgetingMethod": "Occurrences", "timeWindow": [{"duration": "28d", "isRolling": True}],
                 "indicator": {"metadata": {"name": "errors"}, "spec": {"ratioMetric": {"counter": True,
                     "bad": {"metricSource": {"type": "Prometheus", "spec": {"query": ERRORS}}},
                     "total": {"metricSource": {"type": "Prometheus", "spec": {"query": TOTAL}}}}}},
                 "objectives": [{"target": OBJECTIVE / 100}]},
    }),
}  # fmt: skip
# What each tool generates for that SLO: Sloth's rules (for OpenSLO too, which Sloth reads), Pyrra's.
THEIRS = {
    "sloth": lambda: raw_rate_groups(OBJECTIVE, "30d"),
    "pyrra": lambda: pyrra_shaped_groups(OBJECTIVE),
    "openslo": lambda: raw_rate_groups(OBJECTIVE, "28d"),
}


def imported_groups(tool: Tool, document: dict[str, Any]) -> list[dict[str, Any]]:
    conversion = convert(tool, [("source", document)])
    assert conversion.dropped == [], conversion.dropped
    (plan,) = conversion.plans
    plan["metadata"].setdefault("namespace", "shop")
    plan["spec"]["slos"][0]["indicator"]["scrapeInterval"] = f"{SCRAPE}s"
    parsed = parse_document(plan)
    assert isinstance(parsed.model, ServiceReliabilityPlan), parsed.problems
    groups: list[dict[str, Any]] = prometheus_rule(parsed.model)["spec"]["groups"]
    return groups


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_imported_plan_alerts_on_the_same_traffic_as_the_tool(promtool: str, source: str) -> None:
    tool, document = SOURCES[source]
    budget = 1 - OBJECTIVE / 100
    cases = [*scenarios(budget), Scenario("2x burn for 2 hours", (Phase(7200, 2 * budget),))]
    with ThreadPoolExecutor(2) as pool:
        ours_future = pool.submit(
            measure,
            promtool,
            imported_groups(tool, document),
            (PAGE, TICKET),
            cases,
            scrape=SCRAPE,
            evaluation=EVALUATION,
        )
        theirs = measure(promtool, THEIRS[source](), (PAGE, TICKET), cases, scrape=SCRAPE, evaluation=EVALUATION)
        ours = ours_future.result()
    for case in cases:
        for alert in (PAGE, TICKET):
            mine, tools = ours[(case.name, alert)], theirs[(case.name, alert)]
            assert (mine.fired is None) == (tools.fired is None), (source, case.name, alert, mine, tools)
            if mine.fired is not None and tools.fired is not None:
                # Within a quarter of the later time and two evaluations: the thresholds differ a little by tool.
                slack = 0.25 * max(mine.fired, tools.fired) + 2 * EVALUATION
                assert abs(mine.fired - tools.fired) <= slack, (source, case.name, alert, mine, tools)
    assert ours[("2x burn for 2 hours", PAGE)].fired is None
    assert ours[("total outage", PAGE)].fired is not None
