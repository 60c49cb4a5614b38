"""Pages become Incidents: Alertmanager's notifications posted to the operator's receiver, recorded as
Incident objects on the real API server, one per alert group; repeats change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.controlplane import ControlPlane
from tests.support.operator import RunningOperator, operator_in_process, plan_condition, post_to_receiver, wait_for

NAMESPACE = "paged"
OPERATOR_USER = "sre-operator-incidents"
TOKEN = "s3cret-token"
GROUP = '{}/{severity="critical"}:{namespace="paged", service="checkout", slo="availability"}'
ZERO = "0001-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def receiver(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOperator]:
    token = tmp_path_factory.mktemp("alertmanager-token") / "token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    control_plane.kubectl("create", "namespace", NAMESPACE)
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    assert control_plane.apply([plan]).returncode == 0
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER), ALERTMANAGER_TOKEN_FILE=str(token), EVALUATION_INTERVAL="1"
    ) as running:
        # Pages are matched to plans the operator has seen; a page for a plan it does not know is dropped.
        wait_for(lambda: plan_condition(control_plane, NAMESPACE, "checkout") == "True", what="the plan Ready")
        yield running


def alert(fingerprint: str, status: str, starts: str, ends: str = ZERO) -> dict[str, Any]:
    return {
        "status": status,
        "fingerprint": fingerprint,
        "labels": {
            "alertname": "SLOErrorBudgetFastBurn",
            "severity": "critical",
            "namespace": NAMESPACE,
            "service": "checkout",
            "slo": "availability",
        },
        "annotations": {"summary": "checkout SLO availability is burning its error budget fast"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus/graph",
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": GROUP,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "sre-operator",
        "groupLabels": {"slo": "availability"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": list(alerts),
    }


def post(running: RunningOperator, body: Any, token: str | None = TOKEN) -> tuple[int, Any]:
    return post_to_receiver(running, body, token)


def incidents(plane: ControlPlane) -> list[dict[str, Any]]:
    listed = plane.kubectl("-n", NAMESPACE, "get", "incidents", "-o", "json", check=True).stdout
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    return items


def test_the_receiver_wants_the_bearer_token_and_well_formed_notifications(receiver: RunningOperator) -> None:
    firing = notification(alert("a1", "firing", "2026-11-25T14:12:03Z"))
    status, answer = post(receiver, firing, token=None)
    assert status == 401 and "bearer token" in answer["error"]
    assert post(receiver, firing, token="wrong")[0] == 401
    status, answer = post(receiver, b"{not json")
    assert status == 400 and answer["error"].startswith("the body is not JSON")
    status, answer = post(receiver, {**firing, "alerts": [{"status": "firing"}]})
    assert status == 400 and answer == {"error": "alerts[0].fingerprint: is required"}


def test_a_page_becomes_one_incident_and_resolves_with_its_last_alert(
    receiver: RunningOperator, control_plane: ControlPlane
) -> None:
    firing = notification(alert("a1", "firing", "2026-11-25T14:12:03Z"))
    assert post(receiver, firing) == (200, {"accepted": 1})

    def opened() -> dict[str, Any] | None:
        found = incidents(control_plane)
        return found[0] if found and (found[0].get("status") or {}).get("state") == "Open" else None

    incident = wait_for(opened, what="an Incident")
    assert isinstance(incident, dict)
    assert incident["metadata"]["name"] == "checkout-20261125-1412-availability"
    assert incident["spec"]["planRef"] == {"name": "checkout"}
    assert incident["spec"]["severity"] == "SEV2"
    assert incident["spec"]["commander"] == "payments-primary"
    assert incident["status"]["slos"] == ["availability"]
    version = incident["metadata"]["resourceVersion"]

    # Alertmanager repeats the group every repeat_interval: a duplicate, not a new incident.
    mark = control_plane.audit_mark()
    for _ in range(3):
        assert post(receiver, firing)[0] == 200
    second = notification(alert("a1", "firing", "2026-11-25T14:12:03Z"), alert("b2", "firing", "2026-11-25T14:30:00Z"))
    second["alerts"][1]["labels"]["slo"] = "latency"
    assert post(receiver, second)[0] == 200
    one_resolved = notification(
        alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z"), second["alerts"][1]
    )
    assert post(receiver, one_resolved)[0] == 200

    def both_in() -> dict[str, Any] | None:
        found = incidents(control_plane)
        status = found[0].get("status") or {} if found else {}
        return found[0] if len(status.get("timeline", [])) == 3 else None

    incident = wait_for(both_in, what="the second alert and the first resolution")
    assert isinstance(incident, dict)
    assert len(incidents(control_plane)) == 1
    assert incident["status"]["state"] == "Open"  # b2 still fires
    assert incident["metadata"]["resourceVersion"] != version
    writes = [
        w for w in control_plane.writes_since(mark, OPERATOR_USER) if w["objectRef"].get("resource") == "incidents"
    ]
    assert len(writes) == 2, [w["requestURI"] for w in writes]  # the repeats wrote nothing

    resolved = notification(
        alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z"),
        {**second["alerts"][1], "status": "resolved", "endsAt": "2026-11-25T15:20:00Z"},
    )
    assert post(receiver, resolved)[0] == 200
    incident = wait_for(
        lambda: next((i for i in incidents(control_plane) if i["status"]["state"] == "Resolved"), None),
        what="the incident resolved",
    )
    assert isinstance(incident, dict)
    assert incident["status"]["resolvedAt"] == "2026-11-25T15:20:00Z"
    assert [e["event"].split(" (")[0] for e in incident["status"]["timeline"]] == [
        "SLOErrorBudgetFastBurn firing",
        "SLOErrorBudgetFastBurn firing",
        "SLOErrorBudgetFastBurn resolved",
        "SLOErrorBudgetFastBurn resolved",
        "every alert resolved: incident resolved",
    ]
    events = json.loads(
        control_plane.kubectl(
            "-n", NAMESPACE, "get", "events", "--field-selector", "involvedObject.kind=Incident", "-o", "json"
        ).stdout
    )["items"]
    assert {e["message"] for e in events} >= {"every alert resolved: incident resolved"}
    columns = control_plane.kubectl("-n", NAMESPACE, "get", "inc", check=True).stdout
    assert "checkout" in columns and "Resolved" in columns and "SEV2" in columns


def test_a_group_paging_again_after_resolution_opens_a_new_incident(
    receiver: RunningOperator, control_plane: ControlPlane
) -> None:
    wait_for(lambda: any(i["status"]["state"] == "Resolved" for i in incidents(control_plane)), what="a resolved one")
    again = notification(alert("a1", "firing", "2026-11-26T09:05:00Z"))
    assert post(receiver, again)[0] == 200
    found = wait_for(lambda: len(incidents(control_plane)) == 2 or None, what="a second Incident")
    assert found
    names = sorted(i["metadata"]["name"] for i in incidents(control_plane))
    assert names == ["checkout-20261125-1412-availability", "checkout-20261126-0905-availability"]


def test_the_receiver_is_off_without_a_token_file(tmp_path: Path) -> None:
    from sre_operator.gates.book import GateBook
    from sre_operator.http import Health, Metrics, http_app
    from tests.http.test_endpoints import call

    async def check(client: Any) -> None:
        answer = await client.post("/v1/alertmanager", json=notification(alert("a", "firing", "2026-11-25T14:12:03Z")))
        assert answer.status == 404
        assert "--alertmanager-token-file" in (await answer.json())["error"]

    call(http_app(GateBook(), Metrics(), Health()), check)


def test_an_overdue_corrective_action_shows_in_status_and_metric_with_one_event(
    receiver: RunningOperator, control_plane: ControlPlane
) -> None:
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"] = {"name": "actions", "namespace": NAMESPACE}
    plan["spec"]["service"]["name"] = "actions"
    plan["spec"]["postmortem"]["correctiveActions"] = [
        {"id": "CA-7", "title": "Add a circuit breaker", "owner": "alice", "priority": "P0", "due": "2026-01-15"},
        {"id": "CA-8", "title": "Load test", "owner": "bob", "priority": "P1", "due": "2099-01-01"},
    ]
    assert control_plane.apply([plan]).returncode == 0

    def counted() -> dict[str, Any] | None:
        result = control_plane.kubectl("-n", NAMESPACE, "get", "srp", "actions", "-o", "json")
        status = json.loads(result.stdout).get("status") or {} if result.returncode == 0 else {}
        return status.get("correctiveActions")

    actions = wait_for(counted, what="corrective actions in the plan's status")
    assert isinstance(actions, dict)
    assert actions["open"] == {"P0": 1, "P1": 1}
    assert actions["overdue"] == {"P0": 1} and actions["overdueP0"] == ["CA-7"]
    _, metrics = receiver.get("/metrics")
    assert (
        'sre_operator_corrective_actions{namespace="paged",plan="actions",priority="P0",state="overdue"} 1.0' in metrics
    )
    assert (
        'sre_operator_corrective_actions{namespace="paged",plan="actions",priority="P1",state="overdue"} 0.0' in metrics
    )
    time.sleep(3)  # more evaluation cycles: still one Event

    def overdue_events() -> list[dict[str, Any]]:
        listed = control_plane.kubectl(
            "-n", NAMESPACE, "get", "events", "--field-selector", "reason=CorrectiveActionOverdue", "-o", "json"
        ).stdout
        return [e for e in json.loads(listed)["items"] if e["involvedObject"]["name"] == "actions"]

    events = overdue_events()
    assert len(events) == 1, [e["message"] for e in events]
    assert events[0]["message"].startswith("CA-7 (P0, alice) is overdue: due 2026-01-15")
