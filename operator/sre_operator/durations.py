"""Prometheus durations (``5m``, ``1h30m``, ``30d``) as text and as seconds."""

from __future__ import annotations

import re

DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def is_duration(text: str) -> bool:
    return re.fullmatch(DURATION_PATTERN, text) is not None


def seconds(text: str) -> float:
    """Length of a Prometheus duration in seconds; ``ValueError`` if ``text`` is not one."""
    if not is_duration(text):
        raise ValueError(f"{text!r} is not a duration")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text))


def format_duration(total_seconds: float) -> str:
    """The shortest Prometheus duration for a number of seconds, to the millisecond (``86400`` -> ``1d``,
    ``89.999`` -> ``1m29s999ms``)."""
    remaining = round(total_seconds * 1000)
    if remaining <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = round(_UNIT_SECONDS[unit] * 1000)
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
