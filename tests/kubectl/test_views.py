"""What `kubectl sre` prints, from objects as the API server holds them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from sre_operator.kubectl import views

FROZEN_STATUS = {
    "state": "Frozen",
    "allowed": False,
    "reason": "budget -12.0% left (availability; rule freeze)",
    "budgetRemaining": -0.12,
    "burnRates": {"6h": 2.0, "1h": 14.5},
    "since": "2026-12-01T10:00:00Z",
    "slo": "availability",
    "rule": "freeze",
    "frozenBy": "budget",
}


def plan(name: str, slos: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "status": {"slos": slos}}


def gate(name: str, plan_name: str, status: dict[str, Any], slos: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"planRef": {"name": plan_name}}
    if slos is not None:
        spec["slos"] = slos
    return {"metadata": {"name": name, "namespace": "shop", "resourceVersion": "42"}, "spec": spec, "status": status}


def test_every_slo_is_a_row_with_its_budget_burn_and_the_state_of_the_gates_it_holds() -> None:
    plans = [
        plan(
            "checkout",
            {
                "latency": {"objective": 99, "window": "30d", "budgetRemaining": 0.5, "burnRates": {"1h": 0.25}},
                "availability": {"objective": 99.9, "window": "30d", "budgetRemaining": -0.12,
                                 "burnRates": {"1h": 14.5}},
            },
        ),
        plan("search", {"availability": {"objective": 99.5, "window": "28d", "unknown": "no data"}}),
    ]  # fmt: skip
    gates = [gate("checkout", "checkout", FROZEN_STATUS, slos=["availability"])]
    rows = views.slo_rows(plans, gates)
    assert [(r.plan, r.slo, r.budget, r.burn_1h, r.gate) for r in rows] == [
        ("checkout", "availability", "-12.0%", "14.50x", "checkout=Frozen"),
        ("checkout", "latency", "50.0%", "0.25x", "<none>"),  # the gate holds availability only
        ("search", "availability", "<unknown>", "<unknown>", "<none>"),
    ]
    assert rows[2].why_unknown == "no data"


def test_a_table_is_aligned_like_kubectl_and_user_text_cannot_forge_a_row() -> None:
    rows = views.gate_rows(
        [gate("checkout", "checkout", {**FROZEN_STATUS, "reason": "line one\nshop  checkout  Open"})]
    )
    text = views.table(rows, views.GATE_COLUMNS, namespaces=False)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["NAME", "STATE", "BUDGET", "SLO", "REASON"]
    assert lines[1].startswith("checkout   Frozen   -12.0%   availability   line one shop checkout Open")
    assert lines[0].index("STATE") == lines[1].index("Frozen")


def test_why_names_the_rule_the_numbers_when_it_reopens_and_how_to_override() -> None:
    status = {**FROZEN_STATUS, "recoveringSince": "2026-12-01T11:00:00Z"}
    policy = {
        "metadata": {"name": "checkout-budget"},
        "spec": {"unfreeze": {"budgetRemainingAbove": 5, "holdFor": "1h"}},
    }
    text = "\n".join(views.why(gate("checkout", "checkout", status), policy))
    assert "ReleaseGate shop/checkout: Frozen (denied)" in text
    assert "rule:      freeze of ErrorBudgetPolicy checkout-budget" in text
    assert "budget:    -12.0% left" in text
    assert "burn:      1h 14.50x, 6h 2.00x" in text  # shortest window first
    assert "reopens:   at 2026-12-01T12:00:00Z if every gated SLO stays above 5% of its budget" in text
    assert "kubectl sre override checkout -n shop --reason" in text


def test_a_gate_frozen_because_budgets_are_unreadable_says_so() -> None:
    status = {**FROZEN_STATUS, "frozenBy": "unknown", "rule": ""}
    text = "\n".join(views.why(gate("checkout", "checkout", status), None))
    assert "once the budgets can be read again" in text
    assert "rule:" not in text


def test_an_override_is_one_appended_entry_conditional_on_the_version_read() -> None:
    expires = datetime.datetime(2026, 12, 1, 14, 0, tzinfo=datetime.UTC)
    first = views.override_operations(gate("g", "p", {}), reason="INC-9 fix", by="alice", expires=expires)
    assert first == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
        {"op": "add", "path": "/spec/overrides", "value": [{"reason": "INC-9 fix", "by": "alice",
                                                            "expires": "2026-12-01T14:00:00Z"}]},
    ]  # fmt: skip
    existing = gate("g", "p", {})
    existing["spec"]["overrides"] = [{"reason": "old", "by": "bob", "expires": "2026-11-01T00:00:00Z"}]
    second = views.override_operations(existing, reason="INC-9 fix", by="alice", expires=expires)
    assert second[1]["op"] == "add" and second[1]["path"] == "/spec/overrides/-"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 0.75, 0.5, 0.25, 0.0], "█▆▅▃▁"),
        ([0.5, 0.5], "▁▁"),
        ([0.5, 0.5000001, 0.5], "▁▁▁"),
        ([], ""),
        ([-0.2, 0.3], "▁█"),
    ],
)
def test_a_sparkline_spans_its_values(values: list[float], expected: str) -> None:
    assert views.sparkline(values) == expected


def test_argo_cd_tracking_is_recognised() -> None:
    tracked = {
        "metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "shop:reliability.dev/ReleaseGate:shop/g"}}
    }
    assert views.managed_by_argo_cd(tracked)
    assert not views.managed_by_argo_cd({"metadata": {"labels": {"app": "checkout"}}})


def test_selector_values_are_escaped_for_promql() -> None:
    assert views.selector("m", slo='a"b\\c') == 'm{slo="a\\"b\\\\c"}'


def test_each_tier_has_its_workbook_threshold_and_fires_only_when_both_windows_burn_above_it() -> None:
    from tests.support.alert_timing import one_slo_plan

    plan = one_slo_plan(99.9)
    rates = {"5m": 20.0, "1h": 15.0, "30m": 2.0, "6h": 2.0, "2h": 3.5, "1d": 3.1}
    states = views.tier_states(plan, "availability", rates)
    assert [(t.severity, t.long, t.short, t.threshold, t.state) for t in states] == [
        ("page", "1h", "5m", 14.4, "firing"),  # both above 14.4
        ("page", "6h", "30m", 6.0, "ok"),
        ("ticket", "1d", "2h", 3.0, "firing"),
        ("ticket", "3d", "6h", 1.0, "unknown"),  # 3d not read
    ]
    assert views.tier_states(plan, "nope", rates) == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ({"state": "Open", "allowed": True}, 0),
        ({"state": "Frozen", "allowed": False}, 1),
        ({"state": "Frozen", "allowed": True}, 0),  # dryRun: reported, not enforced
        ({"state": "Evaluating", "allowed": True}, 2),
        ({"state": "Invalid", "allowed": True}, 2),
        ({}, 2),
    ],
)
def test_status_exits_zero_only_when_rollouts_are_admitted(status: dict[str, Any], code: int) -> None:
    from sre_operator.kubectl.cli import _exit_code

    assert _exit_code({"status": status}) == code
