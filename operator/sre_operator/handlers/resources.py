"""ErrorBudgetPolicy and ReleaseGate: validated now, with a Valid condition and Events; behaviour comes later."""

from __future__ import annotations

from typing import Any

import kopf

from sre_operator.handlers.state import GROUP, VERSION, plain
from sre_operator.models import parse_document
from sre_operator.status import changed_fields, invalid_status, now_rfc3339, problem_line, valid_only_status


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
    patch.status.update(delta)
    if parsed.problems:
        kopf.warn(body, reason="InvalidSpec", message=problem_line(parsed.problems))
    else:
        kopf.info(body, reason="Validated", message="The spec is valid.")


@kopf.on.resume(GROUP, VERSION, "errorbudgetpolicies")
@kopf.on.create(GROUP, VERSION, "errorbudgetpolicies")
@kopf.on.update(GROUP, VERSION, "errorbudgetpolicies")
def policy_changed(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    validate(body, patch)


@kopf.on.resume(GROUP, VERSION, "releasegates")
@kopf.on.create(GROUP, VERSION, "releasegates")
@kopf.on.update(GROUP, VERSION, "releasegates")
def gate_changed(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    validate(body, patch)
