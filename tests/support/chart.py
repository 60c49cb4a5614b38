"""The Helm chart rendered through Helm's own library, and the permissions its RBAC grants."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helm_python as helm
import yaml

from tests.conftest import ROOT

CHART = ROOT / "charts" / "sre-operator"


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name="sre-operator", namespace="sre-operator")
    return [
        doc for name, text in manifests.items() if name.endswith(".yaml") for doc in yaml.safe_load_all(text) if doc
    ]


def granted(documents: list[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    for document in documents:
        if document["kind"] in ("ClusterRole", "Role"):
            for rule in document["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        for verb in rule["verbs"]:
                            yield group, resource, verb
