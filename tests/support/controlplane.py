"""A real Kubernetes control plane for tests, as controller-runtime's envtest runs it.

etcd and kube-apiserver (and kube-controller-manager, for garbage collection)
run as child processes on free loopback ports, with a throwaway CA, RBAC
authorisation and service-account token signing. Every process is stopped by
PID, whatever the tests did.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.pki import CertificateAuthority, KeyPair, signing_key_pair

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.36.3"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
ALL_VERBS = ("get", "list", "watch", *WRITE_VERBS)
REQUIRED = ("kube-apiserver", "etcd", "kubectl")
HOW_TO_PROVIDE = (
    "no kube-apiserver/etcd/kubectl found: run 'bash scripts/control-plane-binaries.sh' (needs Go) "
    "or set KUBEBUILDER_ASSETS to a folder holding them"
)


def find_binaries() -> Path | None:
    """The first folder holding the control-plane binaries, as scripts/control-plane-binaries.sh lays them out."""
    cache = Path(
        os.environ.get("SRE_OPERATOR_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sre-operator"
    )
    candidates = [
        os.environ.get("SRE_OPERATOR_KUBE_ASSETS"),
        os.environ.get("KUBEBUILDER_ASSETS"),
        str(cache / f"kubernetes-v{KUBERNETES_VERSION}"),
    ]
    for candidate in candidates:
        if candidate and all(os.access(Path(candidate) / name, os.X_OK) for name in REQUIRED):
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ControlPlane:
    folder: Path
    binaries: Path
    ca: CertificateAuthority
    server: str
    admin: KeyPair
    kubeconfig: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    started_in: float = 0.0

    def start_process(self, name: str, command: list[str] | None = None) -> None:
        """Start ``name`` (again, with the command it last ran) and, for the API server, wait until it is ready."""
        self.commands[name] = command or self.commands[name]
        self.processes[name] = _start(name, self.commands[name], self.folder)
        if name == "kube-apiserver":
            _wait_ready(self)

    def stop_process(self, name: str) -> None:
        """Stop ``name`` as an outage would (its port closes; etcd keeps every object)."""
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def has_garbage_collector(self) -> bool:
        return "kube-controller-manager" in self.processes

    def kubectl(
        self, *args: str, kubeconfig: Path | None = None, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / "kubectl"), "--kubeconfig", str(kubeconfig or self.kubeconfig), *args]
        result = subprocess.run(command, capture_output=True, text=True, input=input, check=False, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def apply(self, documents: Sequence[dict[str, Any]] | str, *extra: str) -> subprocess.CompletedProcess[str]:
        text = documents if isinstance(documents, str) else yaml.safe_dump_all(documents)
        return self.kubectl("apply", "--server-side", "--field-manager=tests", "-f", "-", *extra, input=text)

    def service_account_kubeconfig(self, namespace: str, name: str) -> Path:
        """A kubeconfig holding a bound token of a ServiceAccount, so code runs with exactly its RBAC."""
        self.kubectl("create", "namespace", namespace)
        self.kubectl("-n", namespace, "create", "serviceaccount", name)
        token = self.kubectl("-n", namespace, "create", "token", name, "--duration=2h", check=True).stdout.strip()
        path = self.folder / f"kubeconfig-{namespace}-{name}"
        path.write_text(yaml.safe_dump(_kubeconfig(self.server, self.ca.pem, {"token": token})), encoding="utf-8")
        return path

    def user_kubeconfig(self, user: str, group: str = "system:masters") -> Path:
        """A kubeconfig for another identity (client certificate), so its requests can be told apart."""
        pair = self.ca.issue(f"user-{user}", user, organisation=group, client=True)
        path = self.folder / f"kubeconfig-{user}"
        path.write_text(
            yaml.safe_dump(
                _kubeconfig(
                    self.server, self.ca.pem, {"client-certificate": str(pair.cert), "client-key": str(pair.key)}
                )
            ),
            encoding="utf-8",
        )
        return path

    @property
    def audit_log(self) -> Path:
        return self.folder / "audit.log"

    def audit_mark(self) -> int:
        """A position in the audit log; ``writes_since`` reads what came after it."""
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def requests_since(self, mark: int, username: str | None = None) -> list[dict[str, Any]]:
        """Requests the API server answered since ``mark``, of one user or of all."""
        if not self.audit_log.exists():
            raise AssertionError(f"no audit log at {self.audit_log}: the API server was started without one")
        with self.audit_log.open("rb") as log:
            log.seek(mark)
            events = [json.loads(line) for line in log.read().decode().splitlines() if line.strip()]
        return [
            e
            for e in events
            if e.get("stage") in ("ResponseComplete", "ResponseStarted")
            and (username is None or e.get("user", {}).get("username") == username)
        ]

    def writes_since(self, mark: int, username: str | None = None) -> list[dict[str, Any]]:
        """Write requests (create, update, patch, delete) recorded since ``mark``."""
        return [e for e in self.requests_since(mark, username) if e["verb"] in WRITE_VERBS]

    def webhook_serving_pair(self, name: str) -> KeyPair:
        """A serving certificate for 127.0.0.1 that the API server trusts (caBundle: ``self.ca.pem``)."""
        return self.ca.issue(name, "127.0.0.1", hosts=("127.0.0.1", "localhost"))

    @property
    def ca_bundle(self) -> str:
        return base64.b64encode(self.ca.pem).decode()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _kubeconfig(server: str, ca_pem: bytes, user: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
            }
        ],
        "users": [{"name": "test", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }


def _start(name: str, command: list[str], log_folder: Path) -> subprocess.Popen[bytes]:
    log = (log_folder / f"{name}.log").open("ab")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(plane: ControlPlane, timeout: float = 90) -> None:
    context = ssl.create_default_context(cafile=str(plane.ca.cert_path))
    context.load_cert_chain(str(plane.admin.cert), str(plane.admin.key))
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for name, process in plane.processes.items():
            if process.poll() is not None:
                log = (plane.folder / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(f"{plane.server}/readyz", context=context, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError as error:
            last = str(error)
        time.sleep(0.25)
    raise RuntimeError(f"kube-apiserver not ready after {timeout}s: {last}")


def start_control_plane(
    folder: Path, binaries: Path, *, garbage_collector: bool = True, audited_verbs: tuple[str, ...] = ALL_VERBS
) -> ControlPlane:
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority(folder)
    serving = ca.issue(
        "apiserver", "kube-apiserver", hosts=("127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "10.0.0.1")
    )
    admin = ca.issue("admin", "admin", organisation="system:masters", client=True)
    signing = signing_key_pair(folder)
    etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            _kubeconfig(server, ca.pem, {"client-certificate": str(admin.cert), "client-key": str(admin.key)})
        ),
        encoding="utf-8",
    )
    plane = ControlPlane(folder, binaries, ca, server, admin, kubeconfig)
    admission_config = _webhook_client_certificate(folder, ca)
    audit_policy = folder / "audit-policy.yaml"
    audit_policy.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "audit.k8s.io/v1",
                "kind": "Policy",
                "omitStages": ["RequestReceived"],
                "rules": [
                    {"level": "Metadata", "verbs": list(audited_verbs)},
                    {"level": "None"},
                ],
            }
        ),
        encoding="utf-8",
    )
    try:
        plane.start_process(
            "etcd",
            [
                str(binaries / "etcd"),
                "--data-dir",
                str(folder / "etcd"),
                "--name",
                "test",
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"test=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        plane.start_process(
            "kube-apiserver",
            [
                str(binaries / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--cert-dir={folder / 'apiserver-certs'}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                f"--client-ca-file={ca.cert_path}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={signing.cert}",
                f"--service-account-signing-key-file={signing.key}",
                "--allow-privileged=true",
                "--disable-admission-plugins=ServiceAccount",
                "--enable-priority-and-fairness=false",
                f"--admission-control-config-file={admission_config}",
                f"--audit-policy-file={audit_policy}",
                f"--audit-log-path={plane.audit_log}",
                "--audit-log-mode=blocking",
                # Never rotate (the default rotates at 100 MB): marks are offsets into one file.
                "--audit-log-maxsize=1000000",
            ],
        )
        if garbage_collector and os.access(binaries / "kube-controller-manager", os.X_OK):
            plane.start_process(
                "kube-controller-manager",
                [
                    str(binaries / "kube-controller-manager"),
                    f"--kubeconfig={kubeconfig}",
                    "--controllers=garbagecollector,namespace,deployment",  # deployment: ReplicaSets, so rollbacks are real
                    "--leader-elect=false",
                    f"--cert-dir={folder / 'kcm-certs'}",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={free_port()}",
                ],
            )
        plane.started_in = time.monotonic() - started
        return plane
    except BaseException:
        plane.stop()
        raise


def _webhook_client_certificate(folder: Path, ca: CertificateAuthority) -> Path:
    """The API server's admission configuration: it presents a client certificate signed by the plane's CA to
    every webhook (as a cluster's administrator sets up for ``--webhook-client-ca``)."""
    pair = ca.issue("webhook-client", "kube-apiserver-webhook-client", client=True)
    credentials = folder / "webhook-client-kubeconfig.yaml"
    user = {"client-certificate": str(pair.cert), "client-key": str(pair.key)}
    credentials.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "users": [{"name": "*", "user": user}]}), "utf-8"
    )
    configuration = folder / "admission-configuration.yaml"
    plugin = {
        "name": "ValidatingAdmissionWebhook",
        "configuration": {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "WebhookAdmissionConfiguration",
            "kubeConfigFile": str(credentials),
        },
    }
    configuration.write_text(
        yaml.safe_dump(
            {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration", "plugins": [plugin]}
        ),
        "utf-8",
    )
    return configuration


class _CrdLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare ``=`` (an enum value in the Prometheus Operator's CRDs) as a special tag."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]

PROMETHEUS_OPERATOR_KINDS = ("prometheusrules", "alertmanagerconfigs")
HOW_TO_GET_PROMETHEUS_OPERATOR_CRDS = (
    "the Prometheus Operator's CRDs are not generated: run 'bash scripts/prometheus-operator-crds.sh' (needs Go)"
)


def read_crds(paths: Sequence[Path]) -> list[dict[str, Any]]:
    return [yaml.load(p.read_text(encoding="utf-8"), Loader=_CrdLoader) for p in paths]


def prometheus_operator_crds() -> list[Path] | None:
    """The Prometheus Operator's real PrometheusRule and AlertmanagerConfig CRDs, as
    scripts/prometheus-operator-crds.sh generates and caches them; None when they are not there."""
    cache = Path(
        os.environ.get("SRE_OPERATOR_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sre-operator"
    )
    folders = [
        os.environ.get("SRE_OPERATOR_PROMETHEUS_OPERATOR_CRDS"),
        *sorted(map(str, cache.glob("prometheus-operator-crds-v*"))),
    ]
    for folder in folders:
        if not folder:
            continue
        paths = [Path(folder) / f"monitoring.coreos.com_{kind}.yaml" for kind in PROMETHEUS_OPERATOR_KINDS]
        if all(p.is_file() for p in paths):
            return paths
    return None


def install_crds(plane: ControlPlane, crds: Sequence[dict[str, Any]]) -> None:
    """Apply CustomResourceDefinitions and wait until the API server serves them."""
    result = plane.apply(crds)
    if result.returncode != 0:
        raise RuntimeError(f"installing CRDs failed: {result.stderr}")
    names = [f"crd/{crd['metadata']['name']}" for crd in crds]
    # kubectl wait fails outright on a CRD whose status has no conditions yet (a busy API server): ask again.
    deadline = time.monotonic() + 60
    while True:
        waited = plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)
        if waited.returncode == 0:
            return
        if "accessor error" not in waited.stderr or time.monotonic() > deadline:
            raise AssertionError(f"CRDs not established: {waited.stderr}")
        time.sleep(0.5)
