"""What handlers share: the settings given at start, the API client, and the operator's in-memory state
(kept in kopf's memo: ``memo.config`` holds the settings, ``memo.state`` the rest)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sre_operator.budgets import PrometheusClient, Snapshot
from sre_operator.config import OperatorConfig
from sre_operator.gates.book import GateBook
from sre_operator.generate.options import IncidentReceiver, RenderOptions
from sre_operator.http import Health, Metrics
from sre_operator.k8s import Cluster
from sre_operator.models.base import API_GROUP, API_VERSION, SecretKeyRef
from sre_operator.registry import Registry
from sre_operator.runtime import Collector, Readiness, Supervisor

if TYPE_CHECKING:
    from sre_operator.handlers.evaluation import Outcome

GROUP, VERSION = API_GROUP, API_VERSION


@dataclass
class OperatorState:
    config: OperatorConfig
    cluster: Cluster
    registry: Registry = field(default_factory=Registry)
    book: GateBook = field(default_factory=GateBook)
    metrics: Metrics = field(default_factory=Metrics)
    supervisor: Supervisor = field(default_factory=Supervisor)
    readiness: Readiness = field(default_factory=Readiness)
    collector: Collector = field(default_factory=Collector)
    """The garbage collector's pauses around decision cycles; duties that may make cyclic garbage note it."""
    prometheus: PrometheusClient | None = None
    snapshot: Snapshot | None = None
    identity: str = ""
    """This replica's name in kopf's peering."""
    priority: int = 0
    """This replica's kopf peering priority: distinct per replica, so exactly one is active."""
    peering: str = ""
    """The peering's name; empty when this replica runs alone."""
    published: Outcome | None = None
    """The last decision cycle's outcome: what the metrics show of budgets and corrective actions."""
    cycles: int = 0
    """Decision cycles finished (readiness waits for one after the gates are loaded)."""
    loading: Any = None
    """Where loading the gates stands (``handlers.readiness``)."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a plan, policy or gate changes: the next decision cycle starts at once."""

    @property
    def health(self) -> Health:
        return Health(self.supervisor, self.readiness)


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """A kopf body as plain JSON data, for the models."""
    data: dict[str, Any] = json.loads(json.dumps(body, default=lambda value: dict(value)))
    return data


def config_of(memo: Any) -> OperatorConfig:
    """The settings the operator was started with (``sre-operator run`` puts them in the memo); read from the
    environment when kopf was started some other way (``kopf run -m sre_operator.handlers``)."""
    config = getattr(memo, "config", None)
    if not isinstance(config, OperatorConfig):
        config = OperatorConfig.from_environment()
        memo.config = config
    return config


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
