"""Alert routing as Alertmanager itself reads it: amtool checks every generated configuration and says where
each alert goes."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sre_operator.generate.routing import (
    alertmanager_config,
    dump_yaml,
    raw_routing,
    routing_secret,
    standalone_config,
    utc_intervals,
)
from sre_operator.models.plan import BusinessHours
from tests.conftest import example_plans, plan_from_yaml, require_program

ROUTED = [p for p in example_plans() if p.spec.alerting and p.spec.alerting.routing]


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_program("amtool", "bash scripts/test.sh installs Debian's 'prometheus-alertmanager' package")


def routes_to(amtool: str, config: Path, **labels: str) -> str:
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def test_there_are_routed_examples() -> None:
    assert [p.metadata.name for p in ROUTED] == ["checkout"]


@pytest.mark.parametrize("plan", ROUTED, ids=lambda p: p.metadata.name)
def test_amtool_accepts_the_standalone_configuration_and_routes_each_alert(
    plan: Any, amtool: str, tmp_path: Path
) -> None:
    config = tmp_path / "alertmanager.yaml"
    config.write_text(dump_yaml(standalone_config(plan)), encoding="utf-8")
    checked = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    name, namespace, service = plan.metadata.name, plan.metadata.namespace, plan.spec.service.name
    identity = {"namespace": namespace, "service": service, "slo": plan.spec.slos[0].name}
    assert (
        routes_to(amtool, config, alertname="SLOErrorBudgetFastBurn", severity="critical", **identity) == f"{name}-page"
    )
    assert (
        routes_to(amtool, config, alertname="SLOErrorBudgetSlowBurn", severity="warning", **identity)
        == f"{name}-ticket"
    )
    assert routes_to(amtool, config, alertname="SLOSignalMissing", severity="warning", **identity) == f"{name}-ticket"
    assert routes_to(amtool, config, alertname="Other", severity="info", **identity) == f"{name}-nobody"
    assert routes_to(amtool, config, severity="critical", namespace="elsewhere", service=service) == f"{name}-nobody"


def test_secrets_are_referenced_never_copied() -> None:
    (plan,) = ROUTED
    config, raw = alertmanager_config(plan), raw_routing(plan)
    assert config is not None and raw is not None
    page = config["spec"]["receivers"][1]
    assert page["pagerdutyConfigs"][0]["routingKey"] == {"name": "pagerduty", "key": "routing-key"}
    raw_page, raw_ticket = raw["receivers"][1:]
    assert raw_page["pagerduty_configs"][0]["routing_key_file"] == "/etc/alertmanager/secrets/pagerduty/routing-key"
    assert raw_ticket["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/slack/url"
    secret = routing_secret(plan)
    assert secret is not None and set(secret["data"]) == {"routing.yaml", "alertmanager.yaml"}


def test_pagerduty_gets_an_explicit_severity_per_route() -> None:
    plan = plan_from_yaml(
        """
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {name: api, namespace: team}
spec:
  service: {name: api, owner: {team: t}}
  slos: [{name: availability, objective: 99.9, indicator: {ratio: {errors: 'e_total', total: 't_total'}}}]
  alerting:
    routing:
      page: {pagerduty: {routingKeySecret: {name: pd, key: key}}}
      ticket: {pagerduty: {routingKeySecret: {name: pd, key: low}}}
  incident:
    escalation: [{after: 0m, notify: a}, {after: 90m, notify: b}]
