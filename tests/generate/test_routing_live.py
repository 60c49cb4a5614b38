"""The generated routing in a live Alertmanager (Debian's): pages delivered, tickets inhibited by the page of
the same SLO, tickets held outside business hours. Two plans' raw subtrees are merged into one configuration,
as a platform team merges them."""

from __future__ import annotations

import datetime
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sre_operator.generate.routing import SECRETS_MOUNT, dump_yaml, raw_routing
from tests.conftest import plan_from_yaml, require_program
from tests.support.alertmanager import live_alertmanager, webhook_sink
from tests.support.operator import wait_for

pytestmark = pytest.mark.live  # a running Alertmanager


def plan(name: str, business_hours: str = "") -> Any:
    return plan_from_yaml(
        f"""
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {{name: {name}, namespace: shop}}
spec:
  service: {{name: {name}, owner: {{team: t}}}}
  slos: [{{name: availability, objective: 99.9, indicator: {{ratio: {{errors: 'e_total', total: 't_total'}}}}}}]
  alerting:
    routing:
      page: {{slack: {{apiURLSecret: {{name: {name}-hooks, key: page}}}}}}
      ticket: {{slack: {{apiURLSecret: {{name: {name}-hooks, key: ticket}}}}}}
      {business_hours}
      outputs: [alertmanagerSecret]
"""
    )


Deliveries = list[tuple[str, dict[str, Any]]]


@pytest.fixture()
def receiver() -> Iterator[tuple[str, Deliveries]]:
    with webhook_sink() as sink:
        yield sink


def outside_business_hours() -> str:
    """Business hours that exclude now, by Alertmanager's clock: tomorrow's weekday only (UTC)."""
    tomorrow = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).strftime("%A").lower()
    return f"businessHours: {{timeZone: UTC, weekdays: [{tomorrow}], start: '00:00', end: '23:59'}}"


@pytest.fixture()
def alertmanager(tmp_path: Path, receiver: tuple[str, Deliveries]) -> Iterator[str]:
    binary = require_program("prometheus-alertmanager", "bash scripts/test.sh installs 'prometheus-alertmanager'")
    plans = [plan("api"), plan("batch", outside_business_hours())]
    merged: dict[str, Any] = {"route": {"receiver": "default", "routes": []}, "receivers": [{"name": "default"}]}
    for routed in plans:
        subtree = raw_routing(routed)
        assert subtree is not None
        merged["route"]["routes"].append(subtree["route"])
        merged["receivers"] += subtree["receivers"]
        merged.setdefault("inhibit_rules", []).extend(subtree["inhibit_rules"])
        merged.setdefault("time_intervals", []).extend(subtree.get("time_intervals", []))
        for key in ("page", "ticket"):  # the Secrets, mounted where the configuration reads them
            folder = tmp_path / "secrets" / f"{routed.metadata.name}-hooks"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / key).write_text(f"{receiver[0]}/{routed.metadata.name}/{key}")
    # Test-only: the mount folder, and waits of seconds instead of minutes.
    text = dump_yaml(merged).replace(SECRETS_MOUNT, str(tmp_path / "secrets"))
    for wait in ("30s", "5m"):
        text = text.replace(f"group_wait: {wait}", "group_wait: 1s")
    (tmp_path / "alertmanager.yml").write_text(text)
    with live_alertmanager(binary, tmp_path / "alertmanager.yml", tmp_path) as url:
        yield url


def alert(service: str, name: str, severity: str) -> dict[str, Any]:
    labels = {"alertname": name, "severity": severity, "namespace": "shop", "service": service, "slo": "availability"}
    return {"labels": labels, "annotations": {"summary": f"{service} {name}"}}


def post(url: str, alerts: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", json.dumps(alerts).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def test_a_page_is_delivered_and_silences_the_ticket_of_the_same_slo(
    alertmanager: str, receiver: tuple[str, Deliveries]
) -> None:
    _, delivered = receiver
    post(
        alertmanager,
        [alert("api", "SLOErrorBudgetFastBurn", "critical"), alert("api", "SLOErrorBudgetSlowBurn", "warning")],
    )
    wait_for(lambda: [p for p, _ in delivered if p == "/api/page"], timeout=30, what="the page delivered")

    def inhibited() -> list[str] | None:
        with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts", timeout=5) as answer:
            alerts = json.loads(answer.read())
        (ticket,) = [a for a in alerts if a["labels"]["alertname"] == "SLOErrorBudgetSlowBurn"]
        return ticket["status"]["inhibitedBy"] or None

    assert wait_for(inhibited, timeout=15, what="the ticket inhibited by the page")
    time.sleep(3)
    assert [p for p, _ in delivered if p == "/api/ticket"] == [], "an inhibited ticket must not notify"


def test_a_ticket_waits_for_business_hours_while_a_page_does_not(
    alertmanager: str, receiver: tuple[str, Deliveries]
) -> None:
    _, delivered = receiver
    page = alert("batch", "SLOErrorBudgetFastBurn", "critical")
    page["labels"]["slo"] = "freshness"  # another SLO: nothing inhibits the ticket below
    post(alertmanager, [alert("batch", "SLOSignalMissing", "warning"), page])
    wait_for(lambda: [p for p, _ in delivered if p == "/batch/page"], timeout=30, what="the page")
    time.sleep(4)  # four group waits: the ticket would have been sent by now inside business hours
    assert [p for p, _ in delivered if p == "/batch/ticket"] == []
