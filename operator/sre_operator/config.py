"""Operator settings: command-line flags over environment variables over documented defaults.

Each flag ``--some-name`` has the variable ``SRE_OPERATOR_SOME_NAME``; the
command line sets the variables, and everything reads them from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import promql_parser

from sre_operator.generate.names import DEFAULT_RUNBOOK_BASE_URL

ENV_PREFIX = "SRE_OPERATOR_"


SettingKind = Literal["text", "seconds", "seconds-or-off", "matchers", "list", "lines"]


@dataclass(frozen=True)
class Setting:
    """How one setting is given: its flag (``--some-name``, also the variable ``SRE_OPERATOR_SOME_NAME``), what
    it means, and how its text is read. The parser, the environment reader and docs/reference/settings.md all
    come from these, so none of them can disagree with another."""

    help: str
    kind: SettingKind = "text"
    flag: str = ""
    env: str = ""
    repeat: bool = False
    """Given as a repeated flag; the variable separates the values (commas for lists, newlines for lines)."""


def setting(default: Any, help: str, kind: SettingKind = "text", **extra: Any) -> Any:
    return field(default=default, metadata={"setting": Setting(help, kind, **extra)})


@dataclass(frozen=True)
class OperatorConfig:
    namespaces: tuple[str, ...] = setting(
        (), "watch this namespace (repeat for more; default: all namespaces)", "list", flag="--namespace", repeat=True
    )
    drift_interval: float = setting(
        0.0, "seconds between full re-checks of every plan's children, a slow safety net beside the watches (an hour or "
        "more: each check lists every child kind for every plan; 0: off)",
        "seconds-or-off",
    )  # fmt: skip
    runbook_base_url: str = setting(DEFAULT_RUNBOOK_BASE_URL, "runbook server for plans without runbooks.baseURL")
    peering: str = setting(
        "", "kopf peering name, for several replicas with one active (empty: one standalone replica)"
    )
    kubeconfig: str = setting("", "kubeconfig file (empty: in-cluster, then KUBECONFIG or ~/.kube/config)")
    prometheus_url: str = setting(
        "", "Prometheus HTTP API: Prometheus, Thanos Query or Mimir (empty: budgets unknown, gates follow onUnknown)"
    )
    prometheus_bearer_token_file: str = setting("", "bearer token sent to Prometheus, read again for every request")
    prometheus_ca_file: str = setting("", "CA bundle that signed Prometheus' certificate")
    prometheus_headers: tuple[str, ...] = setting(
        (), "extra request header NAME:VALUE, such as X-Scope-OrgID:tenant (repeat for more)", "lines",
        flag="--prometheus-header", env=ENV_PREFIX + "PROMETHEUS_HEADER", repeat=True,
    )  # fmt: skip
    prometheus_timeout: float = setting(10.0, "seconds one Prometheus query may take", "seconds")
    evaluation_interval: float = setting(30.0, "seconds between budget evaluations", "seconds")
    budget_stale_after: float = setting(
        300.0, "seconds after which a budget sample counts as unknown (the SLO's rules stopped recording)", "seconds"
    )
    http_address: str = setting(
        "0.0.0.0:8080",
        "health (/healthz, /readyz: the chart's probes), metrics, the gate API, runbooks, the receiver, the web view",
    )
    webhook_address: str = setting("0.0.0.0:9443", "HTTPS admission webhook (empty: off)")
    webhook_cert_dir: str = setting(
        "", "folder with tls.crt and tls.key, reloaded on change (empty: a self-signed pair)"
    )
    webhook_client_ca: str = setting(
        "", "CA file: the webhook takes only clients with a certificate it signed, such as the API server configured "
        "with a WebhookAdmissionConfiguration (empty: any client)",
    )  # fmt: skip
    capacity_interval: float = setting(
        300.0,
        "seconds between checks of spec.capacity against the live workloads (only plans that name workloads; each "
        "check costs one list per workload kind, of autoscalers and of disruption budgets)",
        "seconds",
    )
    report_interval: float = setting(
        3600.0,
        "seconds between looks for reliability reports due on reporting.cadence and slos[].calendar (each written "
        "once, to the ConfigMap <plan>-reports)",
        "seconds",
    )
    cadvisor_selector: str = setting(
        'job="kubelet", metrics_path="/metrics/cadvisor"', "label matchers of cAdvisor series for the saturation rules",
        "matchers",
    )  # fmt: skip
    kube_state_metrics_selector: str = setting(
        'job="kube-state-metrics"', "label matchers of kube-state-metrics series", "matchers"
    )
    alertmanager_token_file: str = setting(
        "", "bearer token Alertmanager must send to POST /v1/alertmanager (empty: the receiver is off)"
    )
    alertmanager_receiver_url: str = setting(
        "http://sre-operator.sre-operator.svc:8080/v1/alertmanager",
        "where Alertmanager reaches that receiver; the routing sends pages there too",
    )
    alertmanager_token_secret: str = setting(
        "sre-operator-alertmanager:token", "NAME:KEY of the Secret with that token, as the routing references it"
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OperatorConfig:
        """Every setting from its ``SRE_OPERATOR_*`` variable, or its default; one line naming the flag when a
        value cannot be read."""
        env = os.environ if environ is None else environ
        return cls(**{item.name: read(item, env) for item in settings()})


def settings() -> list[Any]:
    """The settings, in declaration order (dataclass fields with their ``Setting``)."""
    return [item for item in fields(OperatorConfig) if "setting" in item.metadata]


def spec_of(item: Any) -> Setting:
    found: Setting = item.metadata["setting"]
    return found


def flag_of(item: Any) -> str:
    return spec_of(item).flag or "--" + item.name.replace("_", "-")


def env_of(item: Any) -> str:
    return spec_of(item).env or ENV_PREFIX + item.name.upper()


def default_text(item: Any) -> str:
    """The default as the environment variable would hold it."""
    default = item.default
    if isinstance(default, tuple):
        return ("\n" if spec_of(item).kind == "lines" else ",").join(default)
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def read(item: Any, env: Mapping[str, str]) -> Any:
    text = env.get(env_of(item))
    kind = spec_of(item).kind
    if text is None:
        return item.default
    where = f"{flag_of(item)} (env {env_of(item)})"
    if kind in ("seconds", "seconds-or-off"):
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not (value > 0 or (kind == "seconds-or-off" and value == 0)):
            wanted = "0 (off) or a positive number" if kind == "seconds-or-off" else "a positive number"
            raise ValueError(f"{where}: {text!r} is not {wanted} of seconds")
        return value
    if kind == "matchers":
        try:
            parsed = promql_parser.parse(f"up{{{text}}}")
        except ValueError as error:
            raise ValueError(f"{where}: {text!r} is not label matchers ({error})") from None
        if not isinstance(parsed, promql_parser.VectorSelector):
            raise ValueError(f"{where}: {text!r} is not label matchers")
        return text
    if kind in ("list", "lines"):
        # Header values may hold commas: several headers are separated by newlines only.
        separators = "" if kind == "lines" else ", "
        for separator in separators:
            text = text.replace(separator, "\n")
        return tuple(part.strip() for part in text.splitlines() if part.strip())
    return text
