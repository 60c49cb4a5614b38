"""The operator's HTTP server on ``--http-address``: health, metrics, the gate API, the runbooks, the web view
and the Alertmanager receiver.

Every answer comes from memory (the gate book and the metrics registry): no
request waits on Prometheus or the API server, except the web view's SLO page,
whose two charts come from Prometheus range queries (cached a minute per SLO).
Pages are built and rendered in a worker thread, off the event loop that also
answers the gate API. Bad requests get a 4xx with a
one-line JSON error; nothing a client sends produces a 500.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, cast

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sre_operator.gates.book import GateBook
from sre_operator.generate.html import markdown_to_html
from sre_operator.http.intake import (
    HEADER_SECONDS,
    ClientErrorLog,
    ClientMistake,
    name_the_server,
    name_the_server_everywhere,
    read_json,
    refuse_encoded_bodies,
)
from sre_operator.http.metrics import Metrics
from sre_operator.http.openapi import http_document
from sre_operator.incidents import Notification, NotificationError, parse_notification
from sre_operator.runtime import Readiness, Supervisor
from sre_operator.ui import (
    UiObjects,
    UiSource,
    gate_list,
    incident_list,
    render,
    report_list,
    slo_detail,
    slo_list,
    window_of,
)

logger = logging.getLogger(__name__)
NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
LINGER_SECONDS = 2.0
"""How long the rest of a refused body is read and dropped before the connection is closed."""
RECEIVER_LIMIT = 1024 * 1024
"""Bytes of an Alertmanager notification: Alertmanager sends at most a few hundred alerts per group."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RunbookSource = Callable[[str, str, str], str | None]
"""(namespace, plan, slo) -> the SLO's runbook as Markdown, or None when there is no such plan or SLO."""
# The page is ours alone: no script runs, nothing loads from elsewhere, no one frames it.
RUNBOOK_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
# The web view: no script, its one stylesheet from here, forms and links to itself only.
UI_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
UI_CSS = (resources.files("sre_operator.ui") / "static" / "ui.css").read_bytes()


def _always_ready() -> Readiness:
    return Readiness(leader=True, loaded=True)


@dataclass(frozen=True)
class Health:
    """What ``/healthz`` (liveness: every duty up) and ``/readyz`` (this replica may answer admission) say."""

    supervisor: Supervisor = field(default_factory=Supervisor)
    readiness: Readiness = field(default_factory=_always_ready)

    def alive(self) -> tuple[bool, list[str]]:
        return self.supervisor.health()

    def ready(self) -> tuple[bool, str]:
        return self.readiness.ready()


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ClientMistake as mistake:
        return error(mistake.status, mistake.message)
    except web.HTTPException as problem:
        if problem.status < 400:
            raise
        kept = {name: problem.headers[name] for name in ("Allow",) if name in problem.headers}  # RFC 9110 for 405
        return error(problem.status, f"{problem.reason}: {request.method} {request.path[:200]}", kept)
    except Exception:  # a bug of ours: logged whole, answered in one line
        logger.exception("request %s %s failed", request.method, request.path)
        return error(500, "internal error; see the operator's log")


def object_names(request: web.Request, *parts: str) -> tuple[str, ...]:
    """The path's parts named ``parts``, each a Kubernetes object name; ``ClientMistake`` (400) otherwise."""
    for part in parts:
        value = request.match_info[part]
        if len(value) > 253 or not NAME_PATTERN.fullmatch(value):
            raise ClientMistake(400, f"{part} {value[:80]!r} is not a Kubernetes object name")
    return tuple(request.match_info[part] for part in parts)


@dataclass(frozen=True)
class AlertmanagerReceiver:
    """``POST /v1/alertmanager``: ``token`` reads the bearer token Alertmanager must send (read again for
    every request, so a rotated Secret takes effect); ``accept`` takes a parsed notification for background
    work and says whether there was room for it."""

    token: Callable[[], str]
    accept: Callable[[Notification], bool]


