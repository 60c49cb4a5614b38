"""Multiwindow multi-burn-rate alert tiers as data (SRE Workbook, chapter 5).

Each tier fires when a share of the whole budget is spent within its long
window, confirmed by its short window. The burn-rate factor follows from the
SLO window, so a 7d or 28d SLO fires at the same share of budget as a 30d one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sre_operator.durations import seconds

Severity = Literal["critical", "warning"]
SHORTEST_WINDOW = "5m"


@dataclass(frozen=True)
class BurnTier:
    severity: Severity
    long: str
    short: str
    budget_spent: float

    def factor(self, slo_window: str) -> float:
        """Burn rate at which ``budget_spent`` of the budget goes within the long window."""
        return round(self.budget_spent * seconds(slo_window) / seconds(self.long), 6)


TIERS: tuple[BurnTier, ...] = (
    BurnTier("critical", long="1h", short="5m", budget_spent=0.02),
    BurnTier("critical", long="6h", short="30m", budget_spent=0.05),
    BurnTier("warning", long="1d", short="2h", budget_spent=0.10),
    BurnTier("warning", long="3d", short="6h", budget_spent=0.10),
)


def tiers_of(severity: Severity) -> tuple[BurnTier, ...]:
    return tuple(t for t in TIERS if t.severity == severity)


def alert_windows() -> list[str]:
    """Every window an alert tier reads, shortest first."""
    return sorted({w for t in TIERS for w in (t.long, t.short)}, key=seconds)
