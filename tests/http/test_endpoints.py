"""The HTTP gate API and the admission webhook as clients call them: real HTTP on loopback, cached answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sre_operator.gates import GateView
from sre_operator.gates.book import GateAnswer, GateBook
from sre_operator.http import Health, Metrics, http_app, webhook_app
from sre_operator.http.metrics import GateSample, state_families
from sre_operator.models.gate import Target
from sre_operator.runtime import Readiness, Supervisor
from tests.gates.test_admission import new_image, scaled

REASON = "Frozen: availability has -12% of its 30d budget left (rule freeze); reopens above 0% held for 1h"


def book(state: str = "Frozen", **changes: Any) -> GateBook:
    view = GateView(
        "shop", "checkout", (Target(kind="Deployment", name="checkout-api"),), state, REASON, state != "Frozen",
        change_classes=("hotfix",), **changes,
    )  # fmt: skip
    gates = GateBook()
    gates.put(GateAnswer(view, "d-1", "2026-11-25T12:00:00Z", -0.12, {"1h": 3.5}))
    return gates


def call(app: web.Application, test: Callable[[TestClient[Any, Any]], Awaitable[None]]) -> None:
    async def run() -> None:
        async with TestClient(TestServer(app)) as client:
            await test(client)

    asyncio.run(run())


def test_the_gate_api_answers_from_the_book() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/v1/gates/shop/checkout")
        assert answer.status == 200
        assert await answer.json() == {
            "namespace": "shop", "name": "checkout", "allowed": False, "state": "Frozen", "reason": REASON,
            "budgetRemaining": -0.12, "burnRates": {"1h": 3.5}, "decisionId": "d-1",
            "since": "2026-11-25T12:00:00Z", "dryRun": False,
        }  # fmt: skip
        assert (
            await client.post("/v1/flagger/shop/checkout", json={"name": "x", "phase": "Progressing"})
        ).status == 423
        assert (await client.post("/v1/flagger/shop/checkout", data=b"not json")).status == 423

    call(http_app(book(), Metrics(), Health()), check)


def test_an_open_gate_lets_flagger_go_on() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.post("/v1/flagger/shop/checkout")
        assert answer.status == 200 and (await answer.json())["allowed"] is True

    call(http_app(book("Open"), Metrics(), Health()), check)


def test_bad_requests_get_a_4xx_and_one_line_of_json() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        cases = [
            ("GET", "/v1/gates/shop/unknown", 404, "no ReleaseGate shop/unknown known to this operator"),
            ("GET", "/v1/gates/Shop/checkout", 400, "namespace 'Shop' is not a Kubernetes object name"),
            ("GET", "/v1/gates/shop/" + "a" * 300, 400, None),
            ("POST", "/v1/gates/shop/checkout", 405, "Method Not Allowed: POST /v1/gates/shop/checkout"),
            ("GET", "/v1/flagger/shop/checkout", 405, None),
            ("GET", "/nothing/here", 404, "Not Found: GET /nothing/here"),
        ]
        for method, path, status, message in cases:
            answer = await client.request(method, path)
            assert answer.status == status, (method, path)
            payload = await answer.json()
            assert list(payload) == ["error"] and "\n" not in payload["error"]
            if message:
                assert payload["error"] == message

    call(http_app(book(), Metrics(), Health()), check)


def test_health_and_metrics() -> None:
    metrics = Metrics()
    metrics.sources.append(lambda: state_families((), [GateSample("shop", "checkout", "Frozen", False)], (), (), True))

    async def check(client: TestClient[Any, Any]) -> None:
        assert (await client.get("/healthz")).status == 200
        answer = await client.get("/metrics")
        text = await answer.text()
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert 'sre_operator_gate_state{gate="checkout",namespace="shop",state="Frozen"} 1.0' in text
        assert 'sre_operator_gate_allowed{gate="checkout",namespace="shop"} 0.0' in text

    call(http_app(book(), metrics, Health()), check)


def test_a_failing_duty_fails_liveness_and_says_which() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        supervisor.periodic("capacity-checks", broken, 0.1)
        await asyncio.sleep(0.2)
        answer = await client.get("/healthz")
        body = await answer.json()
        assert answer.status == 503 and body["status"] == "failing"
        assert body["duties"] == {"capacity-checks": "down"}
        assert body["problems"] == ["capacity-checks is down: ConnectionRefusedError: API server unreachable"]
        await supervisor.stop()

    async def broken() -> None:
        raise ConnectionRefusedError("API server unreachable")

    supervisor = Supervisor()
    call(http_app(book(), Metrics(), Health(supervisor)), check)


def test_a_replica_that_is_not_ready_gives_no_gate_answer_and_no_admission_verdict() -> None:
    readiness = Readiness(leader=False, reason="standby: another replica is active")
    api = http_app(book("Open"), Metrics(), Health(readiness=readiness))
    webhook = webhook_app(book(), Metrics(), lambda request: [], lambda records, request: None, readiness.ready)

    async def check_api(client: TestClient[Any, Any]) -> None:
        ready = await client.get("/readyz")
        assert ready.status == 503 and (await ready.json())["message"] == "standby: another replica is active"
        for method, path in (("GET", "/v1/gates/shop/checkout"), ("POST", "/v1/flagger/shop/checkout")):
            answer = await client.request(method, path)
            assert answer.status == 503
            assert (await answer.json())["error"].startswith("this replica cannot answer for gates now: standby")
        assert (await client.get("/healthz")).status == 200, "a standby is alive: only not ready"

    async def check_webhook(client: TestClient[Any, Any]) -> None:
        answer = await client.post("/validate/release-gate", json=review(new_image()))
        assert answer.status == 503, "an error, so the webhook's failurePolicy decides; never allowed: true"
        assert "allowed" not in await answer.text()

    call(api, check_api)
    call(webhook, check_webhook)
    readiness.leader, readiness.loaded = True, True
    call(http_app(book("Open"), Metrics(), Health(readiness=readiness)), check_ready)


async def check_ready(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/readyz")).status == 200
    assert (await client.get("/v1/gates/shop/checkout")).status == 200


def review(request: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def test_the_webhook_speaks_admission_review_v1_and_records_only_real_requests() -> None:
    recorded: list[Any] = []
    metrics = Metrics()
    app = webhook_app(book(), metrics, lambda request: [], lambda records, request: recorded.append(records))

    async def check(client: TestClient[Any, Any]) -> None:
        denied = await (await client.post("/validate/release-gate", json=review(new_image()))).json()
        assert denied["apiVersion"] == "admission.k8s.io/v1" and denied["kind"] == "AdmissionReview"
        response = denied["response"]
        assert response["uid"] == new_image()["uid"] and response["allowed"] is False
        assert response["status"]["code"] == 403
        assert response["status"]["message"].startswith(f"release gate shop/checkout: {REASON}.")
        assert len(recorded) == 1

        dry = await (await client.post("/validate/release-gate", json=review({**new_image(), "dryRun": True}))).json()
        assert dry["response"]["allowed"] is False
        assert dry["response"]["status"] == response["status"]
        assert len(recorded) == 1, "a dry-run request records nothing"

        allowed = await (await client.post("/validate/release-gate", json=review(scaled()))).json()
        assert allowed["response"] == {"uid": scaled()["uid"], "allowed": True}
        other = {**new_image(), "namespace": "elsewhere"}
        assert (await (await client.post("/validate/release-gate", json=review(other))).json())["response"]["allowed"]

    call(app, check)
    counts = dict(metrics.admissions.items())
    assert counts[("shop", "checkout", "denied")] == 1
    assert counts[("shop", "checkout", "allowed")] == 1  # the scaling


def test_the_webhook_answers_garbage_with_a_400() -> None:
    app = webhook_app(book(), Metrics(), lambda request: [], lambda records, request: None)

    async def check(client: TestClient[Any, Any]) -> None:
        for body in (b"{not json", b'{"request": {}}', b"[]"):
            answer = await client.post("/validate/release-gate", data=body)
            assert answer.status == 400
            assert "AdmissionReview" in (await answer.json())["error"]

    call(app, check)
