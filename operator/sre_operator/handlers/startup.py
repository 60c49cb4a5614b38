"""One startup handler sets every operator setting and starts what runs beside the handlers:
the HTTP server, the admission webhook, the budget evaluation loop, the admission recorder and the
watches of generated children."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kopf
from aiohttp import web

from sre_operator.budgets import PrometheusClient, PrometheusSettings, parse_header
from sre_operator.config import OperatorConfig
from sre_operator.generate.documents import runbooks
from sre_operator.generate.names import MANAGED_BY
from sre_operator.handlers.capacity import check_capacity_forever
from sre_operator.handlers.children import child_changed
from sre_operator.handlers.evaluation import admission_recorder, evaluate_forever, record_admissions
from sre_operator.handlers.incidents import receiver_queue, take_notifications
from sre_operator.handlers.reports import write_reports_forever
from sre_operator.handlers.state import CONFIG, GROUP, OperatorState, render_options, state_of
from sre_operator.http import (
    AlertmanagerReceiver,
    Health,
    ServingCertificate,
    default_hosts,
    http_app,
    self_signed_folder,
    serve,
    webhook_app,
)
from sre_operator.incidents import Notification
from sre_operator.k8s import Cluster, load_client
from sre_operator.k8s.client import CHILD_KINDS
from sre_operator.k8s.watch import WATCH_SECONDS, start_following
from sre_operator.k8s.workloads import earlier_templates

logger = logging.getLogger(__name__)
CERTIFICATE_CHECK_SECONDS = 30.0
MANAGED_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())


def _prometheus(config: OperatorConfig) -> PrometheusClient | None:
    if not config.prometheus_url:
        logger.warning("no --prometheus-url: budgets are unknown and gates follow their policy's onUnknown")
        return None
    headers = dict(parse_header(h) for h in config.prometheus_headers)
    return PrometheusClient(
        PrometheusSettings(
            config.prometheus_url,
            config.prometheus_bearer_token_file,
            config.prometheus_ca_file,
            headers,
            config.prometheus_timeout,
        )
    )


async def _watch_certificate(certificate: ServingCertificate) -> None:
    while True:
        await asyncio.sleep(CERTIFICATE_CHECK_SECONDS)
        try:
            if certificate.reload_if_changed():
                logger.info("webhook certificate reloaded from %s", certificate.cert)
        except (OSError, ValueError) as error:  # a half-written renewal: keep serving the old pair
            logger.warning("webhook certificate not reloaded: %s", error)


def runbook_source(state: OperatorState) -> Any:
    """Runbooks from the last valid version of each plan the operator knows, rendered once per generation."""
    rendered: dict[tuple[str, str, int], dict[str, str]] = {}

    def source(namespace: str, plan_name: str, slo: str) -> str | None:
        known = state.registry.get("ServiceReliabilityPlan", namespace, plan_name)
        plan = state.registry.plan(namespace, plan_name)
        if known is None or plan is None or slo not in {s.name for s in plan.spec.slos}:
            return None
        key = (namespace, plan_name, known.generation)
        if key not in rendered:
            if len(rendered) > 1000:
                rendered.clear()
            rendered[key] = runbooks(plan, render_options(state.config))
        return rendered[key][f"{slo}.md"]

    return source


def _token_reader(path: Path) -> Callable[[], str]:
    return lambda: path.read_text(encoding="utf-8").strip()


def _put(queue: asyncio.Queue[Notification]) -> Callable[[Notification], bool]:
    def put(notification: Notification) -> bool:
        try:
            queue.put_nowait(notification)
        except asyncio.QueueFull:
            return False
        return True

    return put


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.enabled = True
    settings.posting.level = logging.INFO
    settings.peering.standalone = not CONFIG.peering
    if CONFIG.peering:
        settings.peering.name = CONFIG.peering
        settings.peering.mandatory = True
    # Long watches: a quiet operator sends no request but a renewal per watch every half hour.
    settings.watching.server_timeout = WATCH_SECONDS
    # kopf restarts a watch that saw no event for this long (70 s by default): the CRD watch is that quiet.
    settings.watching.inactivity_timeout = WATCH_SECONDS + 60
    settings.networking.request_timeout = 60
    settings.execution.max_workers = 8
    # Read again at start: the timer interval was fixed at import, the rest may have been set since.
    config = OperatorConfig.from_environment()
    state = OperatorState(
        config=config,
        cluster=Cluster(load_client(config.kubeconfig or None)),
        health=Health(interval=config.evaluation_interval),
        prometheus=_prometheus(config),
    )
    memo.state = state
    wake = asyncio.Event()
    memo.wake = wake
    tasks = [
        asyncio.create_task(evaluate_forever(state, wake), name="budget-evaluation"),
        asyncio.create_task(check_capacity_forever(state), name="capacity-checks"),
        asyncio.create_task(write_reports_forever(state), name="reliability-reports"),
    ]
    receiver = None
    if config.alertmanager_token_file:
        notifications = receiver_queue()
        receiver = AlertmanagerReceiver(
            token=_token_reader(Path(config.alertmanager_token_file)), accept=_put(notifications)
        )
        tasks.append(asyncio.create_task(take_notifications(state, notifications), name="incidents"))
    app = http_app(state.book, state.metrics, state.health, runbook_source(state), receiver)
    runners: list[web.AppRunner] = [await serve(app, config.http_address)]
    if config.webhook_address:
        folder = Path(config.webhook_cert_dir) if config.webhook_cert_dir else self_signed_folder(default_hosts())
        if not config.webhook_cert_dir:
            logger.warning(
                "no --webhook-cert-dir: serving a self-signed certificate; give %s to "
                "'sre-operator webhook-config --ca-file'",
                folder / "tls.crt",
            )
        certificate = ServingCertificate.from_folder(folder)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10_000)
        webhook = webhook_app(
            state.book,
            state.metrics,
            lambda request: earlier_templates(state.cluster, request),
            admission_recorder(state, queue),
        )
        runners.append(await serve(webhook, config.webhook_address, ssl_context=certificate.context))
        tasks.append(asyncio.create_task(record_admissions(state, queue), name="admission-recorder"))
        tasks.append(asyncio.create_task(_watch_certificate(certificate), name="webhook-certificate"))
    memo.background = (runners, tasks)
    memo.stop_watching = await asyncio.to_thread(
        start_following,
        state.cluster,
        CHILD_KINDS,
        MANAGED_SELECTOR,
        lambda event, child: child_changed(state, event, child),
    )
    logger.info("serving HTTP on %s and the webhook on %s", config.http_address, config.webhook_address or "(off)")


@kopf.on.cleanup()
async def stop_background(memo: kopf.Memo, **_: Any) -> None:
    runners, tasks = getattr(memo, "background", ([], []))
    if hasattr(memo, "stop_watching"):
        memo.stop_watching.set()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for runner in runners:
        await runner.cleanup()
    state = state_of(memo) if hasattr(memo, "state") else None
    if state is not None and state.prometheus is not None:
        await state.prometheus.close()
