"""The budget an incident spent, measured from the live Prometheus' recorded series once it resolves, against
the hand value, and the postmortem the policy's outage rule then requires."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.budgets.conftest import NAMESPACE, OBJECTIVE, TRAFFIC, plan_document
from tests.budgets.test_gates_on_live_budgets import policy
from tests.support.controlplane import ControlPlane
from tests.support.operator import RunningOperator, operator_in_process, plan_condition, post_to_receiver, wait_for
from tests.support.prometheus import LivePrometheus

OPERATOR_USER = "sre-operator-incident-budget"
TOKEN = "incident-budget-token"
SPAN = datetime.timedelta(hours=2)
OUTAGE_PERCENT = 0.5


@pytest.fixture(scope="module")
def receiver(
    control_plane: ControlPlane, live_prometheus: LivePrometheus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningOperator]:
    token = tmp_path_factory.mktemp("token") / "token"
    token.write_text(TOKEN, encoding="utf-8")
    control_plane.kubectl("create", "namespace", NAMESPACE)
    with_outage = policy("budget-policy", 0)
    with_outage["spec"]["outage"] = {"singleIncidentBudgetPercent": OUTAGE_PERCENT}
    assert control_plane.apply([plan_document("spent"), with_outage]).returncode == 0
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER),
        PROMETHEUS_URL=live_prometheus.url,
        ALERTMANAGER_TOKEN_FILE=str(token),
        EVALUATION_INTERVAL="2",  # a first read of the budgets that fails (a busy machine) is tried again soon
    ) as running:
        wait_for(lambda: plan_condition(control_plane, NAMESPACE, "spent") == "True", what="the plan Ready")
        # The plan may be Ready from an earlier operator: wait until this one has read its budget.
        wait_for(
            lambda: 'service="spent"' in str(running.get("/metrics")[1]),
            timeout=90,
            what="this operator knowing the plan",
        )
        yield running


def page(status: str, starts: datetime.datetime, ends: datetime.datetime | None) -> dict[str, Any]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "version": "4",
        "groupKey": '{}:{service="spent"}',
        "status": status,
        "receiver": "spent-incidents",
        "groupLabels": {},
        "alerts": [
            {
                "status": status,
                "fingerprint": "f00d",
                "labels": {
                    "alertname": "SLOErrorBudgetFastBurn",
                    "severity": "critical",
                    "namespace": NAMESPACE,
                    "service": "spent",
                    "slo": "availability",
                },
                "annotations": {},
                "startsAt": starts.strftime(stamp),
                "endsAt": ends.strftime(stamp) if ends else "0001-01-01T00:00:00Z",
            }
        ],
    }


def post(running: RunningOperator, body: dict[str, Any]) -> int:
    status, _ = post_to_receiver(running, body, TOKEN)
    return status


def test_a_resolved_incident_says_what_budget_it_spent(
    receiver: RunningOperator, control_plane: ControlPlane, live_prometheus: LivePrometheus
) -> None:
    ended = datetime.datetime.fromtimestamp(live_prometheus.end - 3600, datetime.UTC)
    started = ended - SPAN
    assert post(receiver, page("firing", started, None)) == 200
    assert post(receiver, page("resolved", started, ended)) == 200

    def measured() -> dict[str, Any] | None:
        items = json.loads(control_plane.kubectl("-n", NAMESPACE, "get", "incidents", "-o", "json").stdout)["items"]
        done = [i for i in items if (i.get("status") or {}).get("budgetConsumed")]
        return done[0] if done else None

    incident = wait_for(measured, what="the incident's budget measured")
    assert isinstance(incident, dict)
    # Steady traffic: errors at ratio e for the span, against a budget of (1 - objective) over 30 days.
    error_ratio, budget = TRAFFIC["spent"].error_ratio, 1 - OBJECTIVE / 100
    by_hand = error_ratio * SPAN.total_seconds() / (budget * 30 * 86400)
    consumed = incident["status"]["budgetConsumed"]["availability"]
    assert consumed == pytest.approx(by_hand, rel=0.01)
    assert incident["status"]["postmortemRequired"] is True
    assert f"policy outage rule: {OUTAGE_PERCENT:g}%" in incident["status"]["postmortemReason"]
    draft_name = incident["status"]["postmortemDraft"]
    draft = json.loads(control_plane.kubectl("-n", NAMESPACE, "get", "configmap", draft_name, "-o", "json").stdout)
    text = draft["data"]["postmortem.md"]
    assert f"| Budget spent, SLO availability | {consumed:.2%} of the 30d budget |" in text
    assert "| Duration | 2 h 0 min" in text
    assert "at least one P0 action_ | | P0 |" in text
    events = json.loads(
        control_plane.kubectl(
            "-n", NAMESPACE, "get", "events", "--field-selector", "reason=PostmortemRequired", "-o", "json"
        ).stdout
    )["items"]
    assert any(draft_name in e["message"] for e in events)
