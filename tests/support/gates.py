"""A release gate that is Frozen without any Prometheus: its policy blocks while budgets are unknown."""

from __future__ import annotations

from typing import Any


def blocking_gate(namespace: str, name: str, plan: str, target: str) -> list[dict[str, Any]]:
    """An ErrorBudgetPolicy with ``onUnknown: block`` and a ReleaseGate of ``plan`` over the Deployment
    ``target``, both called ``name``: with no budget known the gate is Frozen, a real freeze to enforce."""
    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
            "onUnknown": "block",
        },
    }
    gate = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "planRef": {"name": plan},
            "policyRef": {"name": name},
            "targets": [{"kind": "Deployment", "name": target}],
        },
    }
    return [policy, gate]
