"""JSON merge patches (RFC 7386), as the API server applies them to a status: pure."""

from __future__ import annotations

from typing import Any


def patch_between(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that makes the fields named in ``wanted`` hold exactly their wanted values in
    ``current``: a merge patch keeps any map key it does not name, so a key ``wanted`` drops is sent as null
    (an SLO removed from ``slos``, a window gone from ``burnRates``)."""
    patch: dict[str, Any] = {}
    for key, value in wanted.items():
        old = current.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            patch[key] = {**{k: None for k in old if k not in value}, **patch_between(old, value)}
        else:
            patch[key] = value
    return patch


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``target`` with a JSON merge patch (RFC 7386) applied, as the API server applies one; a new dict."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged
