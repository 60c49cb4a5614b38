"""The budget evaluation loop: read every budget at once, decide every gate, write only what changed.

Each cycle reads Prometheus with a constant number of queries, then, from
memory, brings each plan's ``status.slos`` up to date (only when a value moves
by a meaningful step), applies the plan's policy (``notify`` Events when a rule
starts to hold, ``requirePostmortem`` in the plan's status), decides each
gate, publishes the answer to the gate book that the gate API and the webhook
read, and records each transition (status, Event, metrics). Writes happen
after the decisions, in a worker thread, so readers never wait on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from sre_operator.budgets import carry_forward
from sre_operator.gates import Firing, GateView, Record, SloBudget, firings, transition
from sre_operator.gates.book import GateAnswer
from sre_operator.gates.evaluate import BudgetSource, gate_decision, plan_budgets, policy_name
from sre_operator.handlers.state import OperatorState
from sre_operator.incidents.actions import PRIORITIES, report
from sre_operator.k8s.client import GATE, PLAN
from sre_operator.k8s.workloads import pause_targets, resume_targets
from sre_operator.models import ReleaseGate, ServiceReliabilityPlan
from sre_operator.registry import Known
from sre_operator.status import (
    POSTMORTEM_ANNOTATION,
    changed_fields,
    gate_status,
    invalid_status,
    memory_from_status,
    plan_budget_status,
    problem_line,
    with_admission,
)
from sre_operator.timestamps import rfc3339

logger = logging.getLogger(__name__)

OUTCOME_EVENTS = {
    "denied": ("Warning", "ReleaseDenied"),
    "exception": ("Normal", "ExceptionAdmitted"),
    "override": ("Normal", "OverrideAdmitted"),
    "dry-run": ("Warning", "WouldDeny"),
}


@dataclass
class Writes:
    """What one cycle decided to write, applied together after the decisions."""

    statuses: list[tuple[Known, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[dict[str, str], str, str, str]] = field(default_factory=list)
    pauses: list[tuple[Known, ReleaseGate, bool]] = field(default_factory=list)


UNREACHABLE_CYCLES = 2.5
"""Failed reads in a row (in evaluation intervals) before budgets count as unknown: one lost query moves no gate."""


def _source(state: OperatorState) -> BudgetSource:
    return BudgetSource(
        state.snapshot,
        state.config.budget_stale_after,
        configured=state.prometheus is not None,
        unreachable_after=UNREACHABLE_CYCLES * state.config.evaluation_interval,
    )


def _plan_cycle(
    state: OperatorState,
    known: Known,
    plan: ServiceReliabilityPlan,
    budgets: dict[str, SloBudget],
    now: str,
    writes: Writes,
) -> None:
    namespace, service = plan.metadata.namespace, plan.spec.service.name
    for name, budget in budgets.items():
        labels = (namespace, service, name)
        if budget.remaining is not None and budget.known:
            state.metrics.budget_remaining.labels(*labels).set(budget.remaining)
        for window, rate in budget.burn_rates.items():
            state.metrics.burn_rate.labels(*labels, window).set(rate)
        if budget.age_seconds is not None:
            state.metrics.sample_age.labels(*labels).set(budget.age_seconds)
    policy = state.registry.policy(namespace, plan.spec.release.policy_ref) if plan.spec.release else None
    fired: list[Firing] = firings(policy.spec, budgets) if policy else []
    held_before = {slo: set(entry.get("rules") or []) for slo, entry in (known.status.get("slos") or {}).items()}
    for firing in fired:
        if firing.rule in held_before.get(firing.slo, set()):
            continue
        for action in firing.actions:
            state.metrics.policy_actions.labels(namespace, service, firing.slo, firing.rule, action).inc()
        if "notify" in firing.actions or "requirePostmortem" in firing.actions:
            writes.events.append(
                (
                    known.reference,
                    "Warning",
                    "BudgetPolicy",
                    f"rule {firing.rule} ({', '.join(firing.actions)}): {firing.because}",
                )
            )
    # A required postmortem is met by the plan's annotation, or by a Reviewed incident postmortem with a link.
    reviewed = state.registry.reviewed_postmortems(known.namespace, known.name)
    links = {**{POSTMORTEM_ANNOTATION + slo: url for slo, url in reviewed.items()}, **known.annotations}
    delta = plan_budget_status(known.status, plan, budgets, fired, links, now)
    delta.update(_corrective_actions(state, known, plan, datetime.date.fromisoformat(now[:10]), writes))
    if delta:
        writes.statuses.append((known, delta))


def _corrective_actions(
    state: OperatorState, known: Known, plan: ServiceReliabilityPlan, today: datetime.date, writes: Writes
) -> dict[str, Any]:
    """Open and overdue corrective actions into the metric, an Event for each one newly overdue (and weekly
    while it stays so), and the status delta."""
    actions = plan.spec.postmortem.corrective_actions if plan.spec.postmortem else []
    previous = known.status.get("correctiveActions") or {}
    found = report(actions, today, previous.get("announced") or {})
    for priority in PRIORITIES:
        for kind, counts in (("open", found.open), ("overdue", found.overdue)):
            state.metrics.corrective_actions.labels(known.namespace, known.name, priority, kind).set(
                counts.get(priority, 0)
            )
    for _, message in found.announce:
        writes.events.append((known.reference, "Warning", "CorrectiveActionOverdue", message))
    wanted = found.status() if actions or previous else {}
    return {"correctiveActions": wanted} if wanted != previous else {}


def _gate_cycle(
    state: OperatorState,
    known: Known,
    budgets_of: dict[tuple[str, str], dict[str, SloBudget]],
    moment: datetime.datetime,
    now: str,
    writes: Writes,
) -> None:
    gate = known.model
    if not isinstance(gate, ReleaseGate):  # never valid: nothing to enforce, say why
        state.book.remove(known.namespace, known.name)
        status = invalid_status(known.status, known.generation, known.problems, now)
        status.update({"state": "Invalid", "allowed": True, "reason": f"Invalid: {problem_line(known.problems)}"})
        delta = changed_fields(known.status, status)
        if delta:
            writes.statuses.append((known, delta))
            writes.events.append((known.reference, "Warning", "InvalidSpec", problem_line(known.problems)))
        return
    registry = state.registry
    namespace = known.namespace
    plan = registry.plan(namespace, gate.spec.plan_ref.name)
    policy_ref, _ = policy_name(gate, plan)
    policy = registry.policy(namespace, policy_ref) if policy_ref else None
    previous = memory_from_status(known.status)
    decision = gate_decision(
        gate,
        plan,
        policy,
        budgets_of.get((namespace, gate.spec.plan_ref.name)) if _source(state).evaluated else None,
        previous,
        moment,
        plan_problems=registry.problems("ServiceReliabilityPlan", namespace, gate.spec.plan_ref.name),
        policy_problems=registry.problems("ErrorBudgetPolicy", namespace, policy_ref) if policy_ref else (),
    )
    memory = transition(previous, decision, moment, known.uid)
    exceptions = policy.spec.exceptions if policy else None
    view = GateView(
        namespace,
        known.name,
        tuple(gate.spec.targets),
        decision.state,
        decision.reason,
        decision.allowed,
        dry_run=decision.dry_run,
        admission=gate.spec.enforcement.admission,
        override_active=decision.override is not None,
        change_classes=tuple(exceptions.change_classes) if exceptions else (),
        new_workloads=exceptions.new_workloads if exceptions else True,
    )
    state.book.put(GateAnswer(view, memory.decision_id, memory.since, decision.budget_remaining, decision.burn_rates))
    state.metrics.set_gate(namespace, known.name, decision.state, decision.allowed)
    hold = gate.spec.enforcement.pause_rollouts and decision.state == "Frozen" and not decision.allowed
    paused = list(known.status.get("paused") or [])
    if hold != bool(paused):
        writes.pauses.append((known, gate, hold))
    status = gate_status(known.status, known.generation, decision, memory, now, problems=known.problems, paused=paused)
    delta = changed_fields(known.status, status)
    if delta:
        writes.statuses.append((known, delta))
    if memory.decision_id != previous.decision_id:
        event_type = "Warning" if decision.state in ("Frozen", "Invalid") else "Normal"
        writes.events.append(
            (known.reference, event_type, decision.state, f"{decision.reason} (decision {memory.decision_id})")
        )
    before = set(known.status.get("expiredOverrides") or [])
    for line in status["expiredOverrides"]:
        if line not in before:
            writes.events.append(
                (known.reference, "Warning", "OverrideExpired", f"override {line} has expired and is ignored")
            )
    if known.problems and status["conditions"] != known.status.get("conditions"):
        (valid,) = [c for c in status["conditions"] if c["type"] == "Valid"]
        writes.events.append((known.reference, "Warning", "InvalidSpec", valid["message"]))


def _kind_of(known: Known) -> Any:
    return PLAN if known.kind == "ServiceReliabilityPlan" else GATE


def apply_writes(state: OperatorState, writes: Writes) -> None:
    """Status patches, pauses and Events, in a worker thread; a failure is logged and tried next cycle."""
    cluster = state.cluster
    for known, gate, hold in writes.pauses:
        try:
            if hold:
                paused = pause_targets(cluster, known.namespace, known.name, gate.spec.targets)
                message = f"paused {', '.join(paused)} while frozen" if paused else ""
            else:
                resumed = resume_targets(cluster, known.namespace, known.name, gate.spec.targets)
                paused = []
                message = f"resumed {', '.join(resumed)}" if resumed else ""
            writes.statuses.append((known, {"paused": paused}))
            if message:
                writes.events.append((known.reference, "Normal", "Paused" if hold else "Resumed", message))
        except ApiException as error:
            logger.warning("pausing the targets of gate %s/%s failed: %s", known.namespace, known.name, error.reason)
    for known, delta in writes.statuses:
        try:
            cluster.patch(_kind_of(known), known.namespace, known.name, {"status": delta}, subresource="status")
            known.status.update(delta)  # the watch brings the same soon; until then do not write it twice
        except ApiException as error:
            if error.status != 404:
                logger.warning(
                    "status of %s %s/%s not written: %s", known.kind, known.namespace, known.name, error.reason
                )
    for involved, event_type, reason, message in writes.events:
        try:
            cluster.post_event(involved, event_type, reason, message)
        except ApiException as error:
            logger.warning("event %s on %s not posted: %s", reason, involved.get("name"), error.reason)


async def read_budgets(state: OperatorState) -> None:
    """One read of every budget (a constant number of queries), kept in ``state.snapshot``."""
    if state.prometheus is None:
        return
    snapshot = await state.prometheus.snapshot()
    state.metrics.queries.inc(snapshot.queries)
    if snapshot.error:
        state.metrics.query_errors.inc()
        logger.warning("budgets not read: %s", snapshot.error)
        snapshot = carry_forward(state.snapshot, snapshot)
    state.snapshot = snapshot


def decide_all(state: OperatorState, moment: datetime.datetime) -> Writes:
    """Every plan's budgets and every gate's decision from memory; returns what should be written."""
    now = rfc3339(moment)
    writes = Writes()
    source = _source(state)
    # Each plan's budgets once a cycle, for its status and for every gate that reads it.
    budgets_of = {}
    for known, plan in state.registry.plans():
        budgets = budgets_of[(known.namespace, known.name)] = plan_budgets(plan, source)
        _plan_cycle(state, known, plan, budgets, now, writes)
    for known in state.registry.gates():
        _gate_cycle(state, known, budgets_of, moment, now, writes)
    return writes


async def evaluate_once(state: OperatorState) -> Writes:
    started = time.monotonic()
    await read_budgets(state)
    writes = decide_all(state, datetime.datetime.now(datetime.UTC))
    await asyncio.to_thread(apply_writes, state, writes)
    state.metrics.evaluations.inc()
    state.metrics.evaluation_duration.observe(time.monotonic() - started)
    state.health.last_cycle = time.monotonic()
    return writes


async def evaluate_forever(state: OperatorState, wake: asyncio.Event) -> None:
    """Evaluate every ``evaluation_interval`` seconds, and at once when ``wake`` is set (a gate changed)."""
    while True:
        try:
            await evaluate_once(state)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not stop the gates; it is logged and the next cycle tries again
            logger.exception("budget evaluation failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=state.config.evaluation_interval)
        wake.clear()


def admission_recorder(state: OperatorState, queue: asyncio.Queue[tuple[Sequence[Record], dict[str, Any]]]) -> Any:
    """``on_records`` for the webhook: hands records to ``record_admissions`` without waiting."""

    def on_records(records: Sequence[Record], request: Any) -> None:
        try:
            queue.put_nowait((records, dict(request)))
        except asyncio.QueueFull:
            logger.warning("admission records dropped: the recorder is behind")

    return on_records


async def record_admissions(
    state: OperatorState, queue: asyncio.Queue[tuple[Sequence[Record], dict[str, Any]]]
) -> None:
    """Events and ``status.lastDecisions`` for admitted exceptions and denials, batched."""
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        writes = Writes()
        entries: dict[tuple[str, str], list[dict[str, str]]] = {}
        at = rfc3339(datetime.datetime.now(datetime.UTC))
        for records, request in batch:
            user = str((request.get("userInfo") or {}).get("username", ""))
            for record in records:
                known = state.registry.get("ReleaseGate", record.gate.namespace, record.gate.name)
                if known is None:
                    continue
                event_type, reason = OUTCOME_EVENTS[record.outcome]
                writes.events.append(
                    (known.reference, event_type, reason, f"{record.message} (by {user or 'unknown'})")
                )
                entries.setdefault((known.namespace, known.name), []).append(
                    {"at": at, "outcome": record.outcome, "message": record.message, "user": user}
                )
        for (namespace, name), new in entries.items():
            known = state.registry.get("ReleaseGate", namespace, name)
            if known is not None:
                writes.statuses.append((known, {"lastDecisions": with_admission(known.status, new)}))
        await asyncio.to_thread(apply_writes, state, writes)
