"""Small edits of valid documents, for checking that the models and the CRDs judge them alike."""

from __future__ import annotations

import copy
from typing import Any

# Model messages for rules only CEL holds (jsonschema cannot run them) and rules only the operator holds.
CEL_ONLY = ("exactly one of",)
OPERATOR_ONLY = ("names no", "is not valid PromQL", "must be a series", "must contain $window")


def mutations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Small edits of a valid plan: each required field removed, each typed leaf given a wrong type."""
    out = []

    def walk(node: Any, path: list[str | int]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, i])
        if path and path[0] == "spec":
            for label, replacement in (("removed", None), ("wrong-type", {"unexpected": ["shape"]})):
                edited = copy.deepcopy(document)
                parent = edited
                for part in path[:-1]:
                    parent = parent[part]
                if replacement is None:
                    if isinstance(parent, list):
                        continue
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = replacement
                out.append((f"{label}:{'.'.join(map(str, path))}", edited))

    walk(document, [])
    return out
