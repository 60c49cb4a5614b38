"""Defaults, assumptions and the field paths of problems."""

from __future__ import annotations

from typing import Any

import pytest

from sre_operator.generate import prometheus_rule
from sre_operator.models import ServiceReliabilityPlan, parse_document, plan_assumptions, residual_risks
from tests.conftest import example_plans, plan_from_yaml

MINIMAL = """
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {name: minimal, namespace: default}
spec:
  service: {name: minimal, owner: {team: core}}
  slos:
    - name: availability
      objective: 99.5
      indicator: {ratio: {errors: 'errors_total', total: 'requests_total'}}
"""


def plan_document(service: dict[str, Any] | None = None, **slo: Any) -> dict[str, Any]:
    """A valid one-SLO plan document, with the SLO's fields replaced by ``slo``."""
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": "x"},
        "spec": {
            "service": service or {"name": "x", "owner": {"team": "t"}},
            "slos": [{"name": "a", "objective": 99, "indicator": {"ratio": {"errors": "e", "total": "t"}}, **slo}],
        },
    }


def test_every_default_of_a_minimal_plan_is_said() -> None:
    said = plan_assumptions(plan_from_yaml(MINIMAL))
    assert "No service.tier given: the service is treated as tier medium." in said
    assert "SLO availability has no window: it uses a 30d rolling window." in said
    assert "No page receiver given: pages route to the Alertmanager default receiver." in said
    assert any(s.startswith("No release section") for s in said)
    assert any(s.startswith("No reporting section") for s in said)


def test_the_complete_example_assumes_nothing() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    assert plan_assumptions(checkout) == []
    # It still accepts one risk knowingly: the latency SLO has no low-traffic guard but that is no risk;
    # its risks are only what a reviewer must see.
    assert all("checkout" not in r or "SLO" in r for r in residual_risks(checkout))


def test_unknown_fields_are_refused_with_their_path() -> None:
    document = plan_document(service={"name": "x", "owner": {"team": "t"}, "teir": "high"})
    (problem,) = parse_document(document).problems
    assert (problem.path, problem.message) == ("spec.service.teir", "is not a field of this kind (check the spelling)")


def test_windows_outside_what_the_tiers_fit_are_refused() -> None:
    document = plan_document(window="1d")
    (problem,) = parse_document(document).problems
    assert problem.path == "spec.slos[0].window"
    assert problem.message.startswith("must be between 7d and 90d")


def test_a_scrape_interval_too_slow_for_a_tier_window_is_refused_in_one_line() -> None:
    slow = {"ratio": {"errors": "e", "total": "t"}, "scrapeInterval": "10m"}
    (problem,) = parse_document(plan_document(indicator=slow)).problems
    assert problem.path == "spec.slos[0].indicator.scrapeInterval"
    assert problem.message == (
        "10m is too slow for the 5m window(s) of the alert tiers: scrape at least every 5m or turn off the tier"
        " that reads it (alerting.page or alerting.ticket)"
    )
    # Without pages, no tier reads a window shorter than 30m: a 10m scrape tiles by 10 minutes.
    assert parse_document(plan_document(indicator=slow, alerting={"page": False})).problems == ()


@pytest.mark.parametrize(
    ("scrape", "tile"), [("15s", "1m"), ("30s", "1m"), ("1m", "1m"), ("2m", "2m30s"), ("5m", "5m")]
)
def test_the_rules_tile_is_the_shortest_that_holds_a_scrape(scrape: str, tile: str) -> None:
    plan = parse_document(plan_document(indicator={"ratio": {"errors": "e", "total": "t"}, "scrapeInterval": scrape}))
    assert plan.model is not None
    (group,) = prometheus_rule(plan.model)["spec"]["groups"]
    assert group["interval"] == tile


def test_an_unset_scrape_interval_is_an_assumption() -> None:
    plan = parse_document(plan_document()).model
    assert isinstance(plan, ServiceReliabilityPlan)
    assert (
        "SLO a has no indicator.scrapeInterval: its series are taken to be scraped every 30s or more often."
        in plan_assumptions(plan)
    )


def test_selectors_that_are_expressions_are_refused() -> None:
    document = plan_document(indicator={"ratio": {"errors": "sum(e)", "total": "t offset 5m"}})
    problems = {p.path: p.message for p in parse_document(document).problems}
    assert problems["spec.slos[0].indicator.ratio.errors"].startswith("must be a series selector")
    assert problems["spec.slos[0].indicator.ratio.total"].startswith("must not use offset")


def test_policy_and_gate_examples_parse() -> None:
    from sre_operator.documents import load_files, parse_all
    from tests.conftest import EXAMPLES

    documents, _ = load_files(str(p) for p in EXAMPLES)
    kinds = sorted(p.kind for p in parse_all(documents) if p.model is not None)
    assert kinds.count("ErrorBudgetPolicy") == 1
    assert kinds.count("ReleaseGate") == 1
