"""The policy engine and the gate's state machine, as tables of situations a release manager meets."""

from __future__ import annotations

import datetime

import pytest

from sre_operator.gates import Memory, SloBudget, decide, firings, transition
from sre_operator.models.gate import Override
from sre_operator.models.policy import PolicySpec

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
POLICY = PolicySpec.model_validate(
    {
        "rules": [
            {"name": "warn", "when": {"budgetRemainingBelow": 50}, "actions": ["notify"]},
            {"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases", "requirePostmortem"]},
            {
                "name": "fast-burn",
                "when": {"burnRateAbove": {"rate": 14.4, "window": "1h"}},
                "actions": ["freezeReleases"],
            },
        ],
        "unfreeze": {"budgetRemainingAbove": 0, "holdFor": "1h"},
        "onUnknown": "allow",
    }
)
BLOCKING = POLICY.model_copy(update={"on_unknown": "block"})
FROZEN = Memory("Frozen", False, "Frozen: ...", "2026-11-25T10:00:00Z", "abc", "budget")


def budget(remaining: float | None, slo: str = "availability", unknown: str = "", **rates: float) -> SloBudget:
    return SloBudget(slo, "30d", remaining, {k.replace("h", "") + "h": v for k, v in rates.items()}, 30.0, unknown)


def minutes_ago(n: int) -> datetime.datetime:
    return NOW - datetime.timedelta(minutes=n)


@pytest.mark.parametrize(
    ("case", "budgets", "previous", "state", "allowed", "reason"),
    [
        ("within budget", [budget(0.62)], Memory(), "Open", True, "Open: availability has 62% of its 30d budget left"),
        (
            "warned but open",
            [budget(0.3)],
            Memory(),
            "Open",
            True,
            "Open: availability has 30% of its 30d budget left (rule warn: notify)",
        ),
        (
            "budget spent",
            [budget(-0.12)],
            Memory(),
            "Frozen",
            False,
            "Frozen: availability has -12% of its 30d budget left (rule freeze); reopens above 0% held for 1h",
        ),
        (
            "fast burn with budget left",
            [budget(0.8, h1=20.0)],
            Memory(),
            "Frozen",
            False,
            "Frozen: availability burns its budget at 20x over 1h (above 14.4x) with 80% of its 30d budget left "
            "(rule fast-burn); reopens above 0% held for 1h",
        ),
        (
            "the lowest of two SLOs decides",
            [budget(0.5, "latency"), budget(-0.031, "availability")],
            Memory(),
            "Frozen",
            False,
            "Frozen: availability has -3.1% of its 30d budget left (rule freeze); reopens above 0% held for 1h",
        ),
        (
            "recovered but not yet held",
            [budget(0.05)],
            FROZEN,
            "Frozen",
            False,
            "Frozen: recovering, availability has 5% of its 30d budget left, above 0% since 2026-11-25T12:00:00Z; "
            "reopens at 2026-11-25T13:00:00Z if it holds",
        ),
        (
            "on the line is not above it",
            [budget(0.0)],
            FROZEN,
            "Frozen",
            False,
            "Frozen: availability has 0% of its 30d budget left; reopens above 0% held for 1h",
        ),
        (
            "Prometheus down, nothing frozen, allow",
            [budget(None, unknown="Prometheus cannot be read: connection refused")],
            Memory(),
            "Open",
            True,
            "Open: budget of availability unknown (Prometheus cannot be read: connection refused); "
            "policy onUnknown allows releases",
        ),
        (
            "Prometheus down keeps a budget freeze",
            [budget(None, unknown="no data")],
            FROZEN,
            "Frozen",
            False,
            "Frozen: budget of availability unknown (no data); unknown budgets do not lift a budget freeze "
            "(reopens above 0% held for 1h)",
        ),
        ("first evaluation after a start", None, Memory(), "Evaluating", True, "Evaluating: budgets not read yet"),
        ("a restart keeps a freeze", None, FROZEN, "Frozen", False, "Frozen: ..."),
    ],
)
def test_gate_state(
    case: str, budgets: list[SloBudget] | None, previous: Memory, state: str, allowed: bool, reason: str
) -> None:
    decision = decide(POLICY, budgets, previous, NOW)
    assert (decision.state, decision.allowed, decision.reason) == (state, allowed, reason), case


def test_on_unknown_block_freezes_with_the_reason_and_reopens_at_once_when_budgets_return() -> None:
    down = decide(BLOCKING, [budget(None, unknown="stale: last sample 12m ago")], Memory(), NOW)
    assert (down.state, down.allowed, down.frozen_by) == ("Frozen", False, "unknown")
    assert "stale: last sample 12m ago" in down.reason and "onUnknown blocks" in down.reason
    memory = transition(Memory(), down, NOW, "uid")
    back = decide(BLOCKING, [budget(0.4)], memory, NOW)
    assert (back.state, back.allowed) == ("Open", True)


