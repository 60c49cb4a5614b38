"""Status documents: conditions keep their transition times, and an unchanged reconcile writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sre_operator.errors import Problem
from sre_operator.status import ConditionUpdate, changed_fields, invalid_status, merge_conditions, plan_status
from tests.conftest import example_plans


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    first = merge_conditions([], [ConditionUpdate("Ready", True, "Generated", "ok")], 1, "2026-01-01T00:00:00Z")
    again = merge_conditions(first, [ConditionUpdate("Ready", True, "Generated", "ok")], 2, "2026-01-02T00:00:00Z")
    flipped = merge_conditions(again, [ConditionUpdate("Ready", False, "ApplyFailed", "no")], 3, "2026-01-03T00:00:00Z")
    assert again[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert again[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "2026-01-03T00:00:00Z"


def test_reconciling_an_unchanged_plan_changes_no_status_field() -> None:
    plan = next(p for p in example_plans() if p.metadata.name == "checkout")
    generated = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "checkout-runbooks"}}]
    first = plan_status({}, 3, plan, generated, prometheus_operator=True, now="2026-01-01T00:00:00Z")
    second = plan_status(first, 3, plan, generated, prometheus_operator=True, now="2026-01-01T00:05:00Z")
    assert changed_fields(first, second) == {}


def test_an_invalid_spec_is_one_line_and_keeps_the_rest_of_the_status() -> None:
    previous = {"observedGeneration": 1, "generated": [{"kind": "PrometheusRule"}], "conditions": []}
    problems = [Problem("spec.slos[0].objective", "must be below 100"), Problem("spec.slos[1].name", "duplicate")]
    status = invalid_status(previous, 2, problems, "2026-01-01T00:00:00Z")
    (valid,) = status["conditions"]
    assert valid["message"] == "spec.slos[0].objective: must be below 100 (and 1 more)"
    assert "generated" not in status  # the children of the last good version stay listed


def test_a_gate_with_an_invalid_edit_keeps_deciding_from_its_last_valid_spec() -> None:
    import datetime

    from sre_operator.errors import Problem
    from sre_operator.gates import Decision, Memory
    from sre_operator.status import gate_status, memory_from_status

    decision = Decision("Frozen", False, "Frozen: availability has -3% of its 30d budget left (rule freeze)", "budget")
    memory = Memory("Frozen", False, decision.reason, "2026-11-25T12:00:00Z", "abc", "budget")
    problems = [Problem("spec.slos[1]", "duplicate SLO name 'availability'")]
    status = gate_status({}, 3, decision, memory, "2026-11-25T12:00:00Z", problems=problems)
    (valid,) = [c for c in status["conditions"] if c["type"] == "Valid"]
    assert (valid["status"], valid["message"]) == (
        "False",
        "spec.slos[1]: duplicate SLO name 'availability' (the last valid spec still applies)",
    )
    assert (status["state"], status["allowed"], status["reason"]) == ("Frozen", False, decision.reason)
    restored = memory_from_status(status)
    assert restored == memory
    moment = datetime.datetime(2026, 11, 25, 12, 30, tzinfo=datetime.UTC)
    recovering = gate_status({}, 3, Decision("Frozen", False, "r", "budget", moment), memory, "t")
    assert memory_from_status(recovering).recovering_since == moment


def test_the_registry_knows_which_plans_cover_a_service_through_edits_and_deletions() -> None:
    from sre_operator.registry import Registry
    from tests.handlers.test_release_gate import plan

    registry = Registry()
    first, copy = plan(), plan()
    copy["metadata"]["name"] = "copy"
    registry.observe(first)
    registry.observe(copy)
    assert registry.plans_of_service("gated", "checkout") == ["checkout", "copy"]
    copy["spec"]["service"]["name"] = "other"
    registry.observe(copy)
    assert registry.plans_of_service("gated", "checkout") == ["checkout"]
    assert registry.plans_of_service("gated", "other") == ["copy"]
    copy["spec"]["slos"][0]["objective"] = 100  # invalid: the last valid version still counts
    registry.observe(copy)
    assert registry.plans_of_service("gated", "other") == ["copy"]
    registry.observe(first, deleted=True)
    assert registry.plans_of_service("gated", "checkout") == []


def test_the_registry_holds_no_managed_fields_nor_kopfs_copy_of_the_spec() -> None:
    """Each would double a plan's memory: the models keep only the metadata the operator reads."""
    from sre_operator.models import ServiceReliabilityPlan
    from sre_operator.registry import Registry
    from tests.handlers.test_release_gate import plan

    document = plan()
    document["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    document["metadata"]["annotations"] = {
        "reliability.dev/last-handled-configuration": json.dumps(document["spec"]),
        "reliability.dev/postmortem.availability": "https://docs.example/pm-1",
    }
    known = Registry().observe(document)
    assert known is not None and isinstance(known.model, ServiceReliabilityPlan)
    metadata = known.model.metadata
    assert metadata.model_extra == {}
    assert metadata.annotations == {"reliability.dev/postmortem.availability": "https://docs.example/pm-1"}
    assert known.annotations == metadata.annotations


