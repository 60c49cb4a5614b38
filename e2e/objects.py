"""The objects the e2e tests apply, as a team would write them."""

from __future__ import annotations

from typing import Any

import yaml

from e2e.conftest import PAUSE_IMAGE, ROOT

API = "reliability.dev/v1alpha1"


def example_plan(namespace: str) -> dict[str, Any]:
    """The complete example plan (checkout) in ``namespace``."""
    plan: dict[str, Any] = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text("utf-8"))
    plan["metadata"]["namespace"] = namespace
    return plan


def policy(namespace: str, on_unknown: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "checkout-budget", "namespace": namespace},
        "spec": {
            "rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
            "exceptions": {"changeClasses": ["rollback"]},
            # The default hysteresis holds a freeze for an hour after the budget recovers.
            "unfreeze": {"budgetRemainingAbove": 0, "holdFor": "1m"},
            "onUnknown": on_unknown,
        },
    }


def gate(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ReleaseGate",
        "metadata": {"name": "checkout", "namespace": namespace},
        "spec": {
            "planRef": {"name": "checkout"},
            "policyRef": {"name": "checkout-budget"},
            "slos": ["availability"],
            "targets": [{"kind": "Deployment", "name": "api"}],
        },
    }


def deployment(namespace: str, name: str = "api", image: str = PAUSE_IMAGE) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }
