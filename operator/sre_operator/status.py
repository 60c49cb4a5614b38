"""Status documents of the three kinds, built purely from what reconciling found.

Conditions keep their ``lastTransitionTime`` while their status stays the
same, so a reconcile that changes nothing produces the very status already
stored, and the handler writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sre_operator.errors import Problem
from sre_operator.gates import Decision, Firing, Memory, SloBudget, percent
from sre_operator.gates.decision import FrozenBy
from sre_operator.generate.routing import business_hours_assumption
from sre_operator.models.assumptions import plan_assumptions, residual_risks
from sre_operator.models.gate import Override
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.models.status import GateStatus, IncidentStatus, PlanStatus, PolicyStatus, StatusModel
from sre_operator.timestamps import parse_rfc3339, rfc3339


def now_rfc3339() -> str:
    return rfc3339(datetime.datetime.now(datetime.UTC))


@dataclass(frozen=True)
class ConditionUpdate:
    type: str
    status: bool
    reason: str
    message: str


def merge_conditions(
    previous: Sequence[dict[str, Any]], updates: Sequence[ConditionUpdate], generation: int, now: str
) -> list[dict[str, Any]]:
    """``previous`` with each update applied; untouched types are kept as they were."""
    by_type = {c.get("type"): dict(c) for c in previous}
    for update in updates:
        status = "True" if update.status else "False"
        old = by_type.get(update.type)
        by_type[update.type] = {
            "type": update.type,
            "status": status,
            "reason": update.reason,
            "message": update.message,
            "lastTransitionTime": old["lastTransitionTime"]
            if old and old.get("status") == status and old.get("lastTransitionTime")
            else now,
            "observedGeneration": generation,
        }
    return sorted(by_type.values(), key=lambda c: str(c.get("type")))


STATUS_MODELS: dict[str, type[StatusModel]] = {
    "ServiceReliabilityPlan": PlanStatus,
    "ErrorBudgetPolicy": PolicyStatus,
    "ReleaseGate": GateStatus,
    "Incident": IncidentStatus,
}


class StatusShapeError(Exception):
    """A status write that the kind's status model, from which the CRD's status schema is generated, does not
    take: a bug of the operator's, never a user's mistake."""


def checked_status(kind: str, delta: dict[str, Any]) -> dict[str, Any]:
    """``delta`` unchanged, once the kind's status model takes every field it writes."""
    try:
        STATUS_MODELS[kind].model_validate(delta)
    except ValidationError as error:
        raise StatusShapeError(f"{kind} status {sorted(delta)}: {error}") from None
    return delta


def problem_line(problems: Sequence[Problem]) -> str:
    """One line for a condition or Event: the first problem, and how many more there are."""
    first = f"{problems[0].path}: {problems[0].message}"
    return first if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)"


def invalid_status(previous: dict[str, Any], generation: int, problems: Sequence[Problem], now: str) -> dict[str, Any]:
    """Valid=False; everything generated from the last good version stays as it is, and so does its status."""
    conditions = merge_conditions(
        previous.get("conditions") or [],
        [ConditionUpdate("Valid", False, "InvalidSpec", problem_line(problems))],
        generation,
        now,
    )
    return {"observedGeneration": generation, "conditions": conditions}


