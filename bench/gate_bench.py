"""Release gates under load: the gate API at a fixed request rate, the admission decision, and one evaluation
cycle over 1,000 SLOs read from a live Prometheus.

Run: .venv/bin/python bench/gate_bench.py [--rate 500] [--seconds 10] [--slos 1000]
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.

- gate API: the operator's HTTP server in a process of its own; a client process sends GET
  /v1/gates/{ns}/{name} at a fixed rate over loopback (open loop: a late answer does not slow the sender)
  and records each latency.
- admission: the webhook's decision for a frozen gate (a denial, the worst case with its rollback check)
  in process, and the same over HTTPS with the AdmissionReview wire format.
- evaluation: 1,000 SLOs' recorded series backfilled into a live Prometheus, then the operator's read
  (a constant three queries) and the decisions for 1,000 plans and 1,000 gates, without API writes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gates.test_admission import new_image  # noqa: E402
from tests.support.controlplane import free_port  # noqa: E402

from sre_operator.gates import GateView, judge  # noqa: E402
from sre_operator.gates.book import GateAnswer, GateBook  # noqa: E402
from sre_operator.models.gate import Target  # noqa: E402

REASON = "Frozen: availability has -12% of its 30d budget left (rule freeze); reopens above 0% held for 1h"


def frozen_book(gates: int = 50) -> GateBook:
    book = GateBook()
    for i in range(gates):
        name = "checkout" if i == 0 else f"gate-{i}"
        target = Target(kind="Deployment", name="checkout-api" if i == 0 else f"workload-{i}")
        view = GateView("shop", name, (target,), "Frozen", REASON, False, change_classes=("hotfix",))
        book.put(GateAnswer(view, "d-1", "2026-11-25T12:00:00Z", -0.12, {"1h": 3.5, "6h": 2.0}))
    return book


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency_summary(latencies: list[float]) -> dict[str, float]:
    """Count, median, 99th percentile and worst of request latencies, in milliseconds."""
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def _serve_http(port: int, ready: Any) -> None:
    from aiohttp import web

    from sre_operator.http import Health, Metrics, http_app

    async def main() -> None:
        runner = web.AppRunner(http_app(frozen_book(), Metrics(), Health()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _load(
    url: str, rate: float, seconds: float, context: ssl.SSLContext | None = None, body: Any = None
) -> list[float]:
    import aiohttp

    latencies: list[float] = []

    async def one(session: aiohttp.ClientSession) -> None:
        started = time.perf_counter()
        if body is None:
            async with session.get(url) as answer:
                await answer.read()
        else:
            async with session.post(url, json=body) as answer:
                await answer.read()
        assert answer.status == 200, answer.status
        latencies.append(time.perf_counter() - started)

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=64, ssl=context if context is not None else True)
        async with aiohttp.ClientSession(connector=connector) as session:
            await one(session)  # warm the connection pool
            latencies.clear()
            tasks = []
            start = time.perf_counter()
            for i in range(int(rate * seconds)):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(session)))
            await asyncio.gather(*tasks)

    asyncio.run(main())
    return latencies


def bench_gate_api(rate: float, seconds: float) -> dict[str, float]:
    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve_http, args=(port, ready), daemon=True)
    server.start()
    try:
        ready.wait(30)
        latencies = _load(f"http://127.0.0.1:{port}/v1/gates/shop/checkout", rate, seconds)
    finally:
        server.terminate()
    return latency_summary(latencies)


def bench_admission_decision(iterations: int = 20_000) -> dict[str, float]:
    gates = frozen_book().gates_in("shop")
    request = new_image()
    earlier = [{"metadata": {"labels": {"app": "checkout"}}, "spec": {"containers": [{"name": "api", "image": "x:0"}]}}]
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        verdict = judge(request, gates, lambda: earlier)
        times.append(time.perf_counter() - started)
        assert not verdict.allowed
    return {"p50_us": percentile(times, 0.5) * 1e6, "p99_us": percentile(times, 0.99) * 1e6}


def _serve_webhook(port: int, folder: str, ready: Any) -> None:
    from aiohttp import web

    from sre_operator.http import Metrics, ServingCertificate, webhook_app

    async def main() -> None:
        certificate = ServingCertificate.from_folder(Path(folder))
        app = webhook_app(frozen_book(), Metrics(), lambda request: [], lambda records, request: None)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=certificate.context).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def bench_webhook(rate: float, seconds: float) -> dict[str, float]:
    from sre_operator.http import self_signed_folder

    folder = self_signed_folder(["127.0.0.1"])
    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve_webhook, args=(port, str(folder), ready), daemon=True)
    server.start()
    try:
        ready.wait(30)
        context = ssl.create_default_context(cafile=str(folder / "tls.crt"))
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": new_image()}
        latencies = _load(f"https://127.0.0.1:{port}/validate/release-gate", rate, seconds, context, review)
    finally:
        server.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    return latency_summary(latencies)


def bench_evaluation(slos: int) -> dict[str, float]:
    """1,000 SLOs (one per plan, each with a gate) read from a live Prometheus and decided."""
    from tests.support.prometheus import LivePrometheus

    from sre_operator.budgets import PrometheusClient, PrometheusSettings
    from sre_operator.config import OperatorConfig
    from sre_operator.generate import names
    from sre_operator.handlers.evaluation import budget_source, decide_all, publish, read_budgets

    folder = Path(tempfile.mkdtemp(prefix="sre-operator-gate-bench-"))
    end = int(time.time()) // 60 * 60
    lines = []
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    for name, value_of in (
        (names.BUDGET_REMAINING, lambda i, w: 1 - (i % 200) / 100),
        (names.BURN_RATE, lambda i, w: (i % 200) / 100),
    ):
        lines.append(f"# TYPE {name.replace(':', '_')} gauge")
        for i in range(slos):
            for window in windows if name == names.BURN_RATE else ("30d",):
                labels = f'namespace="bench",service="service-{i}",slo="availability",window="{window}"'
                lines.extend(f"{name}{{{labels}}} {value_of(i, window)} {t}" for t in range(end - 1800, end + 1, 60))
    (folder / "recorded.om").write_text("\n".join(lines) + "\n# EOF\n")
    prometheus = LivePrometheus(
        shutil.which("prometheus") or "prometheus", shutil.which("promtool") or "promtool", folder
    )
    prometheus.data.mkdir()
    subprocess.run(
        [prometheus.promtool, "tsdb", "create-blocks-from", "openmetrics", str(folder / "recorded.om"), str(prometheus.data)],
        check=True, capture_output=True,
    )  # fmt: skip
    prometheus.start()
    try:
        state = _state_with(
            slos, PrometheusClient(PrometheusSettings(prometheus.url)), OperatorConfig(budget_stale_after=3600)
        )
        durations: list[float] = []
        queries = 0

        async def cycles() -> None:
            nonlocal queries
            for _ in range(5):
                started = time.perf_counter()
                before = state.metrics.queries._value.get()
                await read_budgets(state)
                outcome = decide_all(state.registry, budget_source(state), datetime.datetime.now(datetime.UTC))
                publish(state, outcome)
                durations.append(time.perf_counter() - started)
                queries = int(state.metrics.queries._value.get() - before)
                assert state.snapshot is not None and len(state.snapshot.readings) == slos, state.snapshot.error
                for known, delta in outcome.writes.statuses:  # as if written: the next cycle compares against it
                    known.status.update(delta)
            await state.prometheus.close()

        asyncio.run(cycles())
        decided = len(state.book)
        return {
            "slos": slos,
            "gates": decided,
            "queries": queries,
            "first_s": durations[0],
            "median_s": statistics.median(durations),
        }
    finally:
        prometheus.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _state_with(slos: int, client: Any, config: Any) -> Any:
    from sre_operator.handlers.state import OperatorState
    from sre_operator.k8s import Cluster

    state = OperatorState(config=config, cluster=Cluster(None), prometheus=client)  # type: ignore[arg-type]
    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "policy", "namespace": "bench", "uid": "p"},
        "spec": {"rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}]},
    }
    state.registry.observe(policy)
    for i in range(slos):
        plan = {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ServiceReliabilityPlan",
            "metadata": {"name": f"service-{i}", "namespace": "bench", "uid": f"plan-{i}"},
            "spec": {
                "service": {"name": f"service-{i}", "owner": {"team": "bench"}},
                "slos": [{"name": "availability", "objective": 99.9, "window": "30d",
                          "indicator": {"ratio": {"errors": "e_total", "total": "t_total"}}}],
                "release": {"policyRef": "policy"},
            },
        }  # fmt: skip
        gate = {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ReleaseGate",
            "metadata": {"name": f"service-{i}", "namespace": "bench", "uid": f"gate-{i}"},
            "spec": {"planRef": {"name": f"service-{i}"}, "targets": [{"kind": "Deployment", "name": f"service-{i}"}]},
        }
        state.registry.observe(plan)
        state.registry.observe(gate)
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--slos", type=int, default=1000)
    args = parser.parse_args()
    print("gate API GET:", {k: round(v, 2) for k, v in bench_gate_api(args.rate, args.seconds).items()})
    print("admission decision (in process):", {k: round(v, 1) for k, v in bench_admission_decision().items()})
    print("admission webhook (HTTPS):", {k: round(v, 2) for k, v in bench_webhook(args.rate, args.seconds).items()})
    print("evaluation cycle:", {k: round(v, 3) for k, v in bench_evaluation(args.slos).items()})


if __name__ == "__main__":
    main()
