"""ServiceReliabilityPlan: generate its children on every change (and, if asked, on a slow drift-repair timer)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

import kopf
from kubernetes.client.exceptions import ApiException

from sre_operator.generate.children import Capabilities, desired_children
from sre_operator.handlers.state import GROUP, VERSION, OperatorState, config_of, plain, render_options, state_of
from sre_operator.k8s import sync_children
from sre_operator.k8s.client import PLAN, is_retryable
from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.status import (
    changed_fields,
    checked_status,
    duplicate_service_message,
    invalid_status,
    not_ready_status,
    now_rfc3339,
    plan_status,
    problem_line,
)

PLURAL = "servicereliabilityplans"
logger = logging.getLogger(__name__)
RESUME_PROGRESS_EVERY = 1000


def owned_children(
    state: OperatorState, plan: ServiceReliabilityPlan, owner: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """What ``plan`` generates for this cluster, each owned by the plan object ``owner``."""
    options = render_options(state.config)
    capabilities = capabilities_of(state)
    children = desired_children(plan, capabilities, options)
    for child in children:
        kopf.append_owner_reference(child, owner=cast(kopf.Body, owner))
    return children


def capabilities_of(state: OperatorState) -> Capabilities:
    return Capabilities(
        prometheus_operator=state.cluster.has_api("monitoring.coreos.com/v1"),
        alertmanager_config=state.cluster.has_api("monitoring.coreos.com/v1alpha1"),
    )


def _write_status(
    state: OperatorState, document: dict[str, Any], wanted: Callable[[dict[str, Any]], dict[str, Any]]
) -> bool:
    """The status ``wanted(previous)`` holds, written only where it differs, guarded against a concurrent write
    (the capacity checks write conditions too); whether anything was written."""
    meta = document["metadata"]
    written = state.cluster.patch_status_guarded(
        PLAN,
        meta["namespace"],
        meta["name"],
        document,
        lambda previous: checked_status(PLAN.kind, changed_fields(previous, wanted(previous))),
    )
    return written is not None


Announce = Callable[[kopf.Body, str, str, str], None]
"""Posts an Event about a plan: (plan, type, reason, message)."""


def kopf_event(body: kopf.Body, event_type: str, reason: str, message: str) -> None:
    """Through kopf's poster: only inside kopf's handlers, where it is set up for the object."""
    (kopf.warn if event_type == "Warning" else kopf.info)(body, reason=reason, message=message)


def reconcile(body: kopf.Body, memo: kopf.Memo, *, drift: bool, announce: Announce = kopf_event) -> bool:
    """Bring the plan's children and status to what its spec wants; whether any child was written."""
    state = state_of(memo)
    document = plain(body)
    previous = document.get("status") or {}
    generation = int(document["metadata"].get("generation", 0))
    now = now_rfc3339()
    parsed = parse_document(document)
    if parsed.problems or not isinstance(parsed.model, ServiceReliabilityPlan):
        if _write_status(state, document, lambda previous: invalid_status(previous, generation, parsed.problems, now)):
            announce(body, "Warning", "InvalidSpec", problem_line(parsed.problems))
        return False
    plan = parsed.model
    before = [f"{g.get('kind')} {g.get('name')}" for g in previous.get("generated") or []]
    try:
        capabilities = capabilities_of(state)
        desired = owned_children(state, plan, body)
        changes = sync_children(
            state.cluster, plan.metadata.namespace, plan.metadata.name, desired, was_generated=before
        )
    except ApiException as error:
        message = f"applying generated objects failed: {error.status} {error.reason}"
        _write_status(
            state, document, lambda previous: not_ready_status(previous, generation, "ApplyFailed", message, now)
        )
        announce(body, "Warning", "ApplyFailed", message)
        if is_retryable(error):
            raise kopf.TemporaryError(message, delay=15) from None
        raise kopf.TemporaryError(message, delay=120) from None
    updated_reason = "Repaired" if drift else "Updated"
    for reason, items in (
        ("Created", changes.created),
        ("Restored", changes.restored),
        (updated_reason, changes.updated),
        ("Deleted", changes.deleted),
    ):
        for item in items:
            announce(body, "Normal", reason, f"{reason} {item}")
    service = plan.spec.service.name
    others = [n for n in state.registry.plans_of_service(plan.metadata.namespace, service) if n != plan.metadata.name]

    def wanted(previous: dict[str, Any]) -> dict[str, Any]:
        return plan_status(
            previous,
            generation,
            plan,
            desired,
            prometheus_operator=capabilities.prometheus_operator,
            now=now,
            collides_with=others,
        )

    if _write_status(state, document, wanted):
        was_unique = not any(
            c.get("type") == "ServiceUnique" and c.get("status") == "False" for c in previous.get("conditions") or []
        )
        if others and was_unique:  # once, when the collision starts, not on every later status change
            announce(body, "Warning", "DuplicateService", duplicate_service_message(plan, others))
    return changes.any