"""
    )
    config = alertmanager_config(plan)
    assert config is not None
    page, ticket = config["spec"]["receivers"][1:]
    assert page["pagerdutyConfigs"][0]["severity"] == "critical"
    assert ticket["pagerdutyConfigs"][0]["severity"] == "warning"
    # The page repeats no sooner than the last escalation step is due.
    assert config["spec"]["route"]["routes"][0]["repeatInterval"] == "1h30m"


@pytest.mark.parametrize(
    ("zone", "day", "weekdays", "start", "end", "expected"),
    [
        ("Europe/Berlin", datetime.date(2026, 11, 25), ["monday:friday"], "09:00", "18:00",
         [(["monday", "tuesday", "wednesday", "thursday", "friday"], "08:00", "17:00")]),
        ("Europe/Berlin", datetime.date(2026, 7, 1), ["monday:friday"], "09:00", "18:00",
         [(["monday", "tuesday", "wednesday", "thursday", "friday"], "07:00", "16:00")]),
        ("Asia/Tokyo", datetime.date(2026, 11, 25), ["monday"], "08:00", "18:00",
         [(["monday"], "00:00", "09:00"), (["sunday"], "23:00", "24:00")]),
        ("America/Los_Angeles", datetime.date(2026, 11, 25), ["friday:saturday"], "17:00", "23:00",
         [(["saturday", "sunday"], "01:00", "07:00")]),
        ("UTC", datetime.date(2026, 11, 25), ["saturday:monday"], "10:00", "12:00",
         [(["monday", "saturday", "sunday"], "10:00", "12:00")]),
    ],
)  # fmt: skip
def test_business_hours_in_utc(
    zone: str, day: datetime.date, weekdays: list[str], start: str, end: str, expected: list[Any]
) -> None:
    hours = BusinessHours(time_zone=zone, weekdays=weekdays, start=start, end=end)
    found = [(i["weekdays"], i["times"][0]["startTime"], i["times"][0]["endTime"]) for i in utc_intervals(hours, day)]
    order = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert found == [(sorted(w, key=order.index), a, b) for w, a, b in expected]


def every_receiver_plans() -> list[Any]:
    pairs = [
        ("{pagerduty: {routingKeySecret: {name: pd, key: key}}}", "{slack: {apiURLSecret: {name: sl, key: url}}}"),
        ("{opsgenie: {apiKeySecret: {name: og, key: key}}}", "{webhook: {urlSecret: {name: wh, key: url}}}"),
        ("{email: {to: oncall@example.com}}", "{email: {to: team@example.com}}"),
    ]
    return [
        plan_from_yaml(
            f"""
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {{name: p{i}, namespace: team}}
spec:
  service: {{name: s{i}, owner: {{team: t}}}}
  slos: [{{name: availability, objective: 99.9, indicator: {{ratio: {{errors: 'e_total', total: 't_total'}}}}}}]
  alerting: {{routing: {{page: {page}, ticket: {ticket}, outputs: [alertmanagerSecret]}}}}
"""
        )
        for i, (page, ticket) in enumerate(pairs)
    ]


@pytest.mark.live
def test_every_receiver_kind_passes_a_current_amtool(tmp_path: Path) -> None:
    import os

    current = os.environ.get("SRE_OPERATOR_AMTOOL")
    if not current:
        reason = "no current amtool: bash scripts/amtool.sh builds it (Debian's 0.25 predates url_file)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    for plan in every_receiver_plans():
        config = tmp_path / f"{plan.metadata.name}.yaml"
        config.write_text(dump_yaml(standalone_config(plan)), encoding="utf-8")
        checked = subprocess.run([current, "check-config", str(config)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        text = config.read_text()
        assert "secrets/" in text or "email_configs" in text


def test_pages_also_reach_the_operator_to_become_incidents(amtool: str, tmp_path: Path) -> None:
    from sre_operator.generate.options import IncidentReceiver
    from sre_operator.models.base import SecretKeyRef

    (plan,) = ROUTED
    incidents = IncidentReceiver(
        "http://sre-operator.sre-operator.svc:8080/v1/alertmanager", SecretKeyRef(name="am", key="t")
    )
    config = tmp_path / "alertmanager.yaml"
    config.write_text(dump_yaml(standalone_config(plan, incidents)), encoding="utf-8")
    (tmp_path / "am").mkdir()
    checked = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    identity = {"namespace": plan.metadata.namespace, "service": plan.spec.service.name, "slo": "availability"}
    name = plan.metadata.name
    # A page goes to the operator and (continue) to the pager; a ticket only to the ticket receiver.
    page = routes_to(amtool, config, alertname="SLOErrorBudgetFastBurn", severity="critical", **identity)
    assert page == f"{name}-incidents,{name}-page"
    ticket = routes_to(amtool, config, alertname="SLOErrorBudgetSlowBurn", severity="warning", **identity)
    assert ticket == f"{name}-ticket"
    raw = raw_routing(plan, incidents)
    assert raw is not None
    (webhook,) = next(r for r in raw["receivers"] if r["name"] == f"{name}-incidents")["webhook_configs"]
    # The token is a file mounted from the Secret, never its value.
    assert webhook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/etc/alertmanager/secrets/am/t",
    }
    operator_form = alertmanager_config(plan, incidents=incidents)
    assert operator_form is not None
    first = operator_form["spec"]["route"]["routes"][0]
    assert first["receiver"] == f"{name}-incidents" and first["continue"] is True
    (receiver,) = [r for r in operator_form["spec"]["receivers"] if r["name"] == f"{name}-incidents"]
    assert receiver["webhookConfigs"][0]["httpConfig"]["authorization"]["credentials"] == {"name": "am", "key": "t"}