def test_a_freeze_lifts_only_after_hold_for_and_restarts_the_clock_when_the_budget_dips() -> None:
    memory = transition(Memory(), decide(POLICY, [budget(-0.1)], Memory(), minutes_ago(120)), minutes_ago(120), "u")
    timeline = [
        (110, 0.02, "Frozen"),
        (90, -0.01, "Frozen"),
        (80, 0.03, "Frozen"),
        (25, 0.04, "Frozen"),
        (20, 0.05, "Open"),
    ]
    seen = []
    for ago, remaining, _ in timeline:
        decision = decide(POLICY, [budget(remaining)], memory, minutes_ago(ago))
        memory = transition(memory, decision, minutes_ago(ago), "u")
        seen.append(decision.state)
    assert seen == [state for *_, state in timeline]
    # The dip 90 minutes ago restarted the clock at 80 minutes ago: 55 minutes later still frozen, 60 later open.
    assert memory.since == "2026-11-25T11:40:00Z"


def test_a_budget_hovering_at_the_line_never_flaps() -> None:
    memory = Memory()
    states = []
    for i, remaining in enumerate([-0.001, 0.001, -0.001, 0.002, -0.002, 0.001]):
        decision = decide(POLICY, [budget(remaining)], memory, minutes_ago(60 - i * 5))
        memory = transition(memory, decision, minutes_ago(60 - i * 5), "u")
        states.append(decision.state)
    assert set(states) == {"Frozen"}


def test_decision_ids_change_with_the_state_only() -> None:
    first = transition(Memory(), decide(POLICY, [budget(0.42)], Memory(), NOW), NOW, "u")
    later = NOW + datetime.timedelta(minutes=1)
    same = transition(first, decide(POLICY, [budget(0.41)], first, later), later, "u")
    frozen = transition(same, decide(POLICY, [budget(-0.2)], same, later), later, "u")
    assert first.decision_id == same.decision_id and same.since == first.since
    assert frozen.decision_id != same.decision_id and frozen.since == "2026-11-25T12:01:00Z"


def test_an_active_override_opens_and_says_so_an_expired_one_is_ignored_and_reported() -> None:
    active = Override(reason="INC-123 fix", by="alice", expires=NOW + datetime.timedelta(hours=2))
    expired = Override(reason="old", by="bob", expires=NOW - datetime.timedelta(hours=1))
    opened = decide(POLICY, [budget(-0.12)], Memory(), NOW, overrides=[active, expired])
    assert (opened.state, opened.allowed) == ("Open", True)
    assert opened.reason.startswith("Open: override by alice until 2026-11-25T14:00:00Z (INC-123 fix);")
    assert "budgets alone say Frozen" in opened.reason
    assert opened.expired_overrides == (expired,)
    ignored = decide(POLICY, [budget(-0.12)], Memory(), NOW, overrides=[expired])
    assert (ignored.state, ignored.allowed, ignored.override) == ("Frozen", False, None)
    assert ignored.expired_overrides == (expired,)


def test_dry_run_reports_the_freeze_and_blocks_nothing() -> None:
    decision = decide(POLICY, [budget(-0.12)], Memory(), NOW, dry_run=True)
    assert (decision.state, decision.allowed, decision.dry_run) == ("Frozen", True, True)
    assert decision.reason.endswith("(dry run: would block, blocks nothing)")


def test_rules_fire_per_slo_in_order_with_every_action() -> None:
    fired = firings(POLICY, [budget(-0.5, "a", h1=30.0), budget(0.9, "b")])
    assert [(f.slo, f.rule, f.actions) for f in fired] == [
        ("a", "warn", ("notify",)),
        ("a", "freeze", ("freezeReleases", "requirePostmortem")),
        ("a", "fast-burn", ("freezeReleases",)),
    ]


def test_overdue_p0_actions_hold_the_gate_only_when_the_policy_says_so() -> None:
    rules = [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}]
    healthy = [SloBudget("availability", "30d", 0.6, {"1h": 0.5})]
    now = datetime.datetime(2026, 12, 20, tzinfo=datetime.UTC)
    lenient = PolicySpec.model_validate({"rules": rules})
    strict = PolicySpec.model_validate({"rules": rules, "correctiveActions": {"freezeWhileP0Overdue": True}})
    assert decide(lenient, healthy, Memory(), now, overdue_p0=("CA-1",)).state == "Open"
    held = decide(strict, healthy, Memory(), now, overdue_p0=("CA-1",))
    assert (held.state, held.allowed, held.frozen_by) == ("Frozen", False, "actions")
    assert held.reason.startswith(
        "Frozen: P0 corrective action CA-1 overdue (policy correctiveActions.freezeWhileP0Overdue)"
    )
    # Done or rescheduled: open again at once, no hysteresis (that is for budgets).
    assert decide(strict, healthy, Memory("Frozen", False, held.reason, frozen_by="actions"), now).state == "Open"