def _bearer_matches(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    # Bytes, not str: compare_digest refuses non-ASCII text, and a client chooses what its header holds.
    offered = credentials.strip().encode("utf-8", "surrogateescape")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(offered, token.encode("utf-8"))


def http_app(
    book: GateBook,
    metrics: Metrics,
    health: Health,
    runbook_source: RunbookSource = lambda *_: None,
    receiver: AlertmanagerReceiver | None = None,
    ui: UiSource | None = None,
) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        alive, problems = health.alive()
        duties = {d.name: "up" if d.up else "down" for d in health.supervisor.duties.values()}
        body = {"status": "ok" if alive else "failing", "problems": problems, "duties": duties}
        return web.json_response(body, status=200 if alive else 503)

    async def readyz(_: web.Request) -> web.Response:
        ready, message = health.ready()
        return web.json_response(
            {"status": "ready" if ready else "not ready", "message": message}, status=200 if ready else 503
        )

    async def metrics_page(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def lookup(request: web.Request) -> dict[str, Any] | web.Response:
        namespace, name = object_names(request, "namespace", "name")
        ready, why = health.ready()
        if not ready:  # a standby or a replica still loading knows no current answer: it gives none
            return error(503, f"this replica cannot answer for gates now: {why}")
        answer = book.get(namespace, name)
        if answer is None:
            return error(404, f"no ReleaseGate {namespace}/{name} known to this operator")
        return answer.as_json()

    async def gate(request: web.Request) -> web.Response:
        found = lookup(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found)

    async def flagger(request: web.Request) -> web.Response:
        found = lookup(request)
        if isinstance(found, web.Response):
            return found
        # Flagger's confirm-rollout: 200 lets the canary go on, anything else holds it.
        return web.json_response(found, status=200 if found["allowed"] else 423)

    async def runbook(request: web.Request) -> web.Response:
        namespace, plan, slo = object_names(request, "namespace", "plan", "slo")
        markdown = runbook_source(namespace, plan, slo)
        if markdown is None:
            return error(404, f"no runbook for SLO {slo} of plan {namespace}/{plan}")
        if "text/markdown" in request.headers.get("Accept", ""):
            return web.Response(text=markdown, content_type="text/markdown", headers=RUNBOOK_HEADERS)
        title = f"Runbook: {namespace}/{plan} SLO {slo}"
        return web.Response(text=markdown_to_html(markdown, title), content_type="text/html", headers=RUNBOOK_HEADERS)

    async def alertmanager(request: web.Request) -> web.Response:
        if receiver is None:
            return error(404, "the Alertmanager receiver is off: start the operator with --alertmanager-token-file")
        try:
            token = receiver.token()
        except OSError as problem:
            logger.error("cannot read the Alertmanager token file: %s", problem)
            return error(503, "the receiver cannot read its token file; see the operator's log")
        if not _bearer_matches(request, token):
            return web.json_response(
                {"error": "a bearer token is required (Authorization: Bearer ...)"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="sre-operator"'},
            )
        body = await read_json(request, RECEIVER_LIMIT)
        try:
            notification = parse_notification(body)
        except NotificationError as problem:
            return error(400, str(problem))
        if not receiver.accept(notification):
            return error(503, "too many notifications waiting; Alertmanager will retry")
        return web.json_response({"accepted": len(notification.alerts)})

    async def page(template: str, build: Callable[[], dict[str, Any] | None], root: str) -> web.Response:
        """The page, built and rendered in a worker thread: 1,000 SLOs take tens of milliseconds."""

        def rendered() -> str | None:
            context = build()
            return None if context is None else render(template, context, root=root)

        text = await asyncio.to_thread(rendered)
        if text is None:
            return error(404, "no such SLO known to this operator")
        return web.Response(text=text, content_type="text/html", headers=UI_HEADERS)

    async def ui_objects(*, coverage: bool = False) -> UiObjects | web.Response:
        if ui is None:
            return error(404, "the web view is off")
        ready, why = health.ready()
        if not ready:  # a standby or a replica still loading would show empty or stale pages
            return error(503, f"this replica cannot show the web view now: {why}")
        objects = await asyncio.to_thread(ui.objects)
        return dataclasses.replace(objects, coverage=await ui.coverage(objects)) if coverage else objects

    async def ui_slos(request: web.Request) -> web.Response:
        found = await ui_objects(coverage=True)
        if isinstance(found, web.Response):
            return found
        query = dict(request.query)
        return await page("slos.html", lambda: slo_list(found, query), "")

    async def ui_slo(request: web.Request) -> web.Response:
        namespace, plan, slo = object_names(request, "namespace", "plan", "slo")
        found = await ui_objects(coverage=True)
        if isinstance(found, web.Response):
            return found
        source = cast(UiSource, ui)  # ui_objects answered: the view is on
        if window_of(found, namespace, plan, slo) is None:
            return error(404, "no such SLO known to this operator")
        history = await source.history(namespace, plan, slo, time.time())
        return await page(
            "slo.html",
            lambda: slo_detail(
                found,
                namespace,
                plan,
                slo,
                source.explain(namespace, plan, slo),
                lambda rates: source.tiers(namespace, plan, slo, rates),
                history,
            ),
            "../../../",
        )

    def listing(template: str, build: Callable[[UiObjects], dict[str, Any]]) -> Handler:
        async def handle(_: web.Request) -> web.Response:
            found = await ui_objects()
            return found if isinstance(found, web.Response) else await page(template, lambda: build(found), "")

        return handle

    async def ui_root(_: web.Request) -> web.Response:
        raise web.HTTPFound("ui/")

    async def ui_css(_: web.Request) -> web.Response:
        return web.Response(body=UI_CSS, content_type="text/css", headers=UI_HEADERS)

    app = guarded_app(client_max_size=RECEIVER_LIMIT, description=http_document())
    app.router.add_get("/ui", ui_root)
    app.router.add_get("/ui/", ui_slos)
    app.router.add_get("/ui/gates", listing("gates.html", gate_list))
    app.router.add_get("/ui/incidents", listing("incidents.html", incident_list))
    app.router.add_get("/ui/reports", listing("reports.html", report_list))
    app.router.add_get("/ui/slos/{namespace}/{plan}/{slo}", ui_slo)
    app.router.add_get("/ui/static/ui.css", ui_css)
    app.router.add_post("/v1/alertmanager", alertmanager)
    app.router.add_get("/runbooks/{namespace}/{plan}/{slo}", runbook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/v1/gates/{namespace}/{name}", gate)
    app.router.add_post("/v1/flagger/{namespace}/{name}", flagger)
    return app


def guarded_app(client_max_size: int, description: dict[str, Any]) -> web.Application:
    """An application whose every route answers mistakes in one JSON line and reads no compressed body, and
    that serves its OpenAPI ``description`` at ``/openapi.json``."""
    app = web.Application(middlewares=[json_errors, refuse_encoded_bodies], client_max_size=client_max_size)
    app.on_response_prepare.append(name_the_server)

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(description)

    app.router.add_get("/openapi.json", openapi)
    return app


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) into its parts; ValueError when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


async def serve(
    app: web.Application, address: str, header_seconds: float = HEADER_SECONDS, **site_options: Any
) -> web.AppRunner:
    """Start ``app`` on ``address``; the caller cleans the returned runner up."""
    host, port = split_address(address)
    name_the_server_everywhere()
    runner = web.AppRunner(
        app,
        access_log=None,
        auto_decompress=False,
        keepalive_timeout=header_seconds,  # also bounds how long a first request's head may take to arrive
        lingering_time=LINGER_SECONDS,
        logger=ClientErrorLog(logging.getLogger("sre_operator.http.clients")),
    )
    await runner.setup()
    await web.TCPSite(runner, host, port, **site_options).start()
    return runner