def plan_status(
    previous: dict[str, Any],
    generation: int,
    plan: ServiceReliabilityPlan,
    generated: Sequence[dict[str, Any]],
    *,
    prometheus_operator: bool,
    now: str,
    collides_with: Sequence[str] = (),
) -> dict[str, Any]:
    assumptions = plan_assumptions(plan)
    for child in generated:
        if child["kind"] == "AlertmanagerConfig" and (said := business_hours_assumption(plan, child)):
            assumptions.append(said)
    rules_where = (
        "PrometheusRule"
        if prometheus_operator
        else "ConfigMap (no monitoring.coreos.com API in this cluster: load it with a rules sidecar or "
        "a mounted rule_files path)"
    )
    updates = [
        ConditionUpdate("Valid", True, "SpecValid", "The plan is valid."),
        ConditionUpdate("Ready", True, "Generated", f"{len(generated)} objects generated; rules in a {rules_where}."),
        ConditionUpdate(
            "Complete",
            not assumptions,
            "NoAssumptions" if not assumptions else "Assumptions",
            "Every section is explicit."
            if not assumptions
            else f"{len(assumptions)} assumption(s) in status.assumptions.",
        ),
        ConditionUpdate(
            "PrometheusOperator",
            prometheus_operator,
            "Found" if prometheus_operator else "NotInstalled",
            "Rules are delivered as a PrometheusRule."
            if prometheus_operator
            else "monitoring.coreos.com is not served: rules are delivered as a ConfigMap.",
        ),
        ConditionUpdate(
            "ServiceUnique",
            not collides_with,
            "Unique" if not collides_with else "DuplicateService",
            f"No other plan in {plan.metadata.namespace} covers service {plan.spec.service.name}."
            if not collides_with
            else duplicate_service_message(plan, collides_with),
        ),
    ]
    return {
        "observedGeneration": generation,
        "conditions": merge_conditions(previous.get("conditions") or [], updates, generation, now),
        "assumptions": assumptions,
        # The live capacity checks' findings stay until the next check clears them.
        "residualRisks": residual_risks(plan) + list(previous.get("capacityRisks") or []),
        "generated": [
            {"apiVersion": g["apiVersion"], "kind": g["kind"], "name": g["metadata"]["name"]} for g in generated
        ],
        "sloCount": len(plan.spec.slos),
    }


def duplicate_service_message(plan: ServiceReliabilityPlan, others: Sequence[str]) -> str:
    return (
        f"plans {', '.join(sorted([plan.metadata.name, *others]))} in {plan.metadata.namespace} all cover service "
        f"{plan.spec.service.name}: their SLO series (namespace, service, slo) and budgets collide; "
        "keep one plan per service"
    )


def not_ready_status(previous: dict[str, Any], generation: int, reason: str, message: str, now: str) -> dict[str, Any]:
    conditions = merge_conditions(
        previous.get("conditions") or [], [ConditionUpdate("Ready", False, reason, message)], generation, now
    )
    return {"conditions": conditions}


