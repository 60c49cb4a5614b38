"""The operator on a control plane of its own, with a Frozen gate, as an attacker inside the cluster meets it:
no token, both ports reachable. Nothing sent stalls it, poisons its records, grows its memory or opens the
gate; every mistake is a 4xx in one JSON line and no traceback in its log."""

from __future__ import annotations

import copy
import gzip
import io
import json
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ROOT
from tests.handlers.test_replicas import a_new_image, frozen_gate
from tests.support.controlplane import (
    HOW_TO_PROVIDE,
    ControlPlane,
    find_binaries,
    install_crds,
    read_crds,
    start_control_plane,
)
from tests.support.operator import RunningOperator, addresses, operator_subprocess, wait_for

pytestmark = pytest.mark.controlplane
NAMESPACE = "peered"  # frozen_gate's
UNVERIFIED = ssl._create_unverified_context()
TOKEN = "alertmanager-token"


class Operator:
    def __init__(self, plane: ControlPlane, running: RunningOperator, pid: int, log: Path) -> None:
        self.plane, self.running, self.pid, self.log = plane, running, pid, log

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def gate(self) -> dict[str, Any]:
        found = self.plane.kubectl("-n", NAMESPACE, "get", "releasegate", "checkout", "-o", "json", check=True)
        return json.loads(found.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(HOW_TO_PROVIDE)
    folder = tmp_path_factory.mktemp("hostile")
    plane = start_control_plane(folder, binaries, garbage_collector=False)
    try:
        install_crds(
            plane, read_crds([*sorted((ROOT / "crds").glob("*.yaml")), *sorted((DATA / "crds").glob("*.yaml"))])
        )
        plane.kubectl("create", "namespace", NAMESPACE, check=True)
        assert plane.apply(frozen_gate()).returncode == 0
        (folder / "token").write_text(TOKEN)
        flags, running = addresses()
        log = folder / "operator.log"
        with operator_subprocess(
            plane.kubeconfig, log, *flags, "--alertmanager-token-file", str(folder / "token")
        ) as process:
            wait_for(lambda: http(running.http + "/readyz")[0] == 200, timeout=60, what="the operator ready")
            found = Operator(plane, running, process.pid, log)
            wait_for(lambda: found.gate().get("status", {}).get("state") == "Frozen", what="the gate Frozen")
            yield found
    finally:
        plane.stop()


def http(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, str]:
    message = urllib.request.Request(
        url, data=body, method=method or ("POST" if body is not None else "GET"), headers=headers or {}
    )
    context = UNVERIFIED if url.startswith("https") else None
    try:
        with urllib.request.urlopen(message, timeout=30, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except urllib.error.URLError as error:  # not listening (yet)
        return 0, str(error.reason)


def review(request: dict[str, Any]) -> bytes:
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}).encode()


