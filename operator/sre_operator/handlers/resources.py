"""Every object of the three kinds is taken into the registry as the watch sees it; policies are validated
here, gates are decided by the evaluation loop, which any change wakes at once."""

from __future__ import annotations

from typing import Any

import kopf

from sre_operator.handlers.state import GROUP, VERSION, plain, state_of
from sre_operator.models import parse_document
from sre_operator.status import (
    changed_fields,
    checked_status,
    invalid_status,
    now_rfc3339,
    problem_line,
    valid_only_status,
)


@kopf.on.event(GROUP, VERSION, "servicereliabilityplans")
@kopf.on.event(GROUP, VERSION, "errorbudgetpolicies")
@kopf.on.event(GROUP, VERSION, "releasegates")
@kopf.on.event(GROUP, VERSION, "incidents")
async def observed(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    if not hasattr(memo, "state"):
        return
    state = state_of(memo)
    state.collector.note_activity()
    document = plain(event["object"])
    kind, metadata = str(document.get("kind")), document["metadata"]
    namespace, name = str(metadata.get("namespace")), str(metadata.get("name"))
    before = state.registry.get(kind, namespace, name)
    deleted = event.get("type") == "DELETED"
    known = state.registry.observe(document, deleted=deleted)
    if deleted and kind == "ReleaseGate":
        state.book.remove(namespace, name)
        state.metrics.forget_gate(namespace, name)
    # A status-only change is the loop's own write: only a spec change (or a new or deleted object) needs a decision.
    if deleted or before is None or known is None or known.generation != before.generation:
        state.wake.set()


def validate(body: kopf.Body, patch: kopf.Patch) -> None:
    document = plain(body)
    previous = document.get("status") or {}
    generation = int(document["metadata"].get("generation", 0))
    parsed = parse_document(document)
    if parsed.problems:
        status = invalid_status(previous, generation, parsed.problems, now_rfc3339())
    else:
        status = valid_only_status(previous, generation, now_rfc3339())
    delta = changed_fields(previous, status)
    if not delta:
        return
    patch.status.update(checked_status("ErrorBudgetPolicy", delta))
    if parsed.problems:
        kopf.warn(body, reason="InvalidSpec", message=problem_line(parsed.problems))
    else:
        kopf.info(body, reason="Validated", message="The spec is valid.")


@kopf.on.resume(GROUP, VERSION, "errorbudgetpolicies")
@kopf.on.create(GROUP, VERSION, "errorbudgetpolicies")
@kopf.on.update(GROUP, VERSION, "errorbudgetpolicies")
def policy_changed(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    validate(body, patch)
