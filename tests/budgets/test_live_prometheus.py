"""Budgets read from a live Prometheus whose history was backfilled and whose recorded series come from the
generated rules: the whole chain from raw counters to the numbers the operator reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from sre_operator.budgets import PrometheusClient, PrometheusSettings
from tests.budgets.conftest import EXPECTED_REMAINING, NAMESPACE, TRAFFIC
from tests.support.prometheus import LivePrometheus


def snapshot(settings: PrometheusSettings) -> Any:
    async def read() -> Any:
        client = PrometheusClient(settings)
        try:
            return await client.snapshot()
        finally:
            await client.close()

    return asyncio.run(read())


def test_the_generated_rules_turn_30_days_of_counters_into_the_hand_computed_budgets(
    live_prometheus: LivePrometheus,
) -> None:
    for service, expected in EXPECTED_REMAINING.items():
        (sample,) = live_prometheus.query(
            f'slo:error_budget_remaining:ratio{{namespace="{NAMESPACE}",service="{service}",slo="availability"}}'
        )
        # 1 - error ratio / budget, by hand: healthy 1 - 0.0005/0.001, spent 1 - 0.002/0.001, ...
        assert float(sample["value"][1]) == pytest.approx(expected, abs=0.01), service


def test_one_snapshot_reads_every_slo_in_three_queries(live_prometheus: LivePrometheus) -> None:
    taken = snapshot(PrometheusSettings(live_prometheus.url))
    assert taken.error == "" and taken.queries == 3
    keys = {(NAMESPACE, service, "availability") for service in TRAFFIC}
    assert keys <= set(taken.readings)
    for service, expected in EXPECTED_REMAINING.items():
        reading = taken.readings[(NAMESPACE, service, "availability")]
        assert reading.remaining == pytest.approx(expected, abs=0.01)
        error_ratio = TRAFFIC[service].error_ratio
        for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
            assert reading.burn_rates[window] == pytest.approx(error_ratio / 0.001, rel=0.01), (service, window)
        assert time.time() - 60 <= (reading.sampled_at or 0) <= time.time()  # the last evaluation before now


@pytest.fixture()
def tenant_gateway(live_prometheus: LivePrometheus) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A gateway in front of the live Prometheus, as Mimir's or a Thanos proxy's: it records what it is sent
    and passes the query on."""
    seen: list[dict[str, str]] = []

    async def forward(request: web.Request) -> web.Response:
        import aiohttp

        seen.append(dict(request.headers))
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                live_prometheus.url + request.path.removeprefix("/prometheus"), data=await request.post()
            ) as answer,
        ):
            return web.Response(body=await answer.read(), status=answer.status, content_type="application/json")

    from tests.support.controlplane import free_port

    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/prometheus/api/v1/query", forward)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/prometheus", seen
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        time.sleep(0.1)


def test_tenant_headers_and_the_bearer_token_are_sent(
    tenant_gateway: tuple[str, list[dict[str, str]]], tmp_path: Any
) -> None:
    url, seen = tenant_gateway
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    taken = snapshot(PrometheusSettings(url, str(token), headers={"X-Scope-OrgID": "shop"}))
    assert taken.error == "" and len(taken.readings) >= 3
    assert len(seen) == 3
    assert all(h["X-Scope-OrgID"] == "shop" and h["Authorization"] == "Bearer s3cret" for h in seen)


def test_an_unreachable_prometheus_is_one_clear_line() -> None:
    from tests.support.controlplane import free_port

    taken = snapshot(PrometheusSettings(f"http://127.0.0.1:{free_port()}", timeout=2))
    port = taken.error.split(":")[2].split(" ")[0]
    assert taken.readings == {} and taken.error == f"cannot connect to http://127.0.0.1:{port} (connection refused)"


def test_kubectl_sre_budget_draws_the_history_prometheus_holds(live_prometheus: LivePrometheus) -> None:
    from sre_operator.kubectl.cli import _budget_history
    from sre_operator.kubectl.views import sparkline
    from tests.budgets.conftest import plan_document

    for service, expected in EXPECTED_REMAINING.items():
        history = _budget_history(live_prometheus.url, plan_document(service), ["availability"], span=1200)
        values = history["availability"]
        assert values, service  # the recorded budgets of the last 20 minutes, one point per minute
        assert all(v == pytest.approx(expected, abs=0.01) for v in values), (service, values)
        assert sparkline(values) == "▁" * len(values)  # a steady budget is a flat line
