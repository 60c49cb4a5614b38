"""A real kind cluster (pytest-kind): the operator's image, the Helm chart as users install it, the reference
plans.

Run anywhere Docker runs:  .venv/bin/pytest e2e   (e2e/README.md)
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "sre-operator:dev"
CLUSTER = "sre-operator"
RELEASE = "sre-operator"
RELEASE_NAMESPACE = "sre-operator"
GATES_LABEL = "reliability.dev/release-gates"
"""The namespace label that sends a namespace's pod-template changes to the release-gate webhook."""
PAUSE_IMAGE = "sre-operator.local/k8s/pause:1"
"""Preloaded in the node (no registry is reached): the image of the test workloads."""
OTHER_IMAGE = "sre-operator.local/k8s/etcd:3.6.16-0"
"""Also preloaded: what a new release of a test workload changes its image to."""


def built_image() -> str:
    """``sre-operator:dev`` from the Dockerfile, built by ``scripts/image.sh`` (once per content; it starts a
    Docker engine, and makes a base image where the official one cannot be pulled)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "image.sh"), IMAGE], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"the image could not be built: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def image() -> str:
    return built_image()


@dataclass
class Cluster:
    """The kind cluster, with the commands a user has: kubectl, helm, docker."""

    kind: Any  # pytest_kind.KindCluster
    helm_path: Path

    @property
    def kubeconfig(self) -> Path:
        return Path(self.kind.kubeconfig_path)

    def run(
        self, program: str, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [program, "--kubeconfig", str(self.kubeconfig), *args]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=600)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command[:1] + list(args))} failed: {done.stderr.strip()}")
        return done

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.kind.kubectl_path), *args, stdin=stdin, check=check)

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.helm_path), *args, check=check)

    def get(self, *args: str) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.kubectl("get", *args, "-o", "json").stdout)
        return body

    def apply(self, *documents: dict[str, Any]) -> None:
        self.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(documents))

    def install(self, *settings: str, standby: bool = False) -> None:
        """The README's ``helm install`` (as an upgrade when the release exists), with the image built here and
        ``settings`` as ``--set`` pairs; waits for the Deployment to be rolled out. With a ``standby`` (peering)
        only the active replica is ever Ready, so neither ``helm --wait`` nor ``rollout status`` can finish:
        it waits for one Ready replica instead."""
        sets = [arg for setting in ("image.tag=dev", *settings) for arg in ("--set", setting)]
        wait = [] if standby else ["--wait", "--timeout", "4m"]
        # Helm never changes CRDs once created: before an upgrade they are applied as docs/install.md says (a
        # cluster kept from an earlier run may hold an older schema).
        self.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "charts" / "sre-operator" / "crds")
        )
        self.helm(
            "upgrade", "--install", RELEASE, str(ROOT / "charts" / "sre-operator"),
            "-n", RELEASE_NAMESPACE, "--create-namespace", *sets, *wait,
        )  # fmt: skip
        if not standby:
            self.kubectl("-n", RELEASE_NAMESPACE, "rollout", "status", f"deployment/{RELEASE}", "--timeout=180s")

    def uninstall(self) -> None:
        self.helm("uninstall", RELEASE, "-n", RELEASE_NAMESPACE, "--wait", check=False)

    def node_container(self) -> str:
        return f"{CLUSTER}-control-plane"


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
    """``check()``'s first truthy answer within ``timeout`` seconds; fails naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {answer!r})")


def cluster_up() -> tuple[Path, Path]:
    """The kind cluster of ``scripts/cluster.sh up`` (built offline and cached; a healthy one is reused), with
    ``sre-operator:dev`` loaded: its kubeconfig and the folder holding kind, helm and kubectl."""
    script = str(ROOT / "scripts" / "cluster.sh")
    up = subprocess.run(["bash", script, "up"], capture_output=True, text=True, check=False)
    if up.returncode != 0:
        pytest.fail(f"scripts/cluster.sh up failed: {up.stderr.strip().splitlines()[-1:]}")
    tools = subprocess.run(["bash", script, "tools"], capture_output=True, text=True, check=True)
    return Path(up.stdout.strip().splitlines()[-1]), Path(tools.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The cluster ``scripts/cluster.sh`` made, through pytest-kind, with the Prometheus Operator's and Argo
    Rollouts' CRDs a user's cluster would have. Its node is stopped after the run (``bash scripts/cluster.sh
    down`` removes it); the release and the tests' namespaces are removed."""
    from pytest_kind import KindCluster

    kubeconfig, tools = cluster_up()
    kind = KindCluster(CLUSTER, kubeconfig=kubeconfig, kind_path=tools / "kind", kubectl_path=tools / "kubectl")
    kind.create()  # finds the cluster by name and reuses it
    made = Cluster(kind, tools / "helm")
    from tests.support.controlplane import prometheus_operator_crds

    for path in [*(prometheus_operator_crds() or []), *sorted((ROOT / "tests" / "data" / "crds").glob("*.yaml"))]:
        made.kubectl("apply", "--server-side", "-f", str(path))
    made.uninstall()  # a release left by an interrupted run
    yield made
    made.uninstall()
    # An idle cluster still takes a share of the cores (etcd, the API server, the kubelet) from whatever runs
    # next; the next `scripts/cluster.sh up` makes it again from the cached node image (about 35 s).
    subprocess.run(["docker", "stop", made.node_container()], capture_output=True, check=False, timeout=120)


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, labelled for release gates; deleted afterwards."""
    name = "e2e-" + request.node.name.removeprefix("test_").replace("_", "-")[:40].rstrip("-")
    cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, f"{GATES_LABEL}=enabled")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test here is of the ``e2e`` tier (TESTING.md)."""
    item.add_marker(pytest.mark.e2e)
