"""Follow one kind of the operator's children in every namespace: one long watch, filtered by label on the
server, resumed from where it stopped. While nothing changes it sends no request at all, apart from
renewing the watch every ``WATCH_SECONDS``.

``ChildWatch.run_once`` is one watch session; the supervisor runs it again when it ends and, with a
backoff, when it raises (the API server unreachable), so an outage is reported and never ends the watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from sre_operator.k8s.client import Cluster, Kind

logger = logging.getLogger(__name__)

WATCH_SECONDS = 1800
# A kind the cluster does not serve (no Prometheus Operator CRDs) is looked for again this rarely.
UNSERVED_RETRY_SECONDS = 600.0

Handler = Callable[[str, dict[str, Any]], None]
Resync = Callable[[list[dict[str, Any]]], None]


class ChildWatch:
    def __init__(
        self,
        cluster: Cluster,
        kind: Kind,
        label_selector: str,
        handle: Handler,
        stopped: threading.Event,
        *,
        resync: Resync = lambda listed: None,
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self.cluster = cluster
        self.kind = kind
        self.label_selector = label_selector
        self.handle = handle
        self.resync = resync
        self.stopped = stopped
        self.watch_seconds = watch_seconds
        self.version = ""
        self.lost = False
        """Changes may have been missed (the server forgot the version to resume from): list before watching."""

    def start_here(self, attempts: int = 10) -> None:
        """Watch from the collection's current version (tried a few times: the server may be starting)."""
        for attempt in range(attempts):
            try:
                self.version = self.cluster.resource_version(self.kind, self.label_selector)
                return
            except ApiException as error:
                if error.status == 404:
                    return
                logger.info("listing %s: %s %s (attempt %d)", self.kind.plural, error.status, error.reason, attempt + 1)
            except (HTTPError, OSError) as error:
                logger.info("listing %s: %s (attempt %d)", self.kind.plural, error, attempt + 1)
            time.sleep(1)

    def run_once(self) -> None:
        """One watch session: calls ``handle(event_type, object)`` for each change after ``version`` until the
        server ends the watch or ``stopped`` is set. Raises what the API server or the network raise."""
        if self.stopped.is_set():
            return
        try:
            if self.lost:
                listed, self.version = self.cluster.list_all(self.kind, self.label_selector)
                logger.info("%s: watching again after a gap; comparing %d listed", self.kind.plural, len(listed))
                self.resync(listed)
                self.lost = False
            if not self.version:
                self.version = self.cluster.resource_version(self.kind, self.label_selector)
            for event in self.cluster.watch(self.kind, self.label_selector, self.version, self.watch_seconds):
                if self.stopped.is_set():
                    return
                obj = event["object"]
                self.version = str((obj.get("metadata") or {}).get("resourceVersion") or self.version)
                if event.get("type") == "BOOKMARK":
                    continue
                try:
                    self.handle(str(event.get("type")), obj)
                except Exception:  # one child's failed repair must not end the watch of all the others
                    logger.exception("handling a %s event of %s failed", event.get("type"), self.kind.kind)
        except ApiException as error:
            if error.status == 410:  # the version fell out of the server's window (or the server restarted)
                self.version, self.lost = "", True
                return
            if error.status == 404:  # not served (yet): not a failure, look again much later
                logger.info("%s is not served; looking again in %.0fs", self.kind.plural, UNSERVED_RETRY_SECONDS)
                self.stopped.wait(UNSERVED_RETRY_SECONDS)
                return
            raise


def in_daemon_thread(work: Callable[[], None], name: str) -> Callable[[], Awaitable[None]]:
    """``work`` as a coroutine that runs it in a daemon thread of its own (a watch blocks for half an hour:
    not in a shared executor, and never holding up the process's exit)."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def target() -> None:
            outcome: BaseException | None = None
            try:
                work()
            except BaseException as error:  # handed to the awaiting coroutine, which the supervisor watches
                outcome = error
            # The operator may have stopped meanwhile: then nobody waits for the outcome.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, done, outcome)

        threading.Thread(target=target, name=name, daemon=True).start()
        await done

    return run


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
