"""The Kubernetes I/O layer: the only place that calls the API."""

from sre_operator.k8s.children import ChildChanges, differs, sync_children
from sre_operator.k8s.client import PERMISSIONS, Cluster, client_configuration, load_client

__all__ = ["PERMISSIONS", "ChildChanges", "Cluster", "client_configuration", "differs", "load_client", "sync_children"]
