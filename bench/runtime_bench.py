"""The webhook while a 10,000-SLO decision cycle runs in the same process, and the memory 10,000 plans take.

Run: .venv/bin/python bench/runtime_bench.py [--slos 10000] [--rate 500] [--seconds 20]
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.

- webhook under a cycle: one process holds 10,000 plans (one SLO each) and 10,000 gates in its registry,
  plus a frozen gate in namespace ``shop``, serves the admission webhook over HTTPS and runs decision cycles
  back to back over every SLO, as the operator does (``decide_all`` in a worker thread, ``publish`` on the
  loop; no API writes). A client process sends AdmissionReviews for the frozen target at a fixed rate (open
  loop) and records each latency. ``--on-loop`` runs the cycle on the event loop instead, as before #15.
- memory: the same process's RSS once its registry holds the 10,000 plans and gates and a cycle has run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing
import resource
import shutil
import ssl
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gate_bench import _load, _state_with, latency_summary, percentile  # noqa: E402
from tests.gates.test_admission import new_image  # noqa: E402
from tests.support.controlplane import free_port  # noqa: E402

from sre_operator.budgets.readings import Reading, Snapshot  # noqa: E402
from sre_operator.config import OperatorConfig  # noqa: E402

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")


def snapshot(slos: int) -> Snapshot:
    """What the three budget queries return for every SLO: a budget spent by a varying share, every window."""
    now = time.time()
    readings = {
        ("bench", f"service-{i}", "availability"): Reading(
            1 - (i % 200) / 100, now - 30, {w: (i % 200) / 100 for w in WINDOWS}
        )
        for i in range(slos)
    }
    readings[("shop", "checkout", "availability")] = Reading(-0.5, now - 30, {w: 3.0 for w in WINDOWS})
    return Snapshot(now, readings, "", 3, now)


def frozen_checkout(state: Any) -> None:
    for document in (
        {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ErrorBudgetPolicy",
            "metadata": {"name": "policy", "namespace": "shop", "uid": "shop-policy"},
            "spec": {"rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}]},
        },
        {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ServiceReliabilityPlan",
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "shop-plan"},
            "spec": {
                "service": {"name": "checkout", "owner": {"team": "payments"}},
                "slos": [{"name": "availability", "objective": 99.9, "window": "30d",
                          "indicator": {"ratio": {"errors": "e_total", "total": "t_total"}}}],
                "release": {"policyRef": "policy"},
            },
        },
        {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "ReleaseGate",
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "shop-gate"},
            "spec": {"planRef": {"name": "checkout"}, "targets": [{"kind": "Deployment", "name": "checkout-api"}]},
        },
    ):  # fmt: skip
        state.registry.observe(document)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve(port: int, folder: str, slos: int, on_loop: bool, switch: float, ready: Any, report: Any) -> None:
    from aiohttp import web

    from sre_operator.handlers.evaluation import budget_source, decide_all, decide_and_prepare, dismantle, publish
    from sre_operator.http import Metrics, ServingCertificate, webhook_app

    async def main() -> None:
        if switch:
            sys.setswitchinterval(switch)
        import gc
        import os

        if os.environ.get("NOGC"):
            gc.disable()
        state = _state_with(slos, None, OperatorConfig(budget_stale_after=3600))
        frozen_checkout(state)
        state.snapshot = snapshot(slos)
        state.prometheus = object()  # budgets come from the snapshot above; nothing is queried
        loaded_mib = rss_mib()
        certificate = ServingCertificate.from_folder(Path(folder))
        app = webhook_app(state.book, Metrics(), lambda request: [], lambda records, request: None)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=certificate.context).start()
        durations: list[float] = []

        async def cycle() -> None:
            started = time.perf_counter()
            if on_loop:  # as before #15: on the event loop, the collector free to run at any time
                view, source, now = state.registry.copy(), budget_source(state), datetime.datetime.now(datetime.UTC)
                publish(state, decide_all(view, source, now))
            else:  # as the operator runs it (handlers.evaluation.evaluate_once)
                with state.collector.paused():
                    view, source, now = state.registry.copy(), budget_source(state), datetime.datetime.now(datetime.UTC)
                    outcome, pages = await asyncio.to_thread(decide_and_prepare, view, source, now)
                    await asyncio.to_thread(dismantle, publish(state, outcome, pages))
            durations.append(time.perf_counter() - started)

        await cycle()  # the first answers before any request: the gate is decided
        await cycle()  # steady state: the first quiet cycle collects the start's garbage and freezes the registry
        assert state.book.get("shop", "checkout") is not None
        lags: list[float] = []

        async def watch_loop() -> None:
            """How late the event loop wakes for a 1 ms sleep: a stall here delays every request."""
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - started - 0.001)

        watcher = asyncio.create_task(watch_loop())
        ready.set()
        stop = asyncio.get_running_loop().run_in_executor(None, report.wait)
        while not stop.done():
            await cycle()
            await asyncio.sleep(0)
        watcher.cancel()
        report.put({"cycles": len(durations), "cycle_s": sorted(durations)[len(durations) // 2],
                    "loop_lag_p99_ms": percentile(lags, 0.99) * 1000, "loop_lag_max_ms": max(lags) * 1000,
                    "rss_loaded_mib": loaded_mib, "rss_mib": rss_mib()})  # fmt: skip

    asyncio.run(main())


class _Report:
    """A stop signal to the server and its answer back."""

    def __init__(self) -> None:
        self.event = multiprocessing.Event()
        self.queue: Any = multiprocessing.Queue()

    def wait(self) -> None:
        self.event.wait()

    def put(self, value: Any) -> None:
        self.queue.put(value)


def bench_webhook_under_cycle(
    slos: int, rate: float, seconds: float, on_loop: bool, switch: float = 0.0
) -> dict[str, float]:
    from sre_operator.http import self_signed_folder

    folder = self_signed_folder(["127.0.0.1"])
    port = free_port()
    ready, report = multiprocessing.Event(), _Report()
    server = multiprocessing.Process(
        target=_serve, args=(port, str(folder), slos, on_loop, switch, ready, report), daemon=True
    )
    server.start()
    try:
        if not ready.wait(600):
            raise RuntimeError("the server did not start")
        context = ssl.create_default_context(cafile=str(folder / "tls.crt"))
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": new_image()}
        latencies = _load(f"https://127.0.0.1:{port}/validate/release-gate", rate, seconds, context, review)
        report.event.set()
        served = report.queue.get(timeout=120)
    finally:
        server.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    return {**latency_summary(latencies), **served}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--on-loop", action="store_true", help="run the cycle on the event loop (before #15)")
    parser.add_argument("--switch-interval", type=float, default=0.0, help="sys.setswitchinterval in the server")
    args = parser.parse_args()
    result = bench_webhook_under_cycle(args.slos, args.rate, args.seconds, args.on_loop, args.switch_interval)
    print("webhook under a decision cycle:", {k: round(v, 2) for k, v in result.items()})


if __name__ == "__main__":
    main()
