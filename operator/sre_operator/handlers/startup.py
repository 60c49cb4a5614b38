"""One startup handler sets every operator setting and hands every background duty to the supervisor:
budget evaluation, readiness (peering and loading the gates), capacity checks, reports, admission
recording, incident intake, certificate reload and the watches of generated children; then it serves HTTP
and the admission webhook."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import kopf
from aiohttp import web

from sre_operator.budgets import PrometheusClient, PrometheusSettings, parse_header
from sre_operator.config import OperatorConfig
from sre_operator.generate.documents import runbooks
from sre_operator.generate.names import MANAGED_BY
from sre_operator.handlers.capacity import check_all
from sre_operator.handlers.children import child_changed, children_resynced
from sre_operator.handlers.evaluation import Admitted, admission_recorder, evaluate_once, record_admissions
from sre_operator.handlers.exposition import operator_metrics
from sre_operator.handlers.incidents import receiver_queue, take_notifications
from sre_operator.handlers.plans import enable_drift_repair, resume_plans
from sre_operator.handlers.readiness import readiness_cycle
from sre_operator.handlers.reports import write_reports
from sre_operator.handlers.state import GROUP, OperatorState, config_of, render_options, state_of
from sre_operator.handlers.ui import RegistryView
from sre_operator.http import (
    AlertmanagerReceiver,
    ServingCertificate,
    default_hosts,
    http_app,
    self_signed_folder,
    serve,
    webhook_app,
)
from sre_operator.incidents import Notification
from sre_operator.k8s import Cluster, client_configuration, load_client
from sre_operator.k8s.client import CHILD_KINDS, PLAN
from sre_operator.k8s.watch import WATCH_SECONDS, ChildWatch, in_daemon_thread
from sre_operator.k8s.workloads import earlier_templates
from sre_operator.runtime import Supervisor, seniority_priority

logger = logging.getLogger(__name__)
CERTIFICATE_CHECK_SECONDS = 30.0
READINESS_CHECK_SECONDS = 1.0
PEERING_LIFETIME_SECONDS = 15
"""A replica that stops touching the peering object is taken for dead this long after: a standby takes over
within it (kopf's default is 60 s)."""
LIST_PAGE_SIZE = 500
RESUME_CONCURRENCY = 8
"""Plans reconciled at once after a start: as many as the threads kopf's own handlers get."""
RESUME_RETRY_SECONDS = 15.0
OBJECT_WORKER_LIMIT = 100
OBJECT_WORKER_IDLE_SECONDS = 0.5
MANAGED_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())


