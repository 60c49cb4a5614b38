"""What handlers share: the settings read at start, the API client, and the operator's in-memory state
(kept in kopf's memo)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sre_operator.budgets import PrometheusClient, Snapshot
from sre_operator.config import OperatorConfig
from sre_operator.gates.book import GateBook
from sre_operator.generate.options import IncidentReceiver, RenderOptions
from sre_operator.http import Health, Metrics
from sre_operator.k8s import Cluster
from sre_operator.models.base import API_GROUP, API_VERSION, SecretKeyRef
from sre_operator.registry import Registry

CONFIG = OperatorConfig.from_environment()
GROUP, VERSION = API_GROUP, API_VERSION


@dataclass
class OperatorState:
    config: OperatorConfig
    cluster: Cluster
    registry: Registry = field(default_factory=Registry)
    book: GateBook = field(default_factory=GateBook)
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    prometheus: PrometheusClient | None = None
    snapshot: Snapshot | None = None


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """A kopf body as plain JSON data, for the models."""
    data: dict[str, Any] = json.loads(json.dumps(body, default=lambda value: dict(value)))
    return data


def state_of(memo: Any) -> OperatorState:
    state: OperatorState = memo.state
    return state


def render_options(config: OperatorConfig) -> RenderOptions:
    """What the generators take from the operator's settings."""
    receiver = None
    if config.alertmanager_token_file:
        name, _, key = config.alertmanager_token_secret.partition(":")
        receiver = IncidentReceiver(config.alertmanager_receiver_url, SecretKeyRef(name=name, key=key or "token"))
    return RenderOptions(
        runbook_base_url=config.runbook_base_url,
        incident_receiver=receiver,
        cadvisor_selector=config.cadvisor_selector,
        kube_state_selector=config.kube_state_metrics_selector,
    )
