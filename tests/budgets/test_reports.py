"""Reliability reports read from the live Prometheus' 30 days of history, against hand-computed figures."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from tests.budgets.conftest import NAMESPACE, OBJECTIVE, TRAFFIC, plan_document
from tests.support.controlplane import ControlPlane
from tests.support.operator import operator_in_process, wait_for
from tests.support.prometheus import LivePrometheus

OPERATOR_USER = "sre-operator-reports"


def report(prometheus: LivePrometheus, tmp_path: Path, period: str, more: list[dict] | None = None) -> tuple[str, dict]:
    plans = tmp_path / "plans.yaml"
    plans.write_text(yaml.safe_dump_all([plan_document("spent"), *(more or [])]), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", "report", str(plans), "--prometheus-url", prometheus.url, "--period", period],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Reliability report" in result.stdout, result.stdout + result.stderr
    text = result.stdout
    data = json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])
    return text, data


def test_a_weekly_report_matches_the_hand_figures(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    end = datetime.datetime.fromtimestamp(live_prometheus.end, datetime.UTC)
    year, week, _ = (end - datetime.timedelta(days=8)).isocalendar()
    text, data = report(live_prometheus, tmp_path, f"{year}-W{week:02d}")
    (slo,) = data["slos"]
    error_ratio, budget = TRAFFIC["spent"].error_ratio, 1 - OBJECTIVE / 100
    assert slo["data"] == "complete" and slo["hours_with_data"] >= 166, text  # the backfill may drop an hour
    assert abs(slo["attainment"] - (1 - error_ratio)) < 1e-6
    assert abs(slo["budgetConsumed"] - error_ratio / budget) / (error_ratio / budget) < 0.01
    assert slo["met"] is False  # 99.8% against 99.9%
    assert "| availability | 99.9% | 99.800% | **no** | 200.0% | -100.0% | complete |" in text


def test_a_calendar_month_report_matches_and_says_how_much_data_it_had(
    live_prometheus: LivePrometheus, tmp_path: Path
) -> None:
    month = datetime.datetime.fromtimestamp(live_prometheus.end, datetime.UTC) - datetime.timedelta(days=1)
    _, data = report(live_prometheus, tmp_path, f"{month.year}-{month.month:02d}")
    (slo,) = data["slos"]
    error_ratio = TRAFFIC["spent"].error_ratio
    assert abs(slo["attainment"] - (1 - error_ratio)) < 1e-6
    assert slo["hours_with_data"] > 0
    assert slo["data"] == "complete" or slo["data"].startswith("partial data (")


def test_a_period_without_data_says_so_instead_of_100_percent(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    text, data = report(live_prometheus, tmp_path, "2020-01")
    (slo,) = data["slos"]
    assert (slo["data"], slo["attainment"], slo["met"]) == ("no data", None, None)
    assert "| availability | 99.9% | n/a | n/a | n/a | n/a | no data |" in text
    assert "100.000%" not in text


def last_week(live_prometheus: LivePrometheus) -> tuple[str, datetime.datetime]:
    """The ISO week before the one Prometheus' history ends in, and a moment inside it."""
    end = datetime.datetime.fromtimestamp(live_prometheus.end, datetime.UTC)
    year, week, _ = (end - datetime.timedelta(days=7)).isocalendar()
    monday = datetime.datetime.combine(datetime.date.fromisocalendar(year, week, 1), datetime.time(9), datetime.UTC)
    return f"{year}-W{week:02d}", monday + datetime.timedelta(days=2)


def incident_object(plan: str, started: datetime.datetime) -> dict:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": f"{plan}-{started:%Y%m%d-%H%M}-availability", "namespace": NAMESPACE},
        "spec": {"planRef": {"name": plan}, "severity": "SEV1", "postmortem": {"state": "InReview"}},
        "status": {
            "state": "Resolved",
            "startedAt": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "slos": ["availability"],
            "budgetSpent": "4.2%",
            "postmortemRequired": True,
        },
    }


