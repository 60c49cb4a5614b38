"""The Argo CD health checks the chart ships, run by a real Lua runtime (lupa), as Argo CD runs them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from lupa import LuaRuntime

from tests.support.chart import render

KEY = "resource.customizations.health.reliability.dev_"


def scripts() -> dict[str, str]:
    (config_map,) = [d for d in render({}) if d["metadata"]["name"].endswith("-argocd-health")]
    snippet = yaml.safe_load(config_map["data"]["argocd-cm.yaml"])["data"]
    return {key.removeprefix(KEY): script for key, script in snippet.items()}


def health(kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    lua = LuaRuntime(unpack_returned_tuples=True)
    to_lua = lua.eval(
        "function(f) local function conv(v) if python.builtins.isinstance(v, python.builtins.dict) then "
        "local t = {} for k in python.iter(v) do t[k] = conv(v[k]) end return t "
        "elseif python.builtins.isinstance(v, python.builtins.list) then "
        "local t = {} local i = 1 for x in python.iter(v) do t[i] = conv(x) i = i + 1 end return t "
        "else return v end end return conv(f) end"
    )
    lua.globals().obj = to_lua(obj)
    result = lua.execute(scripts()[kind])
    return str(result["status"]), str(result["message"] or "")


def gate(status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"generation": generation},
    }
    if status is not None:
        body["status"] = {"observedGeneration": 1, **status}
    return body


FROZEN_REASON = "Frozen: availability has -12% of its 30d budget left (rule freeze); reopens above 0% held for 1h"


@pytest.mark.parametrize(
    ("case", "status", "expected"),
    [
        ("open", {"state": "Open", "allowed": True, "reason": "Open: 42% left"}, ("Healthy", "Open: 42% left")),
        (
            "frozen holds the sync",
            {"state": "Frozen", "allowed": False, "reason": FROZEN_REASON},
            ("Suspended", FROZEN_REASON),
        ),
        (
            "frozen in dry run",
            {"state": "Frozen", "allowed": True, "reason": "x (dry run)"},
            ("Healthy", "x (dry run)"),
        ),
        (
            "evaluating",
            {"state": "Evaluating", "allowed": True, "reason": "Evaluating: budgets not read yet"},
            ("Progressing", "Evaluating: budgets not read yet"),
        ),
        (
            "invalid",
            {"state": "Invalid", "allowed": True, "reason": "Invalid: spec.planRef.name: no plan"},
            ("Degraded", "Invalid: spec.planRef.name: no plan"),
        ),
        ("no status yet", None, ("Progressing", "Waiting for sre-operator to decide this gate")),
    ],
)
def test_release_gate_health(case: str, status: dict[str, Any] | None, expected: tuple[str, str]) -> None:
    assert health("ReleaseGate", gate(status)) == expected, case


def test_a_gate_not_yet_decided_at_its_generation_is_progressing_never_degraded() -> None:
    stale = gate({"state": "Invalid", "allowed": True, "reason": "old"}, generation=2)
    assert health("ReleaseGate", stale) == ("Progressing", "Waiting for sre-operator to decide generation 2")


def conditions(*items: tuple[str, str, str]) -> dict[str, Any]:
    return {"observedGeneration": 1, "conditions": [{"type": t, "status": s, "message": m} for t, s, m in items]}


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("ServiceReliabilityPlan", None, "Progressing"),
        ("ServiceReliabilityPlan", conditions(("Valid", "True", ""), ("Ready", "True", "4 objects")), "Healthy"),
        (
            "ServiceReliabilityPlan",
            conditions(("Valid", "False", "spec.slos[0].objective: must be below 100")),
            "Degraded",
        ),
        (
            "ServiceReliabilityPlan",
            conditions(("Valid", "True", ""), ("Ready", "False", "apply failed: 500")),
            "Progressing",
        ),
        ("ErrorBudgetPolicy", None, "Progressing"),
        ("ErrorBudgetPolicy", conditions(("Valid", "True", "The spec is valid.")), "Healthy"),
        ("ErrorBudgetPolicy", conditions(("Valid", "False", "spec.rules[1].name: duplicate")), "Degraded"),
    ],
)
def test_plan_and_policy_health(kind: str, status: dict[str, Any] | None, expected: str) -> None:
    body: dict[str, Any] = {"kind": kind, "metadata": {"generation": 1}}
    if status is not None:
        body["status"] = status
    assert health(kind, body)[0] == expected
