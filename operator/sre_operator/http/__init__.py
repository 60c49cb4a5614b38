"""The operator's HTTP surfaces: health, metrics and the gate API; the admission webhook."""

from sre_operator.http.metrics import Metrics
from sre_operator.http.server import AlertmanagerReceiver, Health, http_app, serve, split_address
from sre_operator.http.webhook import (
    ServingCertificate,
    default_hosts,
    self_signed_folder,
    webhook_app,
)

__all__ = [
    "AlertmanagerReceiver",
    "Health",
    "Metrics",
    "ServingCertificate",
    "default_hosts",
    "http_app",
    "self_signed_folder",
    "serve",
    "split_address",
    "webhook_app",
]
