"""A real kind cluster (pytest-kind): built image, the Helm chart, the reference plans.

Run with Docker and kind installed:  .venv/bin/pytest e2e
Where Docker or kind is missing, every test here is skipped with the reason printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "sre-operator:dev"


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


def why_kind_cannot_start() -> str:
    docker = shutil.which("docker")
    if docker is None:
        return "e2e needs Docker: no 'docker' command on PATH"
    info = subprocess.run([docker, "info"], capture_output=True, text=True, check=False, timeout=60)
    if info.returncode != 0:
        detail = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"e2e needs a running Docker engine: 'docker info' failed ({detail})"
    if shutil.which("kind") is None and not os.environ.get("KIND_PATH"):
        return "e2e needs kind: install it (go install sigs.k8s.io/kind@latest) or set KIND_PATH"
    return ""


@pytest.fixture(scope="session")
def kind() -> Iterator[object]:
    reason = why_kind_cannot_start()
    if reason:
        pytest.skip(reason)
    from pytest_kind import KindCluster

    kind_path = Path(os.environ.get("KIND_PATH") or shutil.which("kind") or "kind")
    built_image()
    kubectl = shutil.which("kubectl")  # pytest-kind downloads one only where none is installed
    cluster = KindCluster("sre-operator-e2e", kind_path=kind_path, kubectl_path=Path(kubectl) if kubectl else None)
    cluster.create()
    try:
        cluster.load_docker_image(IMAGE)
        yield cluster
    finally:
        if not os.environ.get("KEEP_KIND_CLUSTER"):
            cluster.delete()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test here is of the ``e2e`` tier (TESTING.md)."""
    item.add_marker(pytest.mark.e2e)
