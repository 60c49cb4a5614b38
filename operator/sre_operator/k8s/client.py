"""The only module that talks to the Kubernetes API: get, list, server-side apply, delete, discovery."""

from __future__ import annotations

import builtins
import datetime
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import kubernetes
from kubernetes.client.exceptions import ApiException

from sre_operator.mergepatch import patch_between
from sre_operator.models import involved_object
from sre_operator.timestamps import rfc3339

logger = logging.getLogger(__name__)
FIELD_MANAGER = "sre-operator"
PLUGIN_FIELD_MANAGER = "kubectl-sre"
PARTIAL_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
REQUEST_TIMEOUT = (5.0, 30.0)
"""Seconds to connect and to read one answer: no call waits on a silent API server for longer."""
CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str

    @property
    def root(self) -> str:
        return "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """Objects of this kind in ``namespace``; without one, every namespace's (and where cluster-scoped
        kinds live)."""
        path = f"{self.root}/namespaces/{namespace}/{self.plural}" if namespace else f"{self.root}/{self.plural}"
        return f"{path}/{name}" if name else path

    def involved(self, metadata: Mapping[str, Any]) -> dict[str, str]:
        """The object with ``metadata`` as an Event's involvedObject."""
        return involved_object(
            self.api_version, self.kind, str(metadata["name"]), str(metadata["namespace"]), str(metadata.get("uid", ""))
        )


PROMETHEUS_RULE = Kind("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules")
ALERTMANAGER_CONFIG = Kind("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", "alertmanagerconfigs")
CONFIG_MAP = Kind("v1", "ConfigMap", "configmaps")
SECRET = Kind("v1", "Secret", "secrets")
CHILD_KINDS = (PROMETHEUS_RULE, CONFIG_MAP, ALERTMANAGER_CONFIG, SECRET)
PLAN = Kind("reliability.dev/v1alpha1", "ServiceReliabilityPlan", "servicereliabilityplans")
POLICY = Kind("reliability.dev/v1alpha1", "ErrorBudgetPolicy", "errorbudgetpolicies")
GATE = Kind("reliability.dev/v1alpha1", "ReleaseGate", "releasegates")
INCIDENT = Kind("reliability.dev/v1alpha1", "Incident", "incidents")
CLUSTER_PEERING = Kind("kopf.dev/v1", "ClusterKopfPeering", "clusterkopfpeerings")
NAMESPACED_PEERING = Kind("kopf.dev/v1", "KopfPeering", "kopfpeerings")
AUTOSCALER = Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
DISRUPTION_BUDGET = Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets")
REPLICA_SET = Kind("apps/v1", "ReplicaSet", "replicasets")
CONTROLLER_REVISION = Kind("apps/v1", "ControllerRevision", "controllerrevisions")
WORKLOADS = {
    ("apps", "Deployment"): Kind("apps/v1", "Deployment", "deployments"),
    ("apps", "StatefulSet"): Kind("apps/v1", "StatefulSet", "statefulsets"),
    ("apps", "DaemonSet"): Kind("apps/v1", "DaemonSet", "daemonsets"),
    ("argoproj.io", "Rollout"): Kind("argoproj.io/v1alpha1", "Rollout", "rollouts"),
}

# Every API call the operator makes (kopf's included), by resource; the Helm chart's RBAC grants exactly these.
PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): ("list", "watch"),  # kopf notices served resources
    # get: a watched child's repair reads its plan as stored now.
    ("reliability.dev", "servicereliabilityplans"): ("get", "list", "watch", "patch"),
    ("reliability.dev", "servicereliabilityplans/status"): ("patch",),
    ("reliability.dev", "errorbudgetpolicies"): ("list", "watch", "patch"),
    ("reliability.dev", "errorbudgetpolicies/status"): ("patch",),
    ("reliability.dev", "releasegates"): ("list", "watch"),  # decided by the evaluation loop, not by kopf
    ("reliability.dev", "releasegates/status"): ("patch",),
    # Pages become Incidents: looked up by plan and alert group, created, their status written.
    ("reliability.dev", "incidents"): ("list", "watch", "create"),
    ("reliability.dev", "incidents/status"): ("patch",),
    # Server-side apply of an object that does not exist yet is authorised as "create".
    ("monitoring.coreos.com", "prometheusrules"): ("get", "list", "watch", "create", "patch", "update", "delete"),
    ("", "configmaps"): ("get", "list", "watch", "create", "patch", "update", "delete"),
    ("monitoring.coreos.com", "alertmanagerconfigs"): ("get", "list", "watch", "create", "patch", "update", "delete"),
    # The raw Alertmanager configuration (it holds file paths, never a secret's value).
    ("", "secrets"): ("get", "list", "watch", "create", "patch", "update", "delete"),
    ("", "events"): ("create",),
    # Admission: a rollback is recognised by the templates of the workload's earlier revisions.
    ("apps", "replicasets"): ("list",),
    ("apps", "controllerrevisions"): ("list",),
    # enforcement.pauseRollouts: targets are found and paused, and resumed when the gate reopens.
    ("apps", "deployments"): ("list", "patch"),
    ("argoproj.io", "rollouts"): ("list", "patch"),
    # spec.capacity: workloads, their autoscalers and disruption budgets are checked (read only).
    ("apps", "statefulsets"): ("list",),
    ("apps", "daemonsets"): ("list",),
    ("autoscaling", "horizontalpodautoscalers"): ("list",),
    ("policy", "poddisruptionbudgets"): ("list",),
}