def kopf_arguments(config: OperatorConfig) -> dict[str, Any]:
    """What ``kopf.run``/``kopf.operator`` take to run this operator with ``config``: its settings travel
    in the memo, and each replica gets a name and a priority of its own: the older the replica, the higher
    (:func:`seniority_priority`)."""
    if config.drift_interval > 0:
        enable_drift_repair()
    identity = os.environ.get("POD_NAME") or f"{socket.gethostname()}/{os.getpid()}"
    return {
        "clusterwide": not config.namespaces,
        "namespaces": list(config.namespaces),
        "standalone": not config.peering,
        "peering_name": config.peering or None,
        "priority": seniority_priority(time.time_ns() // 1_000_000, random.SystemRandom().randrange(1000)),
        "identity": identity,
        "memo": kopf.Memo(config=config, identity=identity),
    }


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


def _settings(settings: kopf.OperatorSettings, config: OperatorConfig) -> None:
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.enabled = True
    settings.posting.level = logging.INFO
    if config.peering:
        settings.peering.mandatory = True
        settings.peering.lifetime = PEERING_LIFETIME_SECONDS
    # Long watches: a quiet operator sends no request but a renewal per watch every half hour.
    settings.watching.server_timeout = WATCH_SECONDS
    # kopf restarts a watch that saw no event for this long (70 s by default): the CRD watch is that quiet.
    settings.watching.inactivity_timeout = WATCH_SECONDS + 60
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.execution.max_workers = 8
    # A flood of objects (a restart's listing, a mass apply): the listing comes in pages, and at most this
    # many per-object workers run at once. The limit bounds the work in flight, not the memory: kopf queues
    # the jobs past it without bound and keeps reading, so every waiting object's body is held until its
    # worker starts. Hence no resume handler for plans (``_plan_resume``): at a restart an unchanged plan's
    # worker only records it, and its body does not wait long.
    settings.watching.chunk_size = LIST_PAGE_SIZE
    settings.queueing.worker_limit = OBJECT_WORKER_LIMIT
    # A worker lingers this long for its object's next event; with a limit, lingering workers hold places
    # others wait for (kopf's 5 s held a 2,000-plan restart to 17 objects a second).
    settings.queueing.idle_timeout = OBJECT_WORKER_IDLE_SECONDS


def _plan_resume(state: OperatorState, memo: kopf.Memo) -> Callable[[], Awaitable[None]]:
    """Once per term as the active replica: every plan reconciled from a paged list (``resume_plans``), and
    those that failed again every ``RESUME_RETRY_SECONDS`` until none does."""
    remaining: list[tuple[str, str]] | None = None
    retry_at = 0.0

    async def cycle() -> None:
        nonlocal remaining, retry_at
        readiness = state.readiness
        if not readiness.leader:
            remaining = None
            return
        if readiness.plans_resumed or time.monotonic() < retry_at:
            return
        if remaining is None:
            remaining = await asyncio.to_thread(state.cluster.list_keys, PLAN, state.config.namespaces)
            logger.info("resuming %d plan(s)", len(remaining))
        failed = await resume_plans(memo, remaining, concurrency=RESUME_CONCURRENCY)
        if not readiness.leader:
            return
        if failed:
            (namespace, name), why = next(iter(failed.items()))
            logger.warning(
                "resuming plans: %d failed, tried again in %.0f s (%s/%s: %s)",
                len(failed), RESUME_RETRY_SECONDS, namespace, name, why,
            )  # fmt: skip
            remaining, retry_at = list(failed), time.monotonic() + RESUME_RETRY_SECONDS
            return
        readiness.plans_resumed, remaining = True, None
        logger.info("every plan resumed")

    return cycle


async def _child_watches(state: OperatorState, supervisor: Supervisor, stopped: threading.Event) -> None:
    """One supervised watch per child kind. Where each starts is taken now, before kopf's start-up reconcile
    of every plan, so whatever changes after that reconcile looked is seen."""

    def handle(event: str, child: dict[str, Any]) -> None:
        child_changed(state, event, child)

    def resync_of(kind: str) -> Callable[[list[dict[str, Any]]], None]:
        return lambda listed: children_resynced(state, kind, listed)

    watches = [
        ChildWatch(state.cluster, kind, MANAGED_SELECTOR, handle, stopped, resync=resync_of(kind.kind))
        for kind in CHILD_KINDS
    ]
    for watch in watches:
        await asyncio.to_thread(watch.start_here)
        name = f"watch-{watch.kind.plural}"
        supervisor.periodic(name, in_daemon_thread(watch.run_once, name), 0.0, up_while_running=True)


@kopf.on.login()
def login(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    """kopf's connection from the same credentials as the operator's own client (``--kubeconfig`` when
    given): kopf's built-in login reads only ``KUBECONFIG`` and sets the client library's process-wide
    default."""
    config = config_of(memo)
    try:
        configuration = client_configuration(config.kubeconfig or None)
    except Exception as error:  # the client library raises several kinds for a missing or broken file
        raise kopf.LoginError(f"no Kubernetes credentials: {error}") from error
    header = str(
        configuration.get_api_key_with_prefix("BearerToken")
        or configuration.get_api_key_with_prefix("authorization")
        or ""
    )
    scheme, _space, token = header.rpartition(" ")
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
        trust_env=settings.networking.trust_env,
    )


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config = config_of(memo)
    _settings(settings, config)
    supervisor = Supervisor()
    state = OperatorState(
        config=config,
        cluster=Cluster(load_client(config.kubeconfig or None)),
        prometheus=_prometheus(config),
        supervisor=supervisor,
        identity=str(getattr(memo, "identity", "")),
        priority=settings.peering.priority,
        peering=config.peering,
    )
    state.readiness.leader = not config.peering  # a peer waits for its turn; a lone replica leads
    memo.state = state
    memo.wake = state.wake
    state.metrics.sources.append(lambda: operator_metrics(state))

    async def evaluation_cycle() -> None:
        if state.readiness.leader:
            await evaluate_once(state)

    supervisor.periodic(
        "budget-evaluation",
        evaluation_cycle,
        config.evaluation_interval,
        wake=state.wake,
        stale_after=max(120.0, 5 * config.evaluation_interval),
    )
    supervisor.periodic("readiness", lambda: readiness_cycle(state), READINESS_CHECK_SECONDS)

    async def capacity_cycle() -> None:
        if state.readiness.leader:
            await asyncio.to_thread(check_all, state)

    supervisor.periodic("capacity-checks", capacity_cycle, config.capacity_interval)
    supervisor.periodic("plan-resume", _plan_resume(state, memo), READINESS_CHECK_SECONDS)

    async def reports_cycle() -> None:
        if state.readiness.leader:
            await write_reports(state)

    # The registry fills from the watches first: look once it has had time to, then on the interval.
    supervisor.periodic(
        "reliability-reports", reports_cycle, config.report_interval, initial_delay=min(60.0, config.report_interval)
    )
    receiver = None
    if config.alertmanager_token_file:
        notifications = receiver_queue()
        receiver = AlertmanagerReceiver(
            token=_token_reader(Path(config.alertmanager_token_file)), accept=_put(notifications)
        )
        supervisor.long_running("incident-intake", lambda: take_notifications(state, notifications))
    app = http_app(state.book, state.metrics, state.health, runbook_source(state), receiver, RegistryView(state))
    runners: list[web.AppRunner] = [await serve(app, config.http_address)]
    if config.webhook_address:
        folder = Path(config.webhook_cert_dir) if config.webhook_cert_dir else self_signed_folder(default_hosts())
        if not config.webhook_cert_dir:
            logger.warning(
                "no --webhook-cert-dir: serving a self-signed certificate; give %s to "
                "'sre-operator webhook-config --ca-file'",
                folder / "tls.crt",
            )
        client_ca = Path(config.webhook_client_ca) if config.webhook_client_ca else None
        certificate = ServingCertificate.from_folder(folder, client_ca)
        queue: asyncio.Queue[Admitted] = asyncio.Queue(maxsize=10_000)
        webhook = webhook_app(
            state.book,
            state.metrics,
            lambda request: earlier_templates(state.cluster, request),
            admission_recorder(queue),
            state.readiness.ready,
        )
        runners.append(await serve(webhook, config.webhook_address, ssl_context=certificate.context))
        supervisor.long_running("admission-recorder", lambda: record_admissions(state, queue))

        async def reload_certificate() -> None:
            if certificate.reload_if_changed():
                logger.info("webhook certificate reloaded from %s", certificate.cert)

        supervisor.periodic("webhook-certificate", reload_certificate, CERTIFICATE_CHECK_SECONDS)
    stopped = threading.Event()
    await _child_watches(state, supervisor, stopped)
    memo.background = (runners, stopped)
    logger.info("serving HTTP on %s and the webhook on %s", config.http_address, config.webhook_address or "(off)")


@kopf.on.cleanup()
async def stop_background(memo: kopf.Memo, **_: Any) -> None:
    runners, stopped = getattr(memo, "background", ([], threading.Event()))
    stopped.set()
    state = state_of(memo) if hasattr(memo, "state") else None
    if state is not None:
        await state.supervisor.stop()
    for runner in runners:
        await runner.cleanup()
    if state is not None and state.prometheus is not None:
        await state.prometheus.close()
