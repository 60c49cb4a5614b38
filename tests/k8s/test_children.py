"""When a child counts as drifted: values the operator set, items added or removed; not server defaults."""

from __future__ import annotations

import copy
from typing import Any

from sre_operator.generate.children import desired_children
from sre_operator.k8s.children import covers, differs
from tests.conftest import example_plans


def desired() -> dict[str, Any]:
    plan = next(p for p in example_plans() if p.metadata.name == "checkout")
    child = desired_children(plan)[0]
    child["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ServiceReliabilityPlan",
            "name": "checkout",
            "uid": "u-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    return child


def as_stored(child: dict[str, Any]) -> dict[str, Any]:
    """The child as the API server returns it: metadata it adds, defaults inside the spec."""
    stored = copy.deepcopy(child)
    stored["metadata"].update(uid="c-1", resourceVersion="42", generation=1, managedFields=[{"manager": "x"}])
    stored["metadata"]["labels"]["added-by-someone"] = "yes"
    stored["spec"]["groups"][0]["interval"] = "1m"  # a defaulted field
    return stored


def test_what_the_server_adds_is_not_drift() -> None:
    child = desired()
    assert not differs(as_stored(child), child)


def test_a_changed_value_is_drift() -> None:
    child = desired()
    stored = as_stored(child)
    stored["spec"]["groups"][0]["rules"][0]["expr"] = "vector(0)"
    assert differs(stored, child)


def test_an_added_or_removed_list_item_is_drift() -> None:
    child = desired()
    added = as_stored(child)
    added["spec"]["groups"].append({"name": "hijacked", "rules": []})
    removed = as_stored(child)
    removed["spec"]["groups"].pop()
    assert differs(added, child) and differs(removed, child)


def test_a_lost_owner_reference_or_label_is_drift() -> None:
    child = desired()
    orphaned = as_stored(child)
    orphaned["metadata"]["ownerReferences"] = []
    relabelled = as_stored(child)
    relabelled["metadata"]["labels"]["reliability.dev/plan"] = "other"
    assert differs(orphaned, child) and differs(relabelled, child)


def test_config_map_data_must_match_exactly() -> None:
    plan = next(p for p in example_plans() if p.metadata.name == "checkout")
    runbooks = desired_children(plan)[1]
    stored = copy.deepcopy(runbooks)
    stored["data"]["extra.md"] = "added by hand"
    assert differs(stored, runbooks)
    assert not differs(copy.deepcopy(runbooks), runbooks)


def test_covers_compares_numbers_by_value() -> None:
    assert covers({"a": 1.0, "b": [1, 2]}, {"a": 1, "b": [1, 2]})
    assert not covers({"a": [1, 2, 3]}, {"a": [1, 2]})