def webhook(operator: Operator, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    return http(
        operator.running.webhook + "/validate/release-gate",
        body,
        {"Content-Type": "application/json", **(headers or {})},
    )


def decisions(operator: Operator) -> list[dict[str, str]]:
    return list(operator.gate().get("status", {}).get("lastDecisions") or [])


def test_gzip_bombs_leave_health_and_admission_fast(operator: Operator) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packer:
        zeros = bytes(1024 * 1024)
        for _ in range(1024):  # 1 GiB unpacked, about 1 MB packed
            packer.write(zeros)
    bomb, stop, refused = buffer.getvalue(), threading.Event(), []

    def throw(url: str) -> None:
        while not stop.is_set():
            status, _ = http(url, bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"})
            refused.append(status)

    throwers = [
        threading.Thread(target=throw, args=(operator.running.http + "/healthz",)),
        threading.Thread(target=throw, args=(operator.running.webhook + "/validate/release-gate",)),
    ]
    for thrower in throwers:
        thrower.start()
    slowest = 0.0
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert http(operator.running.http + "/healthz")[0] == 200
            status, text = webhook(operator, review(a_new_image()["request"]))
            assert status == 200 and json.loads(text)["response"]["allowed"] is False
            slowest = max(slowest, time.monotonic() - started)
    finally:
        stop.set()
        for thrower in throwers:
            thrower.join()
    assert refused and set(refused) == {415}
    assert slowest < 1.0, f"a health check and a review took {slowest:.2f} s under gzip bombs"


MALFORMED = {
    "no object": lambda r: r.pop("object"),
    "object and oldObject null": lambda r: r.update(object=None, oldObject=None),
    "no namespace": lambda r: r.pop("namespace"),
    "no kind": lambda r: r.pop("kind"),
    "kind as a string": lambda r: r.update(kind="Deployment"),
    "object as a list": lambda r: r.update(object=[]),
    "userInfo as a string": lambda r: r.update(userInfo="x"),
    "dryRun as a string": lambda r: r.update(dryRun="false"),
}


@pytest.mark.parametrize("mistake", sorted(MALFORMED))
def test_a_malformed_review_for_a_frozen_target_gets_no_verdict(operator: Operator, mistake: str) -> None:
    request = copy.deepcopy(a_new_image()["request"])
    MALFORMED[mistake](request)
    status, text = webhook(operator, review(request))
    assert status == 400, text
    assert "\n" not in text.strip() and "cannot judge" in json.loads(text)["error"]


def test_a_forged_review_does_not_stop_the_recording_of_later_denials(operator: Operator) -> None:
    forged = copy.deepcopy(a_new_image()["request"])
    forged["userInfo"] = "x"
    assert webhook(operator, review(forged))[0] == 400
    real = copy.deepcopy(a_new_image()["request"])
    real["userInfo"] = {"username": "recorded-after-forgery"}
    assert json.loads(webhook(operator, review(real))[1])["response"]["allowed"] is False
    wait_for(
        lambda: any(d.get("user") == "recorded-after-forgery" for d in decisions(operator)),
        what="the denial after the forged review in status.lastDecisions",
    )


def test_a_huge_user_name_is_not_stored_whole(operator: Operator) -> None:
    request = copy.deepcopy(a_new_image()["request"])
    request["userInfo"] = {"username": "m" * 1_000_000}
    assert json.loads(webhook(operator, review(request))[1])["response"]["allowed"] is False
    kept = wait_for(lambda: [d for d in decisions(operator) if d.get("user", "").startswith("mmm")], what="the denial")
    assert all(len(d["user"]) <= 256 for d in kept)  # type: ignore[attr-defined]
    assert len(json.dumps(operator.gate())) < 100_000


def test_forged_five_megabyte_reviews_are_not_kept(operator: Operator) -> None:
    def forged(i: int) -> bytes:
        request = copy.deepcopy(a_new_image()["request"])
        request["uid"] = f"forged-{i}"
        request["object"]["metadata"]["annotations"] = {"padding": "p" * (5 * 1024 * 1024)}
        return review(request)

    for i in range(3):  # the allocator's first growth is not a leak
        assert webhook(operator, forged(i))[0] == 200
    before = operator.rss_mib()
    for i in range(3, 23):
        status, text = webhook(operator, forged(i))
        assert status == 200 and json.loads(text)["response"]["allowed"] is False
    grown = operator.rss_mib() - before
    assert grown < 40, f"20 forged 5 MB reviews grew the operator by {grown:.0f} MiB"


def test_client_mistakes_get_a_4xx_in_one_line_and_no_traceback(operator: Operator) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    cases = [
        (
            "non-ASCII token",
            operator.running.http + "/v1/alertmanager",
            b"{}",
            {"Authorization": "Bearer s\xe9cret"},
            401,
        ),
        (
            "nesting (receiver)",
            operator.running.http + "/v1/alertmanager",
            deep,
            {"Authorization": f"Bearer {TOKEN}"},
            400,
        ),
        ("nesting (webhook)", operator.running.webhook + "/validate/release-gate", deep, {}, 400),
        (
            "unknown charset",
            operator.running.webhook + "/validate/release-gate",
            b"{}",
            {"Content-Type": "application/json; charset=x-unknown"},
            415,
        ),
        (
            "gzip that is not",
            operator.running.webhook + "/validate/release-gate",
            b"{}",
            {"Content-Encoding": "gzip"},
            415,
        ),
        (
            "gzip that is not (receiver)",
            operator.running.http + "/v1/alertmanager",
            b"{}",
            {"Content-Encoding": "gzip", "Authorization": f"Bearer {TOKEN}"},
            415,
        ),
    ]
    for what, url, body, headers, expected in cases:
        status, text = http(url, body, {"Content-Type": "application/json", **headers})
        assert status == expected, (what, text)
        assert "\n" not in text.strip() and "error" in json.loads(text), (what, text)
    assert "Traceback" not in operator.log.read_text(errors="replace")


FUZZ_CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
FUZZ_SEED, FUZZ_EXAMPLES = 1, 200


def fuzz(folder: Path, url: str, *extra: str) -> int:
    """schemathesis over every route ``url`` (an ``/openapi.json``) describes: the number of cases it made.
    Fails on any 5xx, any answer slower than 2 s, or any answer the document does not describe."""
    command = [
        str(Path(sys.executable).parent / "st"), "run", url, "--checks", FUZZ_CHECKS, "--seed", str(FUZZ_SEED),
        "--max-examples", str(FUZZ_EXAMPLES), "--max-response-time", "2", "--tls-verify", "false", *extra,
    ]  # fmt: skip
    # In a folder of its own: schemathesis keeps a cache of what it found where it runs.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=folder)
    assert result.returncode == 0, result.stdout[-6000:]
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated is not None, result.stdout[-2000:]
    return int(generated.group(1))


def test_every_route_fuzzed_from_the_published_description(operator: Operator, tmp_path: Path) -> None:
    """Both ports' /openapi.json, fuzzed with a fixed seed: no 5xx, no hang, no undescribed answer, and the
    operator's memory flat across thousands of generated requests."""
    before = operator.rss_mib()
    cases = fuzz(tmp_path, operator.running.http + "/openapi.json", "--header", f"Authorization: Bearer {TOKEN}")
    cases += fuzz(tmp_path, operator.running.webhook + "/openapi.json")
    grown = operator.rss_mib() - before
    print(f"fuzzed {cases} cases; RSS grew {grown:.1f} MiB")
    assert cases > 1000
    assert grown < 30, f"fuzzing grew the operator by {grown:.0f} MiB"
    assert "Traceback" not in operator.log.read_text(errors="replace")