def test_the_registry_keeps_each_status_as_stored_and_hands_out_copies() -> None:
    """Held as compact JSON (a fifth of its size as dicts): what a reader changes in its copy is not held, and
    a write assigned back is."""
    from sre_operator.registry import Registry
    from tests.handlers.test_release_gate import plan

    stored = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "message": "ok ✓"}]}
    known = Registry().observe({**plan(), "status": stored})
    assert known is not None and known.status == stored
    copy = known.status
    copy["conditions"][0]["status"] = "False"
    assert known.status == stored
    known.status = {**stored, "observedGeneration": 2}
    assert known.status["observedGeneration"] == 2
    assert known.stored["status"] == known.status


def test_every_status_write_is_checked_against_the_model_the_crd_schema_comes_from() -> None:
    from sre_operator.status import StatusShapeError, checked_status

    plan_delta = {
        "observedGeneration": 3,
        "capacityRisks": ["one"],
        "slos": {"kept": {"objective": 99.9}},
    }
    assert checked_status("ServiceReliabilityPlan", plan_delta) is plan_delta, "the write itself is unchanged"
    with pytest.raises(StatusShapeError, match="ServiceReliabilityPlan status"):
        checked_status("ServiceReliabilityPlan", {"capacityRisk": ["a typo of a writer"]})
    with pytest.raises(StatusShapeError):
        checked_status("ReleaseGate", {"allowed": "perhaps"})
    assert checked_status("Incident", {"state": "Resolved"}) == {"state": "Resolved"}


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ({"burnRates": {"1h": 3.5, "6h": 2.0}}, {"burnRates": {}}),  # an emptied map really empties
        (
            {"slos": {"gone": {"objective": 99}, "kept": {"objective": 99.9, "burnRates": {"1h": 1.0}}}},
            {"slos": {"kept": {"objective": 99.9, "burnRates": {"5m": 2.0}}}},
        ),
        ({"paused": ["a"], "state": "Frozen"}, {"paused": [], "state": "Open"}),
        ({}, {"reports": [{"name": "weekly"}], "slos": {"a": {"objective": 99.0}}}),
    ],
)
def test_the_merge_patch_written_makes_the_status_exactly_what_was_wanted(
    current: dict[str, Any], wanted: dict[str, Any]
) -> None:
    from sre_operator.mergepatch import merge_patch, patch_between

    patched = merge_patch(current, patch_between(current, wanted))
    assert {key: patched.get(key) for key in wanted} == wanted


def test_an_incident_status_is_checked_too() -> None:
    from sre_operator.status import checked_status

    status = {"state": "Open", "slos": ["availability"], "timeline": [{"at": "2026-12-01T00:00:00Z", "event": "x"}]}
    assert checked_status("Incident", status) is status


@pytest.mark.unit
@pytest.mark.parametrize(
    ("case", "before", "state", "override", "events"),
    [
        ("nothing changed", {"state": "Open"}, "Open", "", []),
        ("first decision", {}, "Open", "", ["Open"]),
        ("a freeze", {"state": "Open"}, "Frozen", "", ["Frozen"]),
        ("an override starts", {"state": "Frozen"}, "Frozen", "by alice until T: fix", ["override-started"]),
        ("it ends", {"state": "Frozen", "override": "by alice until T: fix"}, "Frozen", "", ["override-ended"]),
        (
            "one replaces another as the gate reopens",
            {"state": "Frozen", "override": "by alice until T: fix"},
            "Open",
            "by bob until T: more",
            ["override-ended", "override-started", "Open"],
        ),
    ],
)
def test_a_gate_history_keeps_each_change_of_state_and_override(
    case: str, before: dict[str, Any], state: str, override: str, events: list[str]
) -> None:
    from sre_operator.status import HISTORY_KEPT, gate_history

    older = [{"at": "2026-11-01T00:00:00Z", "event": "Evaluating", "message": "first"}]
    history = gate_history({**before, "history": older}, state, "why", override, "2026-12-02T10:00:00Z")
    assert [entry["event"] for entry in history] == [*events, "Evaluating"], case
    assert all(entry["at"] == "2026-12-02T10:00:00Z" for entry in history[: len(events)])
    long = [{"at": "t", "event": "Open", "message": ""}] * HISTORY_KEPT
    assert len(gate_history({"state": "Open", "history": long}, "Frozen", "why", "", "now")) == HISTORY_KEPT
