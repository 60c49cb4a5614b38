"""What handlers share: the settings read at start and the API client built once (kept in kopf's memo)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sre_operator.config import OperatorConfig
from sre_operator.k8s import Cluster
from sre_operator.models.base import API_GROUP, API_VERSION

CONFIG = OperatorConfig.from_environment()
GROUP, VERSION = API_GROUP, API_VERSION


@dataclass
class OperatorState:
    config: OperatorConfig
    cluster: Cluster


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """A kopf body as plain JSON data, for the models."""
    data: dict[str, Any] = json.loads(json.dumps(body, default=lambda value: dict(value)))
    return data


def state_of(memo: Any) -> OperatorState:
    state: OperatorState = memo.state
    return state
