"""Whether an incident needs a postmortem, and its SEV level, from the plan and the policy."""

from __future__ import annotations

from typing import Any

import pytest

from sre_operator.incidents.assess import postmortem_requirement, sev_level
from sre_operator.models import ErrorBudgetPolicy, ServiceReliabilityPlan, parse_document
from tests.conftest import example_plans


def plan(triggers: dict[str, Any] | None) -> ServiceReliabilityPlan:
    document = next(p for p in example_plans() if p.metadata.name == "checkout").model_dump(by_alias=True, mode="json")
    if triggers is None:
        document["spec"]["postmortem"].pop("triggers", None)
    else:
        document["spec"]["postmortem"]["triggers"] = triggers
    model = parse_document(document).model
    assert isinstance(model, ServiceReliabilityPlan)
    return model


def policy(outage_percent: float | None) -> ErrorBudgetPolicy:
    spec: dict[str, Any] = {
        "rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}]
    }
    if outage_percent is not None:
        spec["outage"] = {"singleIncidentBudgetPercent": outage_percent}
    document = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "p"},
        "spec": spec,
    }
    model = parse_document(document).model
    assert isinstance(model, ErrorBudgetPolicy)
    return model


@pytest.mark.parametrize(
    ("triggers", "outage", "severity", "consumed", "expected"),
    [
        ({"budgetConsumedPercent": 20}, None, "SEV3", {"availability": 0.05}, ""),
        ({"budgetConsumedPercent": 20}, None, "SEV3", {"availability": 0.23}, "spent 23% of the availability budget (plan: 20%)"),
        ({"severities": ["SEV1"]}, None, "SEV1", {}, "severity SEV1 always needs one (plan)"),
        ({"severities": ["SEV1"]}, None, "SEV2", {}, ""),
        # No triggers: what status.assumptions says (SEV1, SEV2, 20%).
        (None, None, "SEV2", {}, "severity SEV2 always needs one (plan)"),
        (None, None, "SEV3", {"latency": 0.2}, "spent 20% of the latency budget (plan: 20%)"),
        ({"severities": ["SEV1"]}, 10, "SEV3", {"availability": 0.12}, "spent 12% of the availability budget (policy outage rule: 10%; at least one P0 action)"),
    ],
)  # fmt: skip
def test_postmortem_requirement(
    triggers: dict[str, Any] | None, outage: float | None, severity: str, consumed: dict[str, float], expected: str
) -> None:
    assert postmortem_requirement(plan(triggers), policy(outage), severity, consumed) == expected


def test_a_page_is_sev2_and_a_ticket_sev3() -> None:
    checkout = plan({"budgetConsumedPercent": 20})
    assert (sev_level(checkout, "critical"), sev_level(checkout, "warning")) == ("SEV2", "SEV3")
