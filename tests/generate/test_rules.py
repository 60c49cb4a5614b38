"""The PrometheusRule generator: golden output, promtool acceptance, tier factors, escaping."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from sre_operator.cli import dump_yaml
from sre_operator.durations import seconds
from sre_operator.generate import TIERS, prometheus_rule
from sre_operator.generate.names import ALERT_PAGE, ALERT_TICKET
from sre_operator.models import parse_document
from tests.conftest import DATA, example_plans
from tests.support.promtool import failed_rule_tests

GOLDEN = DATA / "golden"


@pytest.mark.parametrize("plan", example_plans(), ids=lambda p: p.metadata.name)
def test_rules_match_the_reviewed_golden_file(plan: Any) -> None:
    rendered = dump_yaml([prometheus_rule(plan)])
    golden = GOLDEN / f"{plan.metadata.name}.prometheusrule.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8"), "run with UPDATE_GOLDEN=1 and review the diff"


@pytest.mark.parametrize("plan", example_plans(), ids=lambda p: p.metadata.name)
def test_promtool_accepts_the_rules_of_every_example(plan: Any, check_rules: Any) -> None:
    output = check_rules(prometheus_rule(plan))
    assert "SUCCESS" in output


def test_examples_cover_every_indicator_and_window() -> None:
    seen = {
        (next(k for k in ("ratio", "latency", "expression") if getattr(s.indicator, k)), s.window)
        for p in example_plans()
        for s in p.spec.slos
    }
    assert {kind for kind, _ in seen} == {"ratio", "latency", "expression"}
    assert {window for _, window in seen} >= {"7d", "28d", "30d"}


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # The SRE Workbook's factors for 30 days, and the same shares of budget for shorter windows:
        # 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d.
        ("30d", [14.4, 6, 3, 1]),
        ("28d", [13.44, 5.6, 2.8, 0.933333]),
        ("7d", [3.36, 1.4, 0.7, 0.233333]),
    ],
)
def test_burn_rate_factors_spend_the_same_share_of_budget(window: str, expected: list[float]) -> None:
    assert [t.factor(window) for t in TIERS] == pytest.approx(expected, rel=1e-6)
    assert [t.severity for t in TIERS] == ["critical", "critical", "warning", "warning"]
    assert [(t.long, t.short) for t in TIERS] == [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]


def alerts_of(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        (r["alert"], r["labels"]["slo"]): r
        for g in rule["spec"]["groups"]
        for r in g["rules"]
        if "slo" in r.get("labels", {}) and "alert" in r
    }


def test_alerts_carry_the_alert_contract() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    alerts = alerts_of(prometheus_rule(checkout))
    page = alerts[(ALERT_PAGE, "availability")]
    ticket = alerts[(ALERT_TICKET, "availability")]
    assert page["labels"] == {
        "team": "payments",
        "component": "api",
        "severity": "critical",
        "namespace": "shop",
        "service": "checkout",
        "slo": "availability",
    }
    assert ticket["labels"]["severity"] == "warning"
    assert set(page["annotations"]) == {"summary", "description", "runbook_url"}
    assert page["annotations"]["runbook_url"] == (
        "https://runbooks.example.com/checkout/shop/checkout/availability#SLOErrorBudgetFastBurn"  # API.md anchors
    )
    assert "14.4x over 1h and 5m" in page["annotations"]["description"]
    assert "6x over 6h and 30m" in page["annotations"]["description"]


def test_raw_series_are_read_now_and_one_tile_ago_only() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    rules = [r for g in prometheus_rule(checkout)["spec"]["groups"] for r in g["rules"] if "record" in r]
    raw_ranges = [r for r in rules if "http_requests_total" in r["expr"] or "http_request_duration" in r["expr"]]
    assert raw_ranges and all(r["record"] == "slo:sli:rate" for r in raw_ranges)
    for rule in raw_ranges:
        # The checkout example is scraped every 30s (the default): its tile is a minute. No range, no rate.
        assert not re.findall(r"http_\w+\{[^}]*\}\[", rule["expr"])
        assert set(re.findall(r"http_\w+\{[^}]*\}( offset \w+)?", rule["expr"])) == {"", " offset 1m"}
    mine = [r for r in rules if r["labels"].get("slo") == "availability"]
    (remaining,) = [r for r in mine if r["record"] == "slo:error_budget_remaining:ratio"]
    # The 30d window reads the hourly rates: 720 samples a series, whatever the evaluation interval.
    assert 'sli="errors_1h"}[29d23h59m30s]' in remaining["expr"]
    # Only that rule reads a range longer than the alert windows' 3 days, so the rules that run the short
    # windows never look up the index of the month's blocks.
    ranges = {r["record"]: [seconds(found) for found in re.findall(r"\[(\w+)\]", r["expr"])] for r in mine}
    assert [name for name, found in ranges.items() if max(found, default=0) > seconds("3d")] == [
        "slo:error_budget_remaining:ratio"
    ]


def test_an_slo_takes_eight_rules_and_nine_with_the_no_data_alert() -> None:
    for plan in example_plans():
        groups = [g for g in prometheus_rule(plan)["spec"]["groups"] if not g["name"].endswith("-capacity")]
        for group, slo in zip(groups, plan.spec.slos, strict=True):
            expected = 8 + (slo.alerting.no_data_for is not None)
            expected -= (not slo.alerting.page) + (not slo.alerting.ticket)
            assert len(group["rules"]) == expected, (plan.metadata.name, slo.name)


NASTY = 'a"b}\\c\n{{ $labels.x }}'
OWNER = 'x}}\\"'


def nasty_plan() -> Any:
    selector_value = NASTY.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    document = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": "nasty", "namespace": "default"},
        "spec": {
            "service": {"name": "nasty", "owner": {"team": "t"}},
            "slos": [
                {
                    "name": "availability",
                    "objective": 99,
                    "window": "7d",
                    "indicator": {
                        "ratio": {
                            "errors": f'requests_total{{path="{selector_value}",code="500"}}',
                            "total": f'requests_total{{path="{selector_value}"}}',
                        }
                    },
                    "alerting": {"labels": {"note": NASTY}},
                }
            ],
            "alerting": {"labels": {"owner": OWNER}},
        },
    }
    parsed = parse_document(document)
    assert not parsed.problems, parsed.problems
    return parsed.model


def test_quotes_backslashes_newlines_and_braces_cannot_break_rules(
    check_rules: Any, promtool: str, tmp_path: Path
) -> None:
    rule = prometheus_rule(nasty_plan())
    check_rules(rule)
    series = 'requests_total{path="a\\"b}\\\\c\\n{{ $labels.x }}",code="500"}'
    tests = [
        {
            "interval": "1m",
            "input_series": [{"series": series, "values": "0+60x120"}],
            "promql_expr_test": [
                {
                    # The selector still picks the series whose label holds every special character.
                    "expr": 'slo:sli:rate{slo="availability", sli="requests"}',
                    "eval_time": "60m",
                    "exp_samples": [
                        {
                            "labels": 'slo:sli:rate{namespace="default",service="nasty",slo="availability",sli="requests"}',
                            "value": 1,
                        }
                    ],
                }
            ],
            "alert_rule_test": [
                {
                    "eval_time": "60m",
                    "alertname": ALERT_PAGE,
                    "exp_alerts": [
                        {
                            # Template syntax in a label value stays literal text.
                            "exp_labels": {
                                "severity": "critical",
                                "namespace": "default",
                                "service": "nasty",
                                "slo": "availability",
                                "note": NASTY,
                                "owner": OWNER,
                            },
                            "exp_annotations": {
                                k: v.replace('{{ "{{" }}', "{{")
                                for k, v in alerts_of(rule)[(ALERT_PAGE, "availability")]["annotations"].items()
                            },
                        }
                    ],
                }
            ],
        }
    ]
    failures = failed_rule_tests(promtool, tmp_path, rule["spec"], tests)
    assert not failures, failures


def test_two_namespaces_with_the_same_service_and_slo_write_different_series() -> None:
    """namespace, service and slo are an SLO's identity: plans in two namespaces never share a series."""
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    twin = checkout.model_copy(update={"metadata": checkout.metadata.model_copy(update={"namespace": "staging"})})
    ours, theirs = prometheus_rule(checkout), prometheus_rule(twin)
    for rule in (r for g in ours["spec"]["groups"] for r in g["rules"]):
        assert rule["labels"]["namespace"] == "shop"
        if "record" in rule and "slo:" in rule["expr"]:
            assert 'namespace="shop"' in rule["expr"], rule["expr"]
    recorded = {
        (r.get("record"), tuple(sorted(r["labels"].items()))) for g in ours["spec"]["groups"] for r in g["rules"]
    }
    twins = {
        (r.get("record"), tuple(sorted(r["labels"].items()))) for g in theirs["spec"]["groups"] for r in g["rules"]
    }
    assert not recorded & twins