def kind_of(obj: dict[str, Any]) -> Kind:
    for kind in CHILD_KINDS:
        if (kind.api_version, kind.kind) == (obj["apiVersion"], obj["kind"]):
            return kind
    raise ValueError(f"the operator does not manage {obj['apiVersion']} {obj['kind']}")


def is_retryable(error: ApiException) -> bool:
    return error.status in (409, 429) or error.status >= 500


class Cluster:
    """A thin, synchronous client; handlers call it from kopf's worker threads."""

    def __init__(
        self,
        api: kubernetes.client.ApiClient,
        discovery_ttl: float = 60.0,
        timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> None:
        self.api = api
        self.timeout = timeout
        self._discovery_ttl = discovery_ttl
        self._discovered: dict[str, tuple[float, bool]] = {}
        # (kind, namespace, name) -> resourceVersion of the operator's last write: a watch event carrying
        # that version is the operator's own change, which needs no look. Written by handler threads and
        # read by watch threads: every access holds the lock, and deleted children are dropped.
        self._written: dict[tuple[str, str, str], str] = {}
        self._written_lock = threading.Lock()

    def _remember(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        key = (str(obj.get("kind")), str(meta.get("namespace")), str(meta.get("name")))
        with self._written_lock:
            self._written[key] = str(meta.get("resourceVersion", ""))
        return obj

    def wrote(self, kind: str, namespace: str, name: str, resource_version: str) -> bool:
        """Whether ``resource_version`` of that child is the operator's own last write."""
        with self._written_lock:
            return self._written.get((kind, namespace, name)) == resource_version

    def forget(self, kind: str, namespace: str, name: str) -> None:
        with self._written_lock:
            self._written.pop((kind, namespace, name), None)

    def remembered(self) -> int:
        with self._written_lock:
            return len(self._written)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Any:
        method, url, headers, body, post = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params={"Accept": accept, "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(
            method, url, header_params=headers, body=body, post_params=post, _request_timeout=self.timeout
        )
        cast(Any, response).read()  # untyped in the client
        text = response.data.decode("utf-8") if response.data else ""
        if not 200 <= response.status <= 299:
            try:
                ApiException.from_response(http_resp=response, body=text, data=None)
            except ApiException as error:
                error.reason = f"{error.reason} on {method} {path.split('?')[0]}"
                raise
        return json.loads(text) if text else None

    def has_api(self, group_version: str) -> bool:
        """Whether the cluster serves ``group_version`` (cached for a minute)."""
        now = time.monotonic()
        cached = self._discovered.get(group_version)
        if cached is not None and now - cached[0] < self._discovery_ttl:
            return cached[1]
        try:
            self._call("GET", f"/apis/{group_version}")
            found = True
        except ApiException as error:
            if error.status != 404:
                raise
            found = False
        self._discovered[group_version] = (now, found)
        return found

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, or None if there is none (cluster-scoped without a ``namespace``)."""
        try:
            found: dict[str, Any] = self._call("GET", kind.path(namespace, name))
            return found
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def peering(self, name: str, namespace: str | None) -> dict[str, Any]:
        """kopf's peering object ``name`` (cluster-wide without a ``namespace``), created empty when absent.

        kopf only touches a peering object that exists, and a replica with mandatory peering waits for it.
        Creating it here rather than in the chart spares Helm a hook that would need the peering CRDs mapped
        in the same release that creates them."""
        kind = NAMESPACED_PEERING if namespace else CLUSTER_PEERING
        found = self.get(kind, namespace, name)
        if found is not None:
            return found
        metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
        try:
            created = self.create(
                kind, namespace, {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata}
            )
        except ApiException as error:
            if error.status != 409:  # another replica created it first
                raise
            return self.peering(name, namespace)
        logger.info("created the peering object %s %s", kind.kind, f"{namespace}/{name}" if namespace else name)
        return created

    def list(self, kind: Kind, namespace: str, label_selector: str = "") -> list[dict[str, Any]]:
        try:
            query = [("labelSelector", label_selector)] if label_selector else []
            answer = self._call("GET", kind.path(namespace), query=query)
        except ApiException as error:
            if error.status == 404:
                return []
            raise
        items: list[dict[str, Any]] = answer.get("items", [])
        for item in items:
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    def patch(self, kind: Kind, namespace: str, name: str, patch: dict[str, Any], *, subresource: str = "") -> Any:
        """A JSON merge patch (of ``status`` with ``subresource="status"``)."""
        path = kind.path(namespace, name) + (f"/{subresource}" if subresource else "")
        return self._call(
            "PATCH",
            path,
            query=[("fieldManager", FIELD_MANAGER)],
            body=patch,
            content_type="application/merge-patch+json",
        )

    def json_patch(self, kind: Kind, namespace: str, name: str, operations: builtins.list[dict[str, Any]]) -> Any:
        """A JSON patch (RFC 6902): its ``test`` operations make it conditional."""
        return self._call(
            "PATCH",
            kind.path(namespace, name),
            query=[("fieldManager", PLUGIN_FIELD_MANAGER)],
            body=operations,
            content_type="application/json-patch+json",
        )

    def who_am_i(self) -> str:
        """The user name the API server knows this client's credentials by (a SelfSubjectReview)."""
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        answer = self._call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
        return str(((answer.get("status") or {}).get("userInfo") or {}).get("username") or "")

    def patch_status_guarded(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        stored: dict[str, Any],
        delta_of: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Write ``delta_of(status)`` to the status of the object ``stored`` (as last read), only if nobody
        wrote it since: a conflict reads the object again and asks ``delta_of`` again, so writers of the same
        field (a condition list, say) never undo each other. Returns the object as written, None when there
        was nothing to write or the object is gone."""
        current: dict[str, Any] | None = stored
        for _ in range(CONFLICT_RETRIES):
            if current is None or (current.get("metadata") or {}).get("deletionTimestamp"):
                return None
            status = dict(current.get("status") or {})
            delta = delta_of(status)
            if not delta:
                return None
            version = str((current.get("metadata") or {}).get("resourceVersion", ""))
            # Maps are merged by a merge patch: what the delta drops from one is sent as null.
            fields = patch_between(status, delta)
            patch = {"metadata": {"resourceVersion": version}, "status": fields} if version else {"status": fields}
            try:
                written: dict[str, Any] = self.patch(kind, namespace, name, patch, subresource="status")
                return written
            except ApiException as error:
                if error.status == 404:
                    return None
                if error.status != 409:
                    raise
            current = self.get(kind, namespace, name)
        raise ApiException(status=409, reason=f"status of {kind.kind} {namespace}/{name}: still conflicting")

    def list_keys(self, kind: Kind, namespaces: Sequence[str] = ()) -> builtins.list[tuple[str, str]]:
        """(namespace, name) of every object of ``kind`` (in ``namespaces``, or all), metadata only."""
        paths = [kind.path(n) for n in namespaces] if namespaces else [kind.path(None)]
        keys: builtins.list[tuple[str, str]] = []
        for path in paths:
            token = ""
            while True:
                query = [("limit", "500")] + ([("continue", token)] if token else [])
                answer = self._call("GET", path, query=query, accept=PARTIAL_METADATA)
                for item in answer.get("items") or []:
                    meta = item.get("metadata") or {}
                    keys.append((str(meta.get("namespace", "")), str(meta.get("name", ""))))
                token = str((answer.get("metadata") or {}).get("continue") or "")
                if not token:
                    break
        return keys

    def post_event(self, involved: dict[str, str], event_type: str, reason: str, message: str) -> None:
        """A core/v1 Event about ``involved`` (apiVersion, kind, name, namespace, uid)."""
        now = rfc3339(datetime.datetime.now(datetime.UTC))
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{involved['name']}.", "namespace": involved["namespace"]},
            "involvedObject": involved,
            "type": event_type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self._call("POST", f"/api/v1/namespaces/{involved['namespace']}/events", body=event)

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply as the operator's field manager, taking back fields someone else changed."""
        meta = obj["metadata"]
        applied: dict[str, Any] = self._call(
            "PATCH",
            kind_of(obj).path(meta["namespace"], meta["name"]),
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body=json.loads(json.dumps(obj)),
            content_type="application/apply-patch+yaml",
        )
        return self._remember(applied)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT the whole object (its resourceVersion guards against lost updates)."""
        meta = obj["metadata"]
        replaced: dict[str, Any] = self._call(
            "PUT", kind_of(obj).path(meta["namespace"], meta["name"]), query=[("fieldManager", FIELD_MANAGER)], body=obj
        )
        return self._remember(replaced)

    def create(self, kind: Kind, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        """POST a new object (cluster-scoped without a ``namespace``); 409 if one of that name exists."""
        created: dict[str, Any] = self._call(
            "POST", kind.path(namespace), query=[("fieldManager", FIELD_MANAGER)], body=obj
        )
        return created

    def list_all(self, kind: Kind, label_selector: str) -> tuple[builtins.list[dict[str, Any]], str]:
        """Every object of ``kind`` matching ``label_selector`` across namespaces, and the version to watch from."""
        items: builtins.list[dict[str, Any]] = []
        token, version = "", ""
        while True:
            query = [("labelSelector", label_selector), ("limit", "500")] + ([("continue", token)] if token else [])
            answer = self._call("GET", kind.path(None), query=query)
            for item in answer.get("items") or []:
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
                items.append(item)
            metadata = answer.get("metadata") or {}
            version = version or str(metadata.get("resourceVersion", ""))
            token = str(metadata.get("continue") or "")
            if not token:
                return items, version

    def resource_version(self, kind: Kind, label_selector: str) -> str:
        """The collection's current resourceVersion across namespaces, to watch from (one item is listed)."""
        answer = self._call("GET", kind.path(None), query=[("labelSelector", label_selector), ("limit", "1")])
        return str(answer["metadata"]["resourceVersion"])

    def watch(
        self, kind: Kind, label_selector: str, resource_version: str, timeout_seconds: int, *, namespace: str = ""
    ) -> Iterator[dict[str, Any]]:
        """Watch events (``type``, ``object``) of ``kind`` in ``namespace`` (default: every namespace) until the
        server ends the watch. Without ``resource_version`` the server first sends every object as ADDED.

        An expired ``resource_version`` raises ``ApiException`` with status 410: list again.
        """
        query = [
            ("watch", "true"),
            ("labelSelector", label_selector),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        method, url, headers, body, post = self.api.param_serialize(
            method="GET",
            resource_path=kind.path(namespace),
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(
            method, url, header_params=headers, body=body, post_params=post, _request_timeout=(10, timeout_seconds + 30)
        )
        raw = cast(Any, response).response
        try:
            if not 200 <= raw.status <= 299:
                raise ApiException(status=raw.status, reason=f"{raw.reason} on watch {kind.path(namespace)}")
            for line in raw:
                if not line.strip():
                    continue
                event: dict[str, Any] = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise ApiException(status=int(status.get("code", 500)), reason=str(status.get("message", "")))
                event["object"].setdefault("apiVersion", kind.api_version)
                event["object"].setdefault("kind", kind.kind)
                yield event
        finally:
            raw.release_conn()

    def delete(self, kind: Kind, namespace: str, name: str) -> None:
        self.forget(kind.kind, namespace, name)
        try:
            self._call("DELETE", kind.path(namespace, name))
        except ApiException as error:
            if error.status != 404:
                raise


def client_configuration(kubeconfig: str | None = None, context: str | None = None) -> kubernetes.client.Configuration:
    """In-cluster credentials when running in a pod, else the kubeconfig: ``kubeconfig`` when given,
    else ``KUBECONFIG`` or ``~/.kube/config``. Loaded into a configuration of its own, never the client
    library's process-wide default, so operators in one process never see each other's credentials."""
    configuration = kubernetes.client.Configuration()
    try:
        if kubeconfig or context:
            raise kubernetes.config.ConfigException("kubeconfig or context given")
        load_incluster: Any = kubernetes.config.load_incluster_config
        load_incluster(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        load_kubeconfig: Any = kubernetes.config.load_kube_config
        load_kubeconfig(config_file=kubeconfig, context=context, client_configuration=configuration)
    return configuration


def load_client(kubeconfig: str | None = None, context: str | None = None) -> kubernetes.client.ApiClient:
    """A client with :func:`client_configuration`'s credentials."""
    return kubernetes.client.ApiClient(client_configuration(kubeconfig, context))
