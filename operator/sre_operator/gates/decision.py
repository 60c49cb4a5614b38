"""A ReleaseGate's state from its policy, its SLOs' budgets and what it decided before. Pure.

The gate remembers two things between evaluations, kept in its status so a
restarted operator carries on where it stopped: why it is frozen (``budget``:
a rule of the policy froze it; ``unknown``: budgets could not be read and the
policy blocks then) and, while a budget freeze is lifting, since when every
gated SLO has stayed above the unfreeze threshold. A budget freeze lifts only
once that has held for ``unfreeze.holdFor``, so a budget hovering around the
line never makes the gate flap; unknown budgets never lift a budget freeze,
since they cannot show a recovery.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sre_operator.durations import seconds
from sre_operator.gates.policy import Firing, SloBudget, budget_sentence, firings
from sre_operator.models.gate import Override
from sre_operator.models.policy import PolicySpec, Unfreeze
from sre_operator.timestamps import rfc3339

State = Literal["Open", "Frozen", "Evaluating", "Invalid"]
FrozenBy = Literal["budget", "unknown", "actions", ""]


@dataclass(frozen=True)
class Memory:
    """What the gate carries from one evaluation to the next."""

    state: State = "Evaluating"
    allowed: bool = True
    reason: str = ""
    since: str = ""
    decision_id: str = ""
    frozen_by: FrozenBy = ""
    recovering_since: datetime.datetime | None = None


@dataclass(frozen=True)
class Decision:
    state: State
    allowed: bool
    reason: str
    frozen_by: FrozenBy = ""
    recovering_since: datetime.datetime | None = None
    budget_remaining: float | None = None
    burn_rates: dict[str, float] = field(default_factory=dict)
    slo: str = ""
    rule: str = ""
    firings: tuple[Firing, ...] = ()
    override: Override | None = None
    expired_overrides: tuple[Override, ...] = ()
    dry_run: bool = False


def _unfreeze(policy: PolicySpec) -> Unfreeze:
    return policy.unfreeze or Unfreeze()


def _reopens(policy: PolicySpec) -> str:
    unfreeze = _unfreeze(policy)
    return f"reopens above {unfreeze.budget_remaining_above:g}% held for {unfreeze.hold_for}"


def _lowest(budgets: Sequence[SloBudget]) -> SloBudget | None:
    known = [b for b in budgets if b.known]
    return min(known, key=lambda b: b.remaining if b.remaining is not None else 0.0, default=None)


def _unknown_why(budgets: Sequence[SloBudget]) -> str:
    unknown = [b for b in budgets if not b.known]
    reasons = sorted({b.unknown or "no data" for b in unknown})
    return f"budget of {', '.join(b.slo for b in unknown)} unknown ({'; '.join(reasons)})"


def _from_budgets(
    policy: PolicySpec, budgets: Sequence[SloBudget] | None, previous: Memory, now: datetime.datetime
) -> Decision:
    if budgets is None:
        if previous.state == "Frozen" and previous.frozen_by:
            return Decision("Frozen", False, previous.reason, previous.frozen_by, previous.recovering_since)
        return Decision("Evaluating", policy.on_unknown == "allow", "Evaluating: budgets not read yet")
    fired = tuple(firings(policy, list(budgets)))
    freezing = [f for f in fired if f.freezes]
    by_slo = {b.slo: b for b in budgets}
    # The SLO that decides: the frozen one with the least budget, else the one with the least budget.
    first = min(freezing, key=lambda f: by_slo[f.slo].remaining or 0.0) if freezing else None
    deciding = by_slo[first.slo] if first else _lowest(budgets)

    def frozen(reason: str, frozen_by: FrozenBy = "budget", recovering: datetime.datetime | None = None) -> Decision:
        return _decision("Frozen", f"Frozen: {reason}", frozen_by, recovering, deciding, first, fired)

    def opened(reason: str) -> Decision:
        return _decision("Open", f"Open: {reason}", "", None, deciding, None, fired)

    if first is not None:
        return frozen(f"{first.because} (rule {first.rule}); {_reopens(policy)}")
    unknown = [b for b in budgets if not b.known]
    if previous.frozen_by == "budget":
        if unknown:
            return frozen(f"{_unknown_why(budgets)}; unknown budgets do not lift a budget freeze ({_reopens(policy)})")
        unfreeze = _unfreeze(policy)
        below = [b for b in budgets if (b.remaining or 0.0) * 100 <= unfreeze.budget_remaining_above]
        if below:
            return frozen(f"{budget_sentence(min(below, key=lambda b: b.remaining or 0.0))}; {_reopens(policy)}")
        assert deciding is not None
        recovering = previous.recovering_since or now
        reopen_at = recovering + datetime.timedelta(seconds=seconds(unfreeze.hold_for))
        line = f"{unfreeze.budget_remaining_above:g}%"
        if now < reopen_at:
            return frozen(
                f"recovering, {budget_sentence(deciding)}, above {line} since {rfc3339(recovering)}; "
                f"reopens at {rfc3339(reopen_at)} if it holds",
                recovering=recovering,
            )
        return opened(f"{budget_sentence(deciding)}; above {line} for {unfreeze.hold_for}")
    if unknown:
        if policy.on_unknown == "block":
            return frozen(f"{_unknown_why(budgets)}; policy onUnknown blocks releases", "unknown")
        return opened(f"{_unknown_why(budgets)}; policy onUnknown allows releases")
    assert deciding is not None
    notes = [f"rule {f.rule}: {', '.join(f.actions)}" for f in fired if f.slo == deciding.slo]
    return opened(budget_sentence(deciding) + (f" ({'; '.join(notes)})" if notes else ""))


def _decision(
    state: State,
    reason: str,
    frozen_by: FrozenBy,
    recovering: datetime.datetime | None,
    deciding: SloBudget | None,
    rule: Firing | None,
    fired: tuple[Firing, ...],
) -> Decision:
    """A decision carrying the deciding SLO's numbers."""
    return Decision(
        state,
        state != "Frozen",
        reason,
        frozen_by,
        recovering,
        deciding.remaining if deciding else None,
        dict(deciding.burn_rates) if deciding else {},
        deciding.slo if deciding else "",
        rule.rule if rule else "",
        fired,
    )


