"""Operator settings: command-line flags over environment variables over documented defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sre_operator.generate.names import DEFAULT_RUNBOOK_BASE_URL

ENV_PREFIX = "SRE_OPERATOR_"


@dataclass(frozen=True)
class OperatorConfig:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means all namespaces."""
    drift_interval: float = 60.0
    """Seconds between checks that generated objects still match their plan."""
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    """Runbook server for plans without runbooks.baseURL."""
    peering: str = ""
    """kopf peering name for several replicas; empty runs one standalone replica."""
    liveness: str = "http://0.0.0.0:8080/healthz"
    """Liveness endpoint served by kopf."""
    kubeconfig: str = ""
    """Kubeconfig file; empty uses in-cluster credentials, then KUBECONFIG or ~/.kube/config."""

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> OperatorConfig:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(ENV_PREFIX + name, default)

        namespaces = tuple(n for n in get("NAMESPACES", "").replace(",", " ").split() if n)
        return cls(
            namespaces=namespaces,
            drift_interval=float(get("DRIFT_INTERVAL", str(cls.drift_interval))),
            runbook_base_url=get("RUNBOOK_BASE_URL", cls.runbook_base_url),
            peering=get("PEERING", cls.peering),
            liveness=get("LIVENESS", cls.liveness),
            kubeconfig=get("KUBECONFIG", ""),
        )
