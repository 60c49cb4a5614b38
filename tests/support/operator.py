"""The operator running for tests: in-process (kopf in its own thread and event loop) or as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sre_operator.config import ENV_PREFIX, OperatorConfig
from tests.support.controlplane import (
    HOW_TO_PROVIDE,
    ControlPlane,
    find_binaries,
    free_port,
    install_crds,
    start_control_plane,
)

# Children are watched, so a deleted or edited one is repaired within seconds; no timer runs (the default).
REPAIR_SECONDS = 5.0
# Capacity checks list workloads on a timer; tests that do not look at them keep it out of their audit logs.
TEST_SETTINGS = {"CAPACITY_INTERVAL": "3600"}


@dataclass(frozen=True)
class RunningOperator:
    """Where a test operator serves: its HTTP server and its admission webhook (HTTPS)."""

    http: str
    webhook: str

    def get(self, path: str) -> tuple[int, Any]:
        """GET on the HTTP server: status and decoded JSON (or text)."""
        return request(self.http + path)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return request(self.http + path, "POST", body)


def request(url: str, method: str = "GET", body: Any = None, context: ssl.SSLContext | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    message = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(message, timeout=10, context=context) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def addresses(cert_dir: Path | None = None) -> tuple[list[str], RunningOperator]:
    """``run`` flags for free loopback ports (the webhook serving from ``cert_dir`` when given)."""
    http, webhook = free_port(), free_port()
    flags = ["--http-address", f"127.0.0.1:{http}", "--webhook-address", f"127.0.0.1:{webhook}"]
    if cert_dir is not None:
        flags += ["--webhook-cert-dir", str(cert_dir)]
    return flags, RunningOperator(f"http://127.0.0.1:{http}", f"https://127.0.0.1:{webhook}")


@contextmanager
def operator_in_process(
    kubeconfig: Path, *, cert_dir: Path | None = None, **settings: str
) -> Iterator[RunningOperator]:
    """kopf with the real handlers, in a thread; stopped (and its tasks cancelled) on exit.

    ``settings`` are operator settings by their variable's name without the prefix (PROMETHEUS_URL=...).
    """
    flags, running = addresses(cert_dir)
    if "HTTP_ADDRESS" in settings:  # a test that must know the address before the operator starts
        running = RunningOperator(f"http://{settings['HTTP_ADDRESS']}", running.webhook)
    given = {flags[i].removeprefix("--").upper().replace("-", "_"): flags[i + 1] for i in range(0, len(flags), 2)}
    values = {**TEST_SETTINGS, **given, **settings, "KUBECONFIG": str(kubeconfig)}
    # The settings travel in kopf's memo, as `sre-operator run` passes them; the credentials too (the
    # operator's login handler reads them there, not from the process's environment).
    config = OperatorConfig.from_environment({ENV_PREFIX + name: value for name, value in values.items()})
    import kopf

    import sre_operator.handlers  # noqa: F401 - registers the handlers
    from sre_operator.handlers.startup import kopf_arguments

    stop, ready = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(kopf.operator(**kopf_arguments(config), stop_flag=stop, ready_flag=ready))
        except BaseException as error:  # surfaced to the test below
            failure.append(error)

    thread = threading.Thread(target=serve, name="kopf", daemon=True)
    thread.start()
    try:
        if not ready.wait(60):
            raise RuntimeError(f"the operator did not start: {failure}")
        # Ready: it has loaded every gate and decided each one, so it answers admission and the gate API.
        wait_for(lambda: _ready(running.http), timeout=60, what="the operator to be ready (/readyz)")
        yield running
    finally:
        stop.set()
        thread.join(30)


def _ready(http: str) -> bool:
    try:
        return request(http + "/readyz")[0] == 200
    except OSError:
        return False


@contextmanager
def operator_subprocess(kubeconfig: Path, log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """``sre-operator run`` as its own process, with only the credentials in ``kubeconfig``."""
    env = {**{ENV_PREFIX + k: v for k, v in TEST_SETTINGS.items()}, **os.environ, "KUBECONFIG": str(kubeconfig)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sre_operator.cli",
                "run",
                "--kubeconfig",
                str(kubeconfig),
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
        flags, _ = addresses()
        with operator_subprocess(plane.kubeconfig, plane.folder / "operator.log", *flags):
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


def plan_condition(plane: Any, namespace: str, name: str, condition: str = "Ready") -> str:
    """The status (True, False, or empty) of one condition of a plan, as kubectl reads it."""
    jsonpath = f'{{.status.conditions[?(@.type=="{condition}")].status}}'
    result = plane.kubectl("-n", namespace, "get", "srp", name, "-o", f"jsonpath={jsonpath}")
    return str(result.stdout)


def post_to_receiver(running: RunningOperator, body: Any, token: str | None) -> tuple[int, Any]:
    """POST to the operator's Alertmanager receiver as Alertmanager does, with a bearer token (or none)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    message = urllib.request.Request(running.http + "/v1/alertmanager", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(message, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
