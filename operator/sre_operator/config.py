"""Operator settings: command-line flags over environment variables over documented defaults.

Each flag ``--some-name`` has the variable ``SRE_OPERATOR_SOME_NAME``; the
command line sets the variables, and everything reads them from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import promql_parser

from sre_operator.generate.names import DEFAULT_RUNBOOK_BASE_URL

ENV_PREFIX = "SRE_OPERATOR_"


@dataclass(frozen=True)
class OperatorConfig:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means all namespaces."""
    drift_interval: float = 0.0
    """Seconds between checks that generated objects still match their plan."""
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    """Runbook server for plans without runbooks.baseURL."""
    peering: str = ""
    """kopf peering name for several replicas; empty runs one standalone replica."""
    kubeconfig: str = ""
    """Kubeconfig file; empty uses in-cluster credentials, then KUBECONFIG or ~/.kube/config."""
    prometheus_url: str = ""
    """Prometheus HTTP API; empty leaves budgets unknown (gates follow onUnknown)."""
    prometheus_bearer_token_file: str = ""
    prometheus_ca_file: str = ""
    prometheus_headers: tuple[str, ...] = ()
    """Extra request headers as NAME:VALUE, such as X-Scope-OrgID:tenant (Mimir, Cortex)."""
    prometheus_timeout: float = 10.0
    """Seconds one Prometheus query may take."""
    evaluation_interval: float = 30.0
    """Seconds between budget evaluations."""
    budget_stale_after: float = 300.0
    """A budget sample older than this many seconds is unknown (the SLO's rules stopped recording)."""
    http_address: str = "0.0.0.0:8080"
    """Health, metrics and the gate API."""
    webhook_address: str = "0.0.0.0:9443"
    """HTTPS admission webhook; empty turns it off."""
    webhook_cert_dir: str = ""
    """Folder with tls.crt and tls.key; empty makes a self-signed pair at start-up."""
    webhook_client_ca: str = ""
    """CA bundle the API server's client certificate must be signed by; empty lets any client call the webhook."""
    capacity_interval: float = 300.0
    """Seconds between checks of spec.capacity against the live workloads (plans that name workloads only)."""
    report_interval: float = 3600.0
    """Seconds between looks for reliability reports due (a period that ended); each is written once."""
    cadvisor_selector: str = 'job="kubelet", metrics_path="/metrics/cadvisor"'
    """Label matchers of the cAdvisor series the saturation rules read."""
    kube_state_metrics_selector: str = 'job="kube-state-metrics"'
    """Label matchers of the kube-state-metrics series the saturation rules read."""
    alertmanager_token_file: str = ""
    """Bearer token Alertmanager must send to the receiver; empty turns the receiver off."""
    alertmanager_receiver_url: str = "http://sre-operator.sre-operator.svc:8080/v1/alertmanager"
    """Where Alertmanager reaches the receiver: the generated routing sends pages there too."""
    alertmanager_token_secret: str = "sre-operator-alertmanager:token"
    """NAME:KEY of the Secret (in each plan's namespace, or mounted into Alertmanager) holding that token."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OperatorConfig:
        env = os.environ if environ is None else environ

        def get(name: str, default: object) -> str:
            return env.get(ENV_PREFIX + name, str(default))

        def seconds(name: str, default: float, *, zero_is_off: bool = False) -> float:
            text = get(name, default)
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not (value > 0 or (zero_is_off and value == 0)):
                flag = "--" + name.lower().replace("_", "-")
                wanted = "0 (off) or a positive number" if zero_is_off else "a positive number"
                raise ValueError(f"{flag} (env {ENV_PREFIX}{name}): {text!r} is not {wanted} of seconds")
            return value

        def matchers(name: str, default: str) -> str:
            text = get(name, default)
            try:
                parsed = promql_parser.parse(f"up{{{text}}}")
            except ValueError as error:
                flag = "--" + name.lower().replace("_", "-")
                raise ValueError(f"{flag} (env {ENV_PREFIX}{name}): {text!r} is not label matchers ({error})") from None
            if not isinstance(parsed, promql_parser.VectorSelector):
                raise ValueError(f"{ENV_PREFIX}{name}: {text!r} is not label matchers")
            return text

        def listed(name: str, separators: str) -> tuple[str, ...]:
            text = get(name, "")
            for separator in separators:
                text = text.replace(separator, "\n")
            return tuple(part.strip() for part in text.splitlines() if part.strip())

        return cls(
            namespaces=listed("NAMESPACES", ", "),
            drift_interval=seconds("DRIFT_INTERVAL", cls.drift_interval, zero_is_off=True),
            runbook_base_url=get("RUNBOOK_BASE_URL", cls.runbook_base_url),
            peering=get("PEERING", cls.peering),
            kubeconfig=get("KUBECONFIG", ""),
            prometheus_url=get("PROMETHEUS_URL", ""),
            prometheus_bearer_token_file=get("PROMETHEUS_BEARER_TOKEN_FILE", ""),
            prometheus_ca_file=get("PROMETHEUS_CA_FILE", ""),
            # Header values may hold commas: several headers are separated by newlines only.
            prometheus_headers=listed("PROMETHEUS_HEADER", ""),
            prometheus_timeout=seconds("PROMETHEUS_TIMEOUT", cls.prometheus_timeout),
            evaluation_interval=seconds("EVALUATION_INTERVAL", cls.evaluation_interval),
            budget_stale_after=seconds("BUDGET_STALE_AFTER", cls.budget_stale_after),
            http_address=get("HTTP_ADDRESS", cls.http_address),
            webhook_address=get("WEBHOOK_ADDRESS", cls.webhook_address),
            webhook_cert_dir=get("WEBHOOK_CERT_DIR", ""),
            webhook_client_ca=get("WEBHOOK_CLIENT_CA", ""),
            alertmanager_token_file=get("ALERTMANAGER_TOKEN_FILE", ""),
            capacity_interval=seconds("CAPACITY_INTERVAL", cls.capacity_interval),
            report_interval=seconds("REPORT_INTERVAL", cls.report_interval),
            cadvisor_selector=matchers("CADVISOR_SELECTOR", cls.cadvisor_selector),
            kube_state_metrics_selector=matchers("KUBE_STATE_METRICS_SELECTOR", cls.kube_state_metrics_selector),
            alertmanager_receiver_url=get("ALERTMANAGER_RECEIVER_URL", cls.alertmanager_receiver_url),
            alertmanager_token_secret=get("ALERTMANAGER_TOKEN_SECRET", cls.alertmanager_token_secret),
        )
