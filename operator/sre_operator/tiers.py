"""Multiwindow multi-burn-rate alert tiers as data (SRE Workbook, chapter 5), and the tile every window is
built from.

Each tier fires when a share of the whole budget is spent within its long
window, confirmed by its short window. The burn-rate factor follows from the
SLO window, so a 7d or 28d SLO fires at the same share of budget as a 30d one.

Every window is a whole number of tiles: the SLI's rate over one tile,
recorded once a tile (the rule group's interval is the tile), so consecutive
tiles never overlap and a window's sum counts each error exactly once. A tile
holds at least one scrape, so it follows the scrape interval; it divides every
window the SLO's tiers read and the hour the SLO window is summed by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sre_operator.durations import format_duration, seconds

Severity = Literal["critical", "warning"]
SHORTEST_WINDOW = "5m"
HOUR = "1h"
# Tiles a rule group may run at, shortest first: each divides the hour.
TILES = ("1m", "2m30s", "5m", "10m", "15m", "30m")
DEFAULT_SCRAPE_INTERVAL = "30s"
LOOKBACK_SECONDS = 300


@dataclass(frozen=True)
class BurnTier:
    severity: Severity
    long: str
    short: str
    budget_spent: float

    def factor(self, slo_window: str) -> float:
        """Burn rate at which ``budget_spent`` of the budget goes within the long window."""
        return round(self.budget_spent * seconds(slo_window) / seconds(self.long), 6)

    def detection_seconds(self, slo_window: str, error_ratio_over_budget: float) -> float | None:
        """The SRE Workbook's time to fire on a constant burn of ``error_ratio_over_budget`` starting after a
        clean history: the long window's share of errors reaches the factor (the short window is faster)."""
        factor = self.factor(slo_window)
        if error_ratio_over_budget <= factor:
            return None
        return factor / error_ratio_over_budget * seconds(self.long)


TIERS: tuple[BurnTier, ...] = (
    BurnTier("critical", long="1h", short="5m", budget_spent=0.02),
    BurnTier("critical", long="6h", short="30m", budget_spent=0.05),
    BurnTier("warning", long="1d", short="2h", budget_spent=0.10),
    BurnTier("warning", long="3d", short="6h", budget_spent=0.10),
)


def tiers_of(severity: Severity) -> tuple[BurnTier, ...]:
    return tuple(t for t in TIERS if t.severity == severity)


def alert_windows(tiers: Iterable[BurnTier] = TIERS) -> list[str]:
    """Every window the ``tiers`` read, shortest first."""
    return sorted({w for t in tiers for w in (t.long, t.short)}, key=seconds)


@dataclass(frozen=True)
class Tiling:
    """The tile of one SLO's rules, or why there is none."""

    tile: str | None
    scrape_seconds: float
    problem: str = ""

    @property
    def half(self) -> str:
        """Half a tile: where a range starts or ends so it never falls on a sample of the tiled series."""
        assert self.tile is not None
        return format_duration(seconds(self.tile) / 2)

    @property
    def tile_seconds(self) -> float:
        assert self.tile is not None
        return seconds(self.tile)

    def lookup(self, selector: str, *, offset: bool = False) -> str:
        """The latest sample of ``selector`` now (or a tile ago). Prometheus looks back 5 minutes for one;
        scrapes further apart than half that are looked for over two scrape intervals instead."""
        shift = f" offset {self.tile}" if offset else ""
        if self.scrape_seconds <= LOOKBACK_SECONDS / 2:
            return f"{selector}{shift}"
        return f"last_over_time({selector}[{format_duration(2 * self.scrape_seconds)}]{shift})"


def tiling(scrape_interval: str, tiers: Iterable[BurnTier]) -> Tiling:
    """The shortest tile that holds a scrape and divides the hour and every window ``tiers`` read."""
    windows = alert_windows(tiers)
    scrape = seconds(scrape_interval)
    for tile in TILES:
        size = seconds(tile)
        if size >= scrape and all(seconds(w) % size == 0 for w in windows):
            return Tiling(tile, scrape)
    unreadable = [w for w in windows if seconds(w) < scrape]
    if not unreadable:
        return Tiling(None, scrape, f"{scrape_interval} is too slow: windows need a sample at least every {TILES[-1]}")
    return Tiling(
        None,
        scrape,
        f"{scrape_interval} is too slow for the {', '.join(unreadable)} window(s) of the alert tiers: scrape at least"
        f" every {unreadable[0]} or turn off the tier that reads it (alerting.page or alerting.ticket)",
    )
