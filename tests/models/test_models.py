"""Defaults, assumptions and the field paths of problems."""

from __future__ import annotations

from typing import Any

from sre_operator.models import parse_document, plan_assumptions, residual_risks
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
