"""ServiceReliabilityPlan: generate its children on every change (and, if asked, on a slow drift-repair timer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf
from kubernetes.client.exceptions import ApiException

from sre_operator.generate.children import Capabilities, desired_children
from sre_operator.handlers.state import CONFIG, GROUP, VERSION, OperatorState, plain, render_options, state_of
from sre_operator.k8s import sync_children
from sre_operator.k8s.client import is_retryable
from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.status import (
    changed_fields,
    duplicate_service_message,
    invalid_status,
    not_ready_status,
    now_rfc3339,
    plan_status,
    problem_line,
)

PLURAL = "servicereliabilityplans"


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


def reconcile(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, *, drift: bool) -> None:
    state = state_of(memo)
    document = plain(body)
    previous = document.get("status") or {}
    generation = int(document["metadata"].get("generation", 0))
    now = now_rfc3339()
    parsed = parse_document(document)
    if parsed.problems or not isinstance(parsed.model, ServiceReliabilityPlan):
        status = invalid_status(previous, generation, parsed.problems, now)
        delta = changed_fields(previous, status)
        if delta:
            patch.status.update(delta)
            kopf.warn(body, reason="InvalidSpec", message=problem_line(parsed.problems))
        return
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
        delta = changed_fields(previous, not_ready_status(previous, generation, "ApplyFailed", message, now))
        if delta:
            patch.status.update(delta)
        kopf.warn(body, reason="ApplyFailed", message=message)
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
            kopf.info(body, reason=reason, message=f"{reason} {item}")
    service = plan.spec.service.name
    others = [n for n in state.registry.plans_of_service(plan.metadata.namespace, service) if n != plan.metadata.name]
    status = plan_status(
        previous,
        generation,
        plan,
        desired,
        prometheus_operator=capabilities.prometheus_operator,
        now=now,
        collides_with=others,
    )
    delta = changed_fields(previous, status)
    if delta:
        patch.status.update(delta)
        was_unique = not any(
            c.get("type") == "ServiceUnique" and c.get("status") == "False" for c in previous.get("conditions") or []
        )
        if others and was_unique:  # once, when the collision starts, not on every later status change
            kopf.warn(body, reason="DuplicateService", message=duplicate_service_message(plan, others))


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
def plan_changed(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    reconcile(body, patch, memo, drift=False)


def repair_drift(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    reconcile(body, patch, memo, drift=True)


# Children are watched (handlers/children.py); the timer is only a slow safety net, off unless asked for.
if CONFIG.drift_interval > 0:
    kopf.timer(GROUP, VERSION, PLURAL, interval=CONFIG.drift_interval, initial_delay=CONFIG.drift_interval)(
        repair_drift
    )
