"""Follow one kind of the operator's children in every namespace: one long watch, filtered by label on the
server, resumed from where it stopped. While nothing changes it sends no request at all, apart from
renewing the watch every ``watch_seconds``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from sre_operator.k8s.client import Cluster, Kind

logger = logging.getLogger(__name__)

WATCH_SECONDS = 1800
# A kind the cluster does not serve (no Prometheus Operator CRDs) is looked for again this rarely.
UNSERVED_RETRY_SECONDS = 600.0
MAX_BACKOFF_SECONDS = 60.0

Handler = Callable[[str, dict[str, Any]], None]


def follow(
    cluster: Cluster,
    kind: Kind,
    label_selector: str,
    handle: Handler,
    stopped: threading.Event,
    *,
    version: str = "",
    watch_seconds: int = WATCH_SECONDS,
) -> None:
    """Call ``handle(event_type, object)`` for every change to ``kind`` matching ``label_selector`` after
    ``version`` (now, if empty) until ``stopped`` is set."""
    backoff = 1.0
    while not stopped.is_set():
        try:
            if not version:
                version = cluster.resource_version(kind, label_selector)
            for event in cluster.watch(kind, label_selector, version, watch_seconds):
                if stopped.is_set():
                    return
                obj = event["object"]
                version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                if event.get("type") == "BOOKMARK":
                    continue
                try:
                    handle(str(event.get("type")), obj)
                except Exception:  # one child's failed repair must not end the watch of all the others
                    logger.exception("handling a %s event of %s failed", event.get("type"), kind.kind)
            backoff = 1.0
        except ApiException as error:
            if stopped.is_set():
                return
            if error.status == 410:  # the version fell out of the server's window: start again from now
                version = ""
                continue
            wait = UNSERVED_RETRY_SECONDS if error.status == 404 else backoff
            logger.warning("watching %s failed (%s %s); again in %.0fs", kind.plural, error.status, error.reason, wait)
            stopped.wait(wait)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except (HTTPError, OSError, ValueError) as error:
            if stopped.is_set():
                return
            logger.warning("watching %s failed (%s); again in %.0fs", kind.plural, error, backoff)
            stopped.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def current_version(cluster: Cluster, kind: Kind, label_selector: str, attempts: int = 10) -> str:
    """Where a watch of ``kind`` starts; empty if the kind is not served (yet) or the server is not ready."""
    for attempt in range(attempts):
        try:
            return cluster.resource_version(kind, label_selector)
        except ApiException as error:
            if error.status == 404:
                return ""
            logger.info("listing %s: %s %s (attempt %d)", kind.plural, error.status, error.reason, attempt + 1)
        except (HTTPError, OSError) as error:
            logger.info("listing %s: %s (attempt %d)", kind.plural, error, attempt + 1)
        time.sleep(1)
    return ""


def start_following(cluster: Cluster, kinds: tuple[Kind, ...], label_selector: str, handle: Handler) -> threading.Event:
    """One daemon thread per kind; set the returned event to stop them (each ends at its next event).

    The versions to watch from are taken before this returns, that is before the operator's start-up
    reconcile of every plan: whatever changes after that reconcile looked is seen by a watch.
    """
    stopped = threading.Event()
    for kind in kinds:
        version = current_version(cluster, kind, label_selector)
        threading.Thread(
            target=follow,
            args=(cluster, kind, label_selector, handle, stopped),
            kwargs={"version": version},
            name=f"watch-{kind.plural}",
            daemon=True,
        ).start()
    return stopped