def test_the_command_line_lists_the_incidents_it_is_given(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    week, during = last_week(live_prometheus)
    listed = {"apiVersion": "v1", "kind": "List", "items": [incident_object("spent", during)]}
    text, data = report(live_prometheus, tmp_path, week, [listed])
    assert "Incidents started in the period: 1 (SEV1 1)." in text
    assert f"| spent-{during:%Y%m%d-%H%M}-availability | SEV1 |" in text
    assert data["incidents"][0]["postmortem_state"] == "InReview"
    assert data["slos"][0]["paging_minutes"] == 0.0  # the backfilled history has no alerts


def test_the_operator_writes_the_reports_due_into_a_config_map(
    control_plane: ControlPlane, live_prometheus: LivePrometheus
) -> None:
    """Weekly on the plan's cadence (in UTC) and per calendar month in Berlin: last week is complete in the
    30 days of history, last month only partly. An incident of last week is listed with its postmortem."""
    control_plane.kubectl("create", "namespace", NAMESPACE)  # may exist from another module
    plan = plan_document("healthy")
    plan["spec"]["reporting"] = {"cadence": "weekly", "approvers": ["payments-lead"]}
    plan["spec"]["slos"][0]["calendar"] = {"period": "month", "timeZone": "Europe/Berlin"}
    week, during = last_week(live_prometheus)
    incident = incident_object("healthy", during)
    status = incident.pop("status")
    assert control_plane.apply([plan, incident]).returncode == 0
    patched = control_plane.kubectl(
        "-n", NAMESPACE, "patch", "incident", incident["metadata"]["name"],
        "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}),
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER), PROMETHEUS_URL=live_prometheus.url, REPORT_INTERVAL="2"
    ):

        def written() -> dict | None:
            found = control_plane.kubectl("-n", NAMESPACE, "get", "configmap", "healthy-reports", "-o", "json")
            return json.loads(found.stdout) if found.returncode == 0 else None

        config_map = wait_for(written, timeout=60, what="the reports ConfigMap")
        assert isinstance(config_map, dict)
        plan_status = json.loads(control_plane.kubectl("-n", NAMESPACE, "get", "srp", "healthy", "-o", "json").stdout)[
            "status"
        ]
    weekly = config_map["data"]["weekly.md"]
    weekly_data = json.loads(weekly.split("```json\n", 1)[1].split("\n```", 1)[0])
    error_ratio = TRAFFIC["healthy"].error_ratio
    (slo,) = weekly_data["slos"]
    assert weekly_data["period"]["label"] == week
    assert slo["data"] == "complete" and abs(slo["attainment"] - (1 - error_ratio)) < 1e-6, weekly
    assert abs(slo["budgetConsumed"] - 0.5) < 0.005  # half the budget: 0.05% errors against 0.1%
    assert "Incidents started in the period: 1 (SEV1 1)." in weekly
    assert "| InReview, required |" in weekly
    assert "Approvers: payments-lead." in weekly

    month = config_map["data"]["calendar-month-europe-berlin.md"]
    month_data = json.loads(month.split("```json\n", 1)[1].split("\n```", 1)[0])
    (month_slo,) = month_data["slos"]
    now = datetime.datetime.now(datetime.UTC)
    berlin_last_month = now.astimezone(ZoneInfo("Europe/Berlin")).replace(day=1) - datetime.timedelta(days=1)
    assert month_data["period"]["label"] == f"{berlin_last_month:%Y-%m}"
    assert abs(month_slo["attainment"] - (1 - error_ratio)) < 1e-6
    # 30 days of history cover only the end of last month: say so rather than show a full month.
    assert month_slo["data"].startswith("partial data (") or month_slo["data"] == "complete", month_slo
    assert [(r["name"], r["period"]) for r in plan_status["reports"]] == [
        ("weekly", week),
        ("calendar-month-europe-berlin", f"{berlin_last_month:%Y-%m}"),
    ]
    events = control_plane.kubectl(
        "-n", NAMESPACE, "get", "events", "--field-selector", "reason=ReportWritten", "-o", "json"
    )
    assert any("healthy-reports" in e["message"] for e in json.loads(events.stdout)["items"])
