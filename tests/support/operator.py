"""The operator running for tests: in-process (kopf in its own thread and event loop) or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.controlplane import (
    HOW_TO_PROVIDE,
    ControlPlane,
    find_binaries,
    free_port,
    install_crds,
    start_control_plane,
)

# Handlers read their settings at import: a short drift interval keeps repair tests quick.
DRIFT_INTERVAL = 3.0
os.environ.setdefault("SRE_OPERATOR_DRIFT_INTERVAL", str(DRIFT_INTERVAL))


@contextmanager
def operator_in_process(kubeconfig: Path) -> Iterator[None]:
    """kopf with the real handlers, in a thread; stopped (and its tasks cancelled) on exit."""
    os.environ["KUBECONFIG"] = str(kubeconfig)
    os.environ["SRE_OPERATOR_KUBECONFIG"] = str(kubeconfig)
    import kopf

    import sre_operator.handlers  # noqa: F401 - registers the handlers

    stop, ready = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(kopf.operator(clusterwide=True, standalone=True, stop_flag=stop, ready_flag=ready))
        except BaseException as error:  # surfaced to the test below
            failure.append(error)

    thread = threading.Thread(target=serve, name="kopf", daemon=True)
    thread.start()
    if not ready.wait(60):
        stop.set()
        raise RuntimeError(f"the operator did not start: {failure}")
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


@contextmanager
def operator_subprocess(kubeconfig: Path, log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """``sre-operator run`` as its own process, with only the credentials in ``kubeconfig``."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sre_operator.cli",
                "run",
                "--kubeconfig",
                str(kubeconfig),
                "--drift-interval",
                str(DRIFT_INTERVAL),
                *extra,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def cluster_with_operator(folder: Path, crds: list[dict[str, Any]]) -> Iterator[ControlPlane]:
    """A control plane of its own with these CRDs and ``sre-operator run`` against it (log: operator.log)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(HOW_TO_PROVIDE)
    plane = start_control_plane(folder, binaries, garbage_collector=False)
    try:
        install_crds(plane, crds)
        with operator_subprocess(
            plane.kubeconfig, plane.folder / "operator.log", "--liveness", f"http://127.0.0.1:{free_port()}/healthz"
        ):
            yield plane
    finally:
        plane.stop()


def wait_for(condition: object, timeout: float = 30, interval: float = 0.25, what: str = "condition") -> object:
    """Poll ``condition()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = condition()  # type: ignore[operator]
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
