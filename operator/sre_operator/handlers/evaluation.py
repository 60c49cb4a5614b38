"""The budget evaluation cycle: read every budget at once, decide every gate, write only what changed.

A cycle is data. It reads Prometheus with a constant number of queries; then ``decide_all``, a pure
function of a copy of the registry and that snapshot, runs in a worker thread (off the event loop that
serves the webhook and the gate API) and returns an ``Outcome``: each gate's answer, each SLO's budget,
the status changes, Events and pauses to apply. ``publish`` swaps the answers into the gate book in one
assignment and keeps the budgets for the metrics; ``apply_writes`` then performs the writes in a thread.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from sre_operator.budgets import carry_forward
from sre_operator.gates import Firing, GateView, Record, SloBudget, firings, transition
from sre_operator.gates.book import GateAnswer, Pages
from sre_operator.gates.evaluate import BudgetSource, gate_decision, plan_budgets, policy_name
from sre_operator.handlers.state import OperatorState
from sre_operator.incidents.actions import PRIORITIES, report
from sre_operator.k8s.client import GATE, PLAN
from sre_operator.k8s.workloads import pause_targets, resume_targets
from sre_operator.mergepatch import merge_patch, patch_between
from sre_operator.models import ReleaseGate, ServiceReliabilityPlan
from sre_operator.registry import Known, Registry
from sre_operator.status import (
    POSTMORTEM_ANNOTATION,
    changed_fields,
    checked_status,
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
    "admitted": ("Normal", "ReleaseAdmitted"),
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


@dataclass
class Outcome:
    """Everything one cycle decided: answers to publish, samples for the metrics, writes to apply."""

    answers: dict[tuple[str, str], GateAnswer] = field(default_factory=dict)
    budgets: dict[tuple[str, str], tuple[str, dict[str, SloBudget]]] = field(default_factory=dict)
    """(namespace, plan) -> (service, budget per SLO)."""
    corrective: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    """(namespace, plan, priority, open|overdue) -> count."""
    policy_actions: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    """(namespace, service, slo, rule, action), once per rule that started to hold."""
    writes: Writes = field(default_factory=Writes)


UNREACHABLE_CYCLES = 2.5
"""Failed reads in a row (in evaluation intervals) before budgets count as unknown: one lost query moves no gate."""


def budget_source(state: OperatorState) -> BudgetSource:
    return BudgetSource(
        state.snapshot,
        state.config.budget_stale_after,
        configured=state.prometheus is not None,
        unreachable_after=UNREACHABLE_CYCLES * state.config.evaluation_interval,
    )


def _plan_cycle(
    registry: Registry,
    known: Known,
    plan: ServiceReliabilityPlan,
    budgets: dict[str, SloBudget],
    now: str,
    outcome: Outcome,
) -> None:
    namespace, service = plan.metadata.namespace, plan.spec.service.name
    writes = outcome.writes
    outcome.budgets[(known.namespace, known.name)] = (service, budgets)
    policy = registry.policy(namespace, plan.spec.release.policy_ref) if plan.spec.release else None
    fired: list[Firing] = firings(policy.spec, budgets) if policy else []
    stored = known.status
    held_before = {slo: set(entry.get("rules") or []) for slo, entry in (stored.get("slos") or {}).items()}
    for firing in fired:
        if firing.rule in held_before.get(firing.slo, set()):
            continue
        for action in firing.actions:
            outcome.policy_actions.append((namespace, service, firing.slo, firing.rule, action))
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
    reviewed = registry.reviewed_postmortems(known.namespace, known.name)
    links = {**{POSTMORTEM_ANNOTATION + slo: url for slo, url in reviewed.items()}, **known.annotations}
    delta = plan_budget_status(stored, plan, budgets, fired, links, now)
    delta.update(_corrective_actions(known, stored, plan, datetime.date.fromisoformat(now[:10]), outcome))
    if delta:
        writes.statuses.append((known, delta))


def _corrective_actions(
    known: Known, stored: dict[str, Any], plan: ServiceReliabilityPlan, today: datetime.date, outcome: Outcome
) -> dict[str, Any]:
    """Open and overdue corrective actions into the metric, an Event for each one newly overdue (and weekly
    while it stays so), and the status delta."""
    actions = plan.spec.postmortem.corrective_actions if plan.spec.postmortem else []
    previous = stored.get("correctiveActions") or {}
    found = report(actions, today, previous.get("announced") or {})
    for priority in PRIORITIES:
        for kind, counts in (("open", found.open), ("overdue", found.overdue)):
            outcome.corrective[(known.namespace, known.name, priority, kind)] = counts.get(priority, 0)
    for _, message in found.announce:
        outcome.writes.events.append((known.reference, "Warning", "CorrectiveActionOverdue", message))
    wanted = found.status() if actions or previous else {}
    return {"correctiveActions": wanted} if wanted != previous else {}


def _gate_cycle(
    registry: Registry,
    known: Known,
    budgets_of: dict[tuple[str, str], dict[str, SloBudget]],
    evaluated: bool,
    moment: datetime.datetime,
    now: str,
    outcome: Outcome,
) -> None:
    gate = known.model
    writes = outcome.writes
    stored = known.status
    if not isinstance(gate, ReleaseGate):  # never valid: nothing to enforce, say why
        status = invalid_status(stored, known.generation, known.problems, now)
        status.update({"state": "Invalid", "allowed": True, "reason": f"Invalid: {problem_line(known.problems)}"})
        delta = changed_fields(stored, status)
        if delta:
            writes.statuses.append((known, delta))
            writes.events.append((known.reference, "Warning", "InvalidSpec", problem_line(known.problems)))
        return
    namespace = known.namespace
    plan = registry.plan(namespace, gate.spec.plan_ref.name)
    policy_ref, _ = policy_name(gate, plan)
    policy = registry.policy(namespace, policy_ref) if policy_ref else None
    previous = memory_from_status(stored)
    decision = gate_decision(
        gate,
        plan,
        policy,
        budgets_of.get((namespace, gate.spec.plan_ref.name)) if evaluated else None,
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
    outcome.answers[(namespace, known.name)] = GateAnswer(
        view, memory.decision_id, memory.since, decision.budget_remaining, decision.burn_rates
    )
    hold = gate.spec.enforcement.pause_rollouts and decision.state == "Frozen" and not decision.allowed
    paused = list(stored.get("paused") or [])
    if hold != bool(paused):
        writes.pauses.append((known, gate, hold))
    status = gate_status(stored, known.generation, decision, memory, now, problems=known.problems, paused=paused)
    delta = changed_fields(stored, status)
    if delta:
        writes.statuses.append((known, delta))
    if memory.decision_id != previous.decision_id:
        event_type = "Warning" if decision.state in ("Frozen", "Invalid") else "Normal"
        writes.events.append(
            (known.reference, event_type, decision.state, f"{decision.reason} (decision {memory.decision_id})")
        )
    before = set(stored.get("expiredOverrides") or [])
    for line in status["expiredOverrides"]:
        if line not in before:
            writes.events.append(
                (known.reference, "Warning", "OverrideExpired", f"override {line} has expired and is ignored")
            )
    if known.problems and status["conditions"] != stored.get("conditions"):
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
        except Exception as error:  # one write failing (the API server away, a refusal) spares the others
            logger.warning("pausing the targets of gate %s/%s failed: %s", known.namespace, known.name, _why(error))
    for known, delta in writes.statuses:
        try:
            stored = known.status
            patch = patch_between(stored, checked_status(known.kind, delta))
            cluster.patch(_kind_of(known), known.namespace, known.name, {"status": patch}, subresource="status")
            # The watch brings the same soon; until then do not write it twice.
            known.status = merge_patch(stored, patch)
        except Exception as error:
            if not (isinstance(error, ApiException) and error.status == 404):
                logger.warning(
                    "status of %s %s/%s not written: %s", known.kind, known.namespace, known.name, _why(error)
                )
    for involved, event_type, reason, message in writes.events:
        try:
            cluster.post_event(involved, event_type, reason, message)
        except Exception as error:
            logger.warning("event %s on %s not posted: %s", reason, involved.get("name"), _why(error))


def _why(error: Exception) -> str:
    """One line on why a write failed: the API server's reason, or the error's type and first words."""
    if isinstance(error, ApiException):
        return str(error.reason)
    return f"{type(error).__name__}: {str(error)[:200]}"


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


def decide_all(
    registry: Registry, source: BudgetSource, moment: datetime.datetime, pause: Callable[[], None] = lambda: None
) -> Outcome:
    """Every plan's budgets and every gate's decision, from a copy of the registry; pure, so it can run off
    the event loop. Returns what to publish and what to write. ``pause`` is called every few objects."""
    now = rfc3339(moment)
    outcome = Outcome()
    # Each plan's budgets once a cycle, for its status and for every gate that reads it.
    budgets_of = {}
    for count, (known, plan) in enumerate(registry.plans()):
        budgets = budgets_of[(known.namespace, known.name)] = plan_budgets(plan, source)
        _plan_cycle(registry, known, plan, budgets, now, outcome)
        if count % PAUSE_EVERY == 0:
            pause()
    for count, known in enumerate(registry.gates()):
        _gate_cycle(registry, known, budgets_of, source.evaluated, moment, now, outcome)
        if count % PAUSE_EVERY == 0:
            pause()
    return outcome


PAUSE_EVERY = 8
"""Objects decided between two pauses: about a tenth of a millisecond of work."""


def let_others_run() -> None:
    """In the cycle's worker thread: give up the interpreter lock (and the core) for a moment every few objects,
    so a webhook request waits neither for the interpreter's 5 ms switch interval nor for a whole cycle. On two
    cores, a bare yield left the loop's p99 at 19 ms under 500 requests/s; a 0.2 ms sleep brings it under 6 ms
    for a cycle half as long again (bench/runtime_bench.py)."""
    time.sleep(0.0002)


def decide_and_prepare(registry: Registry, source: BudgetSource, moment: datetime.datetime) -> tuple[Outcome, Pages]:
    """In the worker thread: the cycle's outcome and the gate book's next state, both built off the loop."""
    outcome = decide_all(registry, source, moment, let_others_run)
    return outcome, Pages.of(outcome.answers)


def publish(state: OperatorState, outcome: Outcome, pages: Pages | None = None) -> Outcome | None:
    """On the event loop: the gate answers in one swap (only of gates that still exist: one may have been
    deleted while the cycle ran), the outcome kept for the metrics. Returns the outcome it replaces."""
    gates = state.registry.objects["ReleaseGate"]
    pages = pages or Pages.of(outcome.answers)
    if any(key not in gates for key in pages.answers):
        pages = Pages.of({key: answer for key, answer in pages.answers.items() if key in gates})
    state.book.install(pages)
    replaced, state.published = state.published, outcome
    for labels in outcome.policy_actions:
        state.metrics.policy_actions.inc(labels)
    return replaced


def dismantle(outcome: Outcome | None) -> None:
    """In a worker thread: free a replaced outcome a few objects at a time. Freed at once, its hundreds of
    thousands of objects would hold the interpreter lock for tens of milliseconds, and the webhook waits."""
    if outcome is None:
        return
    for table in (outcome.answers, outcome.budgets, outcome.corrective):
        while table:
            for _ in range(PAUSE_EVERY * 8):
                if not table:
                    break
                table.popitem()
            let_others_run()
    for entries in (outcome.writes.statuses, outcome.writes.events, outcome.writes.pauses, outcome.policy_actions):
        while entries:
            del entries[-PAUSE_EVERY * 8 :]
            let_others_run()


async def evaluate_once(state: OperatorState) -> Outcome:
    started = time.monotonic()
    await read_budgets(state)
    with state.collector.paused():
        view, source, now = state.registry.copy(), budget_source(state), datetime.datetime.now(datetime.UTC)
        outcome, pages = await asyncio.to_thread(decide_and_prepare, view, source, now)
        replaced = publish(state, outcome, pages)
        await asyncio.to_thread(dismantle, replaced)
    state.cycles += 1
    writes, outcome.writes = outcome.writes, Writes()  # the published outcome keeps no applied writes alive
    await asyncio.to_thread(apply_writes, state, writes)
    del writes
    state.metrics.evaluations.inc()
    state.metrics.evaluation_duration.observe(time.monotonic() - started)
    return outcome


Admitted = tuple[Sequence[Record], str]
"""One review's records and its requester's name."""


def admission_recorder(queue: asyncio.Queue[Admitted]) -> Any:
    """``on_records`` for the webhook: hands records, with the requester's name only, to ``record_admissions``
    without waiting (the review itself is not kept)."""

    def on_records(records: Sequence[Record], user: str) -> None:
        try:
            queue.put_nowait((tuple(records), user))
        except asyncio.QueueFull:
            logger.warning("admission records dropped: the recorder is behind")

    return on_records


def admission_writes(registry: Registry, batch: Sequence[Admitted], at: str) -> Writes:
    """Events and ``status.lastDecisions`` entries for a batch of admitted releases, exceptions and denials."""
    writes = Writes()
    entries: dict[tuple[str, str], list[dict[str, str]]] = {}
    for records, user in batch:
        for record in records:
            known = registry.get("ReleaseGate", record.gate.namespace, record.gate.name)
            if known is None:
                continue
            event_type, reason = OUTCOME_EVENTS[record.outcome]
            writes.events.append((known.reference, event_type, reason, f"{record.message} (by {user or 'unknown'})"))
            entries.setdefault((known.namespace, known.name), []).append(
                {"at": at, "outcome": record.outcome, "message": record.message, "user": user}
            )
    for (namespace, name), new in entries.items():
        known = registry.get("ReleaseGate", namespace, name)
        if known is not None:
            writes.statuses.append((known, {"lastDecisions": with_admission(known.status, new)}))
    return writes


async def record_admissions(state: OperatorState, queue: asyncio.Queue[Admitted]) -> None:
    """Batches of records as they come; a write that fails is logged and the others still made."""
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        writes = admission_writes(state.registry, batch, rfc3339(datetime.datetime.now(datetime.UTC)))
        await asyncio.to_thread(apply_writes, state, writes)  # each write failing alone, logged
