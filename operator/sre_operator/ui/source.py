"""Where the web view's objects come from: a protocol the operator's state implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sre_operator.kubectl.views import TierState
from sre_operator.ui.pages import Coverage, SloHistory, SloKey, UiObjects


class UiSource(Protocol):
    def objects(self) -> UiObjects:
        """Every plan, gate and incident as held now (metadata, spec, status)."""

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        """The PromQL behind one SLO's numbers (empty when the plan is unknown)."""

    def tiers(self, namespace: str, plan: str, slo: str, burn_rates: dict[str, float]) -> list[TierState]:
        """The SLO's burn-rate tiers with their thresholds and state (empty when the plan is unknown)."""

    async def history(self, namespace: str, plan: str, slo: str, now: float) -> SloHistory:
        """The SLO's budget over its window and since the calendar month began, and its SLI, from Prometheus;
        empty series when there is none or it cannot say."""

    async def coverage(self, objects: UiObjects) -> Mapping[SloKey, Coverage]:
        """How much of each SLO's window Prometheus holds (empty when it cannot say)."""
