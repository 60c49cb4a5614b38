"""Sloth, OpenSLO and Pyrra specs become plans that validate, and every field a plan cannot carry is named with
its reason: from the command line as a user runs it, and table by table from the converters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sre_operator.cli import main
from sre_operator.interop import convert
from sre_operator.models import ServiceReliabilityPlan, parse_document

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
pytestmark = pytest.mark.unit


def documents(name: str) -> list[tuple[str, dict[str, Any]]]:
    loaded = yaml.safe_load_all((DATA / name).read_text(encoding="utf-8"))
    return [(f"{name}#{index}", document) for index, document in enumerate(loaded)]


def slos(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {slo["name"]: slo for slo in plan["spec"]["slos"]}


def test_sloth_specs_and_custom_resources_become_plans() -> None:
    conversion = convert("sloth", documents("sloth.yaml"))
    checkout, search = conversion.plans
    assert checkout["spec"]["service"] == {"name": "checkout", "owner": {"team": "payments"}}
    found = slos(checkout)
    # sum(rate(counter[{{.window}}])) queries are read back into the counters the plan computes windows from.
    assert found["requests-availability"]["indicator"] == {
        "ratio": {"errors": 'http_requests_total{job="checkout",code=~"(5..|429)"}', "total": 'http_requests_total{job="checkout"}'}
    }  # fmt: skip
    assert found["requests-availability"]["alerting"] == {"labels": {"category": "availability"}}
    # A raw ratio keeps its PromQL, the window where Sloth put it.
    raw = found["requests-latency"]["indicator"]["expression"]["errorRatio"]
    assert "[$window]" in raw and "{{.window}}" not in raw
    assert found["requests-latency"]["alerting"] == {"page": False}
    assert "plugged" not in found  # a plugin SLI is reported, not guessed at
    # The custom resource: camelCase fields, its namespace, grouping kept.
    assert search["metadata"] == {"name": "search", "namespace": "shop"}
    assert slos(search)["queries"]["indicator"]["ratio"]["groupBy"] == ["route"]
    assert slos(search)["queries"]["alerting"] == {"ticket": False}
    dropped = {(d.source, d.field) for d in conversion.dropped}
    assert dropped == {
        ("sloth.yaml#0", "slos[0].alerting.name"),
        ("sloth.yaml#0", "slos[0].alerting.annotations"),
        ("sloth.yaml#0", "slos[2].sli.plugin"),
    }
    for plan in conversion.plans:
        assert isinstance(
            parse_document({**plan, "metadata": {"namespace": "x", **plan["metadata"]}}).model, ServiceReliabilityPlan
        )


def test_pyrra_objects_become_plans_and_a_bool_gauge_is_reported() -> None:
    conversion = convert("pyrra", documents("pyrra.yaml"))
    errors, latency = conversion.plans
    slo = errors["spec"]["slos"][0]
    assert (slo["objective"], slo["window"]) == (99.5, "28d")  # a string target, 4 weeks
    assert slo["indicator"]["ratio"] == {
        "errors": 'http_requests_total{job="api",code=~"5.."}', "total": 'http_requests_total{job="api"}', "groupBy": ["route"]
    }  # fmt: skip
    assert errors["spec"]["service"]["owner"]["team"] == "platform"
    assert errors["spec"]["alerting"]["labels"] == {"component": "api"}  # pyrra.dev/ labels reach the alerts
    assert latency["spec"]["slos"][0]["indicator"] == {
        "latency": {"histogram": 'http_request_duration_seconds{job="api"}', "threshold": 0.5}
    }
    assert latency["spec"]["slos"][0]["window"] == "14d"
    assert [(d.source, d.field) for d in conversion.dropped] == [
        ("pyrra.yaml#0", "metadata.labels.prometheus"),
        ("pyrra.yaml#2", "spec.indicator.bool_gauge"),
    ]


def test_openslo_v1_and_v1alpha_become_one_plan_per_service() -> None:
    conversion = convert("openslo", documents("openslo.yaml"))
    payments, ledger = conversion.plans
    found = slos(payments)
    # An SLI by reference, good events, targetPercent, a 28-day rolling window, a paging policy.
    assert found["payments-availability"] == {
        "name": "payments-availability", "objective": 99.95, "window": "28d",
        "indicator": {"ratio": {"good": 'payments_total{outcome="ok"}', "total": "payments_total"}},
    }  # fmt: skip
    # An inline SLI with bad events in sum(rate(...)), target as a ratio, a calendar month.
    monthly = found["payments-monthly"]
    assert (monthly["objective"], monthly["window"], monthly["calendar"]) == (
        99.9, "30d", {"period": "month", "timeZone": "Europe/Berlin"}
    )  # fmt: skip
    assert monthly["indicator"]["ratio"]["errors"] == 'payments_total{outcome="error"}'
    assert payments["spec"]["service"]["owner"]["team"] == "payments"  # from the Service's labels
    assert slos(ledger)["ledger-availability"]["indicator"]["ratio"]["good"] == 'ledger_writes_total{result="ok"}'
    reasons = {d.field: d.reason for d in conversion.dropped}
    assert "Timeslices" in reasons["spec.budgetingMethod"]
    assert any("threshold metric" in d.reason for d in conversion.dropped if d.field == "spec.objectives[0]")
    assert "Datadog" in reasons["spec.objectives[0].ratio.good"]
    assert "calendar" in reasons["spec.timeWindow.calendar"]
    assert "14.4 over 1h" in reasons["AlertPolicy payments-paging: condition"]
    assert "notificationTargets" in "".join(reasons)
    composite = [d for d in conversion.dropped if "composite" in d.reason]
    assert [d.field for d in composite] == ["spec.objectives[0]", "kind CompositeSLO"]


def test_another_tools_document_is_reported_not_guessed() -> None:
    conversion = convert("pyrra", documents("sloth.yaml"))
    assert conversion.plans == []
    assert [d.reason for d in conversion.dropped] == ["not a pyrra document: skipped"] * 2


def test_the_command_writes_plans_that_validate_and_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "plans.yaml"
    assert main(["import", "sloth", str(DATA / "sloth.yaml"), "-n", "team-a", "-o", str(output)]) == 0
    said = capsys.readouterr().err
    assert "not carried: " in said and "slos[2].sli.plugin: Sloth SLI plugin" in said
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# not carried: ")  # and in the file, as comments heading the plans
    assert main(["validate", str(output)]) == 0, capsys.readouterr().out
    assert all(plan["metadata"]["namespace"] == "team-a" for plan in yaml.safe_load_all(text))
    assert main(["import", "sloth", str(DATA / "sloth.yaml"), "--strict"]) == 1
    assert main(["import", "pyrra", str(DATA / "sloth.yaml")]) == 1  # no plan at all
    assert "0 plan(s)" in capsys.readouterr().err


def test_a_plan_exported_as_openslo_imports_back_to_the_same_slos(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "openslo"]) == 0  # the embedded example plans
    captured = capsys.readouterr()
    exported = [d for d in yaml.safe_load_all(captured.out) if d]
    assert {d["kind"] for d in exported} == {"Service", "SLO", "AlertPolicy", "AlertCondition"}
    # What OpenSLO cannot say is named: the expression SLI, the plan's other sections, grouping.
    assert "slos[freshness]: indicator.expression" in captured.err
    assert "shop/checkout: spec.release: OpenSLO describes SLOs and their alerts only" in captured.err
    back = convert("openslo", [(f"exported#{i}", d) for i, d in enumerate(exported)])
    checkout = next(p for p in back.plans if p["spec"]["service"]["name"] == "checkout")
    availability = slos(checkout)["checkout-availability"]
    assert (availability["objective"], availability["window"]) == (99.9, "30d")
    assert availability["indicator"]["ratio"] == {
        "errors": 'http_requests_total{job="checkout",code=~"5.."}', "total": 'http_requests_total{job="checkout"}'
    }  # fmt: skip
    assert checkout["spec"]["service"]["owner"]["team"] == "payments"
    conditions = [
        d
        for d in exported
        if d["kind"] == "AlertCondition" and d["metadata"]["name"].startswith("checkout-availability-")
    ]
    assert [(c["spec"]["condition"]["threshold"], c["spec"]["severity"]) for c in conditions][:2] == [
        (14.4, "page"),
        (6.0, "page"),
    ]