def decide(
    policy: PolicySpec,
    budgets: Sequence[SloBudget] | None,
    previous: Memory,
    now: datetime.datetime,
    *,
    overrides: Sequence[Override] = (),
    dry_run: bool = False,
    overdue_p0: Sequence[str] = (),
) -> Decision:
    """The gate's decision now. ``budgets`` is None until the first evaluation after a start; ``overdue_p0``
    names the plan's P0 corrective actions past their due date."""
    decision = _from_budgets(policy, budgets, previous, now)
    holding = policy.corrective_actions is not None and policy.corrective_actions.freeze_while_p0_overdue
    if holding and overdue_p0 and decision.state != "Frozen":
        many = "s" if len(overdue_p0) > 1 else ""
        decision = _replace(
            decision,
            state="Frozen",
            allowed=False,
            frozen_by="actions",
            reason=f"Frozen: P0 corrective action{many} {', '.join(overdue_p0)} overdue (policy "
            "correctiveActions.freezeWhileP0Overdue); reopens once done or rescheduled",
        )
    active = [o for o in overrides if o.expires > now]
    expired = tuple(o for o in overrides if o.expires <= now)
    if active:
        override = max(active, key=lambda o: o.expires)
        inner = decision.reason.split(": ", 1)[-1]
        return _replace(
            decision,
            state="Open",
            allowed=True,
            reason=f"Open: override by {override.by} until {rfc3339(override.expires)} ({override.reason}); "
            f"budgets alone say {decision.state}: {inner}",
            override=override,
            expired_overrides=expired,
        )
    if dry_run and decision.state == "Frozen":
        return _replace(
            decision,
            allowed=True,
            reason=f"{decision.reason} (dry run: would block, blocks nothing)",
            expired_overrides=expired,
            dry_run=True,
        )
    return _replace(decision, expired_overrides=expired, dry_run=dry_run)


def _replace(decision: Decision, **changes: object) -> Decision:
    return dataclasses.replace(decision, **changes)  # type: ignore[arg-type]


def invalid(message: str, *, allowed: bool = True) -> Decision:
    """A gate whose spec or references are wrong: Invalid, and by default it blocks nothing."""
    return Decision("Invalid", allowed, f"Invalid: {message}")


def transition(previous: Memory, decision: Decision, now: datetime.datetime, gate_uid: str) -> Memory:
    """The memory after ``decision``: a new ``since`` and ``decisionId`` when state or allowed changes."""
    changed = (previous.state, previous.allowed) != (decision.state, decision.allowed) or not previous.decision_id
    since = rfc3339(now) if changed else previous.since
    decision_id = (
        hashlib.sha256(f"{gate_uid}/{decision.state}/{decision.allowed}/{since}".encode()).hexdigest()[:16]
        if changed
        else previous.decision_id
    )
    return Memory(
        decision.state,
        decision.allowed,
        decision.reason,
        since,
        decision_id,
        decision.frozen_by,
        decision.recovering_since,
    )
