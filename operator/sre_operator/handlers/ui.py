"""The web view's source: the registry's objects as the API server holds them (metadata, spec, status)."""

from __future__ import annotations

from typing import Any

from sre_operator.handlers.state import OperatorState
from sre_operator.kubectl.views import TierState, explain, tier_states
from sre_operator.registry import Known
from sre_operator.ui import UiObjects

KINDS = ("ServiceReliabilityPlan", "ReleaseGate", "Incident")


def _document(known: Known) -> dict[str, Any]:
    spec = getattr(known.model, "spec", None)
    return {
        "metadata": {"namespace": known.namespace, "name": known.name},
        "spec": spec.model_dump(by_alias=True, mode="json", exclude_none=True) if spec is not None else {},
        "status": known.status,
    }


class RegistryView:
    """Reads the registry at request time: what is deleted is gone from the next page."""

    def __init__(self, state: OperatorState) -> None:
        self.state = state

    def objects(self) -> UiObjects:
        plans, gates, incidents = (
            [_document(known) for known in list(self.state.registry.objects[kind].values())] for kind in KINDS
        )
        return UiObjects(plans=plans, gates=gates, incidents=incidents)

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        model = self.state.registry.plan(namespace, plan)
        if model is None or all(s.name != slo for s in model.spec.slos):
            return []
        return explain(model, slo)

    def tiers(self, namespace: str, plan: str, slo: str, burn_rates: dict[str, float]) -> list[TierState]:
        model = self.state.registry.plan(namespace, plan)
        return [] if model is None else tier_states(model, slo, burn_rates)
