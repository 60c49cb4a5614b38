"""Where the web view's objects come from: a protocol the operator's state implements."""

from __future__ import annotations

from typing import Protocol

from sre_operator.ui.pages import UiObjects


class UiSource(Protocol):
    def objects(self) -> UiObjects:
        """Every plan, gate and incident as held now (metadata, spec, status)."""

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        """The PromQL behind one SLO's numbers (empty when the plan is unknown)."""