def valid_only_status(previous: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
    """Policies and gates for now: valid, with their behaviour still to come."""
    conditions = merge_conditions(
        previous.get("conditions") or [],
        [ConditionUpdate("Valid", True, "SpecValid", "The spec is valid.")],
        generation,
        now,
    )
    return {"observedGeneration": generation, "conditions": conditions}


def changed_fields(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The part of ``new`` that differs from ``previous`` (empty when a status write would change nothing)."""
    return {key: value for key, value in new.items() if previous.get(key) != value}


# Release gates -------------------------------------------------------------------------------------------------------

LAST_DECISIONS_KEPT = 10


def memory_from_status(status: dict[str, Any]) -> Memory:
    """What a gate decided last, from its stored status: a restarted operator carries on from it."""
    recovering = status.get("recoveringSince") or ""
    saved = status.get("frozenBy")
    frozen_by: FrozenBy = saved if saved in ("budget", "unknown", "actions") else ""
    return Memory(
        status.get("state") or "Evaluating",
        bool(status.get("allowed", True)),
        str(status.get("reason") or ""),
        str(status.get("since") or ""),
        str(status.get("decisionId") or ""),
        frozen_by,
        parse_rfc3339(recovering) if recovering else None,
    )


def _override_line(override: Override) -> str:
    return f"by {override.by} until {rfc3339(override.expires)}: {override.reason}"


def gate_status(
    previous: dict[str, Any],
    generation: int,
    decision: Decision,
    memory: Memory,
    now: str,
    *,
    problems: Sequence[Problem] = (),
    paused: Sequence[str] = (),
) -> dict[str, Any]:
    """A gate's whole status after a decision (``lastDecisions`` is kept as it was, ``history`` grows).

    With ``problems`` the current spec is invalid and the decision comes from the last valid one."""
    valid = decision.state != "Invalid" and not problems
    if problems:
        invalid_message = problem_line(problems) + " (the last valid spec still applies)"
    else:
        invalid_message = decision.reason.removeprefix("Invalid: ")
    updates = [
        ConditionUpdate(
            "Valid",
            valid,
            "SpecValid" if valid else "InvalidSpec",
            "The gate, its plan and its policy are valid." if valid else invalid_message,
        ),
        ConditionUpdate(
            "Overridden",
            decision.override is not None,
            "Override" if decision.override else "None",
            f"Override {_override_line(decision.override)}" if decision.override else "No active override.",
        ),
    ]
    override = _override_line(decision.override) if decision.override else ""
    return {
        "observedGeneration": generation,
        "conditions": merge_conditions(previous.get("conditions") or [], updates, generation, now),
        "history": gate_history(previous, decision.state, decision.reason, override, now),
        "state": decision.state,
        "allowed": decision.allowed,
        "reason": decision.reason,
        "budgetRemaining": None if decision.budget_remaining is None else round(decision.budget_remaining, 4),
        "burnRates": {w: round(r, 3) for w, r in decision.burn_rates.items()},
        "since": memory.since,
        "decisionId": memory.decision_id,
        "slo": decision.slo,
        "rule": decision.rule,
        "frozenBy": decision.frozen_by,
        "recoveringSince": rfc3339(decision.recovering_since) if decision.recovering_since else "",
        "override": override,
        "expiredOverrides": [_override_line(o) for o in decision.expired_overrides],
        "paused": list(paused),
    }


HISTORY_KEPT = 20


def gate_history(previous: dict[str, Any], state: str, reason: str, override: str, now: str) -> list[dict[str, str]]:
    """``status.history``, newest first: each change of state and each override starting or ending, kept
    short. The web view marks them on the SLO's budget charts."""
    entries = []
    if previous.get("override", "") != override:
        if previous.get("override"):
            entries.append({"at": now, "event": "override-ended", "message": f"override {previous['override']}"})
        if override:
            entries.append({"at": now, "event": "override-started", "message": f"override {override}"})
    if previous.get("state", "") != state:
        entries.append({"at": now, "event": state, "message": reason})
    return [*entries, *(previous.get("history") or [])][:HISTORY_KEPT]


def with_admission(previous: dict[str, Any], entries: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """``lastDecisions`` with new entries first, kept short."""
    return [*reversed(entries), *(previous.get("lastDecisions") or [])][:LAST_DECISIONS_KEPT]


# Budgets on plans ------------------------------------------------------------------------------------------------------

BUDGET_STEP = 0.005
"""A remaining budget is rewritten when it moves by half a percentage point of the budget."""
BURN_RATE_STEP = 0.1
"""A burn rate is rewritten when it moves by a tenth of itself (and by at least 0.1)."""


def _burn_rates_moved(old: dict[str, float], new: dict[str, float]) -> bool:
    if set(old) != set(new):
        return True
    return any(abs(new[w] - old[w]) >= max(BURN_RATE_STEP, BURN_RATE_STEP * abs(old[w])) for w in new)


def slo_moved(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether an SLO's stored budget state is worth a write: a state change, or a meaningful step."""
    if old is None:
        return True
    for key in ("objective", "window", "unknown", "rules"):
        if old.get(key, "" if key != "rules" else []) != new.get(key, "" if key != "rules" else []):
            return True
    before, after = old.get("budgetRemaining"), new.get("budgetRemaining")
    if (before is None) != (after is None):
        return True
    if before is not None and after is not None and abs(after - before) >= BUDGET_STEP:
        return True
    return _burn_rates_moved(old.get("burnRates") or {}, new.get("burnRates") or {})


def lowest_budget_text(slos: dict[str, dict[str, Any]]) -> str:
    values = [
        s["budgetRemaining"] for s in slos.values() if s.get("budgetRemaining") is not None and not s.get("unknown")
    ]
    if not values:
        return "unknown" if slos else ""
    return percent(min(values))


def plan_budget_status(
    previous: dict[str, Any],
    plan: ServiceReliabilityPlan,
    budgets: dict[str, SloBudget],
    fired: Sequence[Firing],
    annotations: dict[str, str],
    now: str,
) -> dict[str, Any]:
    """The part of a plan's status that budgets drive, holding only what should be written now."""
    old_slos: dict[str, dict[str, Any]] = previous.get("slos") or {}
    slos: dict[str, dict[str, Any]] = {}
    moved = set(old_slos) != {s.name for s in plan.spec.slos}
    for slo in plan.spec.slos:
        budget = budgets[slo.name]
        entry: dict[str, Any] = {
            "objective": slo.objective,
            "window": budget.window,
            "budgetRemaining": None if budget.remaining is None else round(budget.remaining, 4),
            "burnRates": {w: round(r, 3) for w, r in sorted(budget.burn_rates.items())},
            "evaluatedAt": now,
            "unknown": budget.unknown,
            "rules": [f.rule for f in fired if f.slo == slo.name],
        }
        if slo_moved(old_slos.get(slo.name), entry):
            moved = True
        else:
            entry = old_slos[slo.name]
        slos[slo.name] = entry
    delta: dict[str, Any] = {}
    if moved:
        delta["slos"] = slos
    lowest = lowest_budget_text(slos)
    if previous.get("lowestBudgetRemaining", "") != lowest:
        delta["lowestBudgetRemaining"] = lowest
    required = required_postmortems(previous.get("postmortemsRequired") or [], fired, annotations, now)
    if required != (previous.get("postmortemsRequired") or []):
        delta["postmortemsRequired"] = required
    return delta


POSTMORTEM_ANNOTATION = "reliability.dev/postmortem."


def required_postmortems(
    previous: Sequence[dict[str, str]], fired: Sequence[Firing], annotations: dict[str, str], now: str
) -> list[dict[str, str]]:
    """Postmortems the policy asks for: one per SLO, recorded when a requirePostmortem rule starts to hold,
    kept after it stops, and met once the plan links it (annotation ``reliability.dev/postmortem.<slo>``)."""
    by_slo = {entry["slo"]: dict(entry) for entry in previous}
    for firing in fired:
        if "requirePostmortem" in firing.actions and firing.slo not in by_slo:
            by_slo[firing.slo] = {
                "slo": firing.slo,
                "rule": firing.rule,
                "reason": firing.because,
                "since": now,
                "url": "",
            }
    for slo, entry in by_slo.items():
        entry["url"] = annotations.get(POSTMORTEM_ANNOTATION + slo, "")
    return [by_slo[slo] for slo in sorted(by_slo)]


def capacity_status(
    previous: dict[str, Any], plan: ServiceReliabilityPlan, risks: Sequence[str], generation: int, now: str
) -> dict[str, Any]:
    """The status delta of a capacity check: the risks it found (also in residualRisks) and ``Resilient``."""
    update = ConditionUpdate(
        "Resilient",
        not risks,
        "CapacityChecked" if not risks else "CapacityRisks",
        "Every workload of spec.capacity passes its checks."
        if not risks
        else f"{len(risks)} capacity risk(s) in status.residualRisks; the first: {risks[0]}",
    )
    wanted = {
        "capacityRisks": list(risks),
        "residualRisks": residual_risks(plan) + list(risks),
        "conditions": merge_conditions(previous.get("conditions") or [], [update], generation, now),
    }
    return changed_fields(previous, wanted)
