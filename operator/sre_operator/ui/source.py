"""Where the web view's objects come from: a protocol the operator's state implements."""

from __future__ import annotations

from typing import Protocol

from sre_operator.kubectl.views import TierState
from sre_operator.ui.pages import UiObjects


class UiSource(Protocol):
    def objects(self) -> UiObjects:
        """Every plan, gate and incident as held now (metadata, spec, status)."""

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        """The PromQL behind one SLO's numbers (empty when the plan is unknown)."""

    def tiers(self, namespace: str, plan: str, slo: str, burn_rates: dict[str, float]) -> list[TierState]:
        """The SLO's burn-rate tiers with their thresholds and state (empty when the plan is unknown)."""

    async def budget_history(
        self, namespace: str, plan: str, slo: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """The remaining budget between ``start`` and ``end`` (unix seconds), from Prometheus; empty when
        there is none or Prometheus cannot say."""

    async def calendar_history(
        self, namespace: str, plan: str, slo: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """The budget left since ``start``, the calendar period's beginning, hour by hour."""