# No resume handler: kopf would hold every listed plan's whole body in its queues until that plan's resume
# had run (docs/operator.md, "What stays hand-made"); ``resume_plans`` does it from a paged list instead.
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
def plan_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    reconcile(body, memo, drift=False)


def resume_plan(memo: kopf.Memo, namespace: str, name: str) -> None:
    """One plan as stored now, reconciled. If that wrote a child while an edit landed (kopf's update handler
    runs beside this), the newer spec is reconciled too, so an older spec's children never have the last word."""
    state = state_of(memo)

    def announce(body: kopf.Body, event_type: str, reason: str, message: str) -> None:
        meta = body["metadata"]
        try:
            state.cluster.post_event(PLAN.involved(meta), event_type, reason, message)
        except ApiException as error:  # an Event is worth a log line, not a second reconcile
            logger.warning("event %s for plan %s/%s not posted: %s", reason, meta["namespace"], meta["name"], error)

    current = state.cluster.get(PLAN, namespace, name)
    while current is not None and not current["metadata"].get("deletionTimestamp"):
        if not reconcile(kopf.Body(cast(kopf.RawBody, current)), memo, drift=False, announce=announce):
            return
        again = state.cluster.get(PLAN, namespace, name)
        if again is None or again["metadata"].get("generation") == current["metadata"].get("generation"):
            return
        current = again


async def resume_plans(memo: kopf.Memo, keys: list[tuple[str, str]], *, concurrency: int) -> dict[tuple[str, str], str]:
    """After a start or a change of the active replica: every plan in ``keys`` reconciled (children restored
    or updated for this operator's version, status refreshed), ``concurrency`` at a time, each read from the
    API server when its turn comes, so only the plans in flight are held in memory. Returns why each plan that
    failed did (whatever the error: one plan's failure, an unreachable API server included, neither stops the
    others nor leaves workers running behind a failed pass); it stops early when this replica stops being the
    active one."""
    state = state_of(memo)
    pending = iter(keys)
    failed: dict[tuple[str, str], str] = {}
    done = 0

    async def worker() -> None:
        nonlocal done
        for namespace, name in pending:
            if not state.readiness.leader:
                return
            try:
                await asyncio.to_thread(resume_plan, memo, namespace, name)
            except Exception as error:  # an outage, a conflict: the caller logs it and tries again
                failed[(namespace, name)] = str(error).splitlines()[0] if str(error) else type(error).__name__
            done += 1
            if done % RESUME_PROGRESS_EVERY == 0:
                logger.info("resumed %d of %d plan(s)", done, len(keys))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failed


def _drift_repair_on(memo: kopf.Memo, **_: Any) -> bool:
    return config_of(memo).drift_interval > 0


async def repair_drift(meta: kopf.Meta, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    interval = config_of(memo).drift_interval
    state = state_of(memo)
    namespace, name = str(meta.get("namespace")), str(meta.get("name"))
    while not await stopped.wait(interval):
        current = await asyncio.to_thread(state.cluster.get, PLAN, namespace, name)
        if current is None:
            return
        await asyncio.to_thread(reconcile, kopf.Body(cast(kopf.RawBody, current)), memo, drift=True)


@functools.cache  # kopf's default registry lives as long as the process: register once
def enable_drift_repair() -> None:
    """Register the drift repair, a daemon per plan: a slow safety net beside the child watches, off unless
    asked for. Registered only then because kopf keeps a copy of the latest body of every object of a kind
    that has a daemon (with its managed fields and kopf's copy of the spec: about half of this operator's
    memory per plan), whether the daemon's filter lets it run or not."""
    kopf.daemon(GROUP, VERSION, PLURAL, when=_drift_repair_on, cancellation_timeout=5.0)(repair_drift)
