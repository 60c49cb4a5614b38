"""Settings of the generators that come from the operator's configuration rather than from the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from sre_operator.generate import names
from sre_operator.models.base import SecretKeyRef

DEFAULT_INCIDENT_RECEIVER_URL = "http://sre-operator.sre-operator.svc:8080/v1/alertmanager"


@dataclass(frozen=True)
class IncidentReceiver:
    """Where the generated routing sends pages as well, so they become Incidents: the operator's receiver,
    with the bearer token read from ``token`` (a Secret in the plan's namespace for an AlertmanagerConfig,
    a file mounted from that Secret for the raw configuration)."""

    url: str = DEFAULT_INCIDENT_RECEIVER_URL
    token: SecretKeyRef = field(default_factory=lambda: SecretKeyRef(name="sre-operator-alertmanager", key="token"))


@dataclass(frozen=True)
class RenderOptions:
    runbook_base_url: str = names.DEFAULT_RUNBOOK_BASE_URL
    rule_interval: str = "1m"
    # Set when the operator's Alertmanager receiver is on (--alertmanager-token-file).
    incident_receiver: IncidentReceiver | None = None
    # Where the platform's cAdvisor and kube-state-metrics series come from (kube-prometheus' jobs by default).
    cadvisor_selector: str = 'job="kubelet", metrics_path="/metrics/cadvisor"'
    kube_state_selector: str = 'job="kube-state-metrics"'


DEFAULT_OPTIONS = RenderOptions()
