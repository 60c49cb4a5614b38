"""The supervisor: no duty dies in silence, every failure is reported and the duty comes back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sre_operator.runtime import Supervisor


def run(test: object) -> None:
    asyncio.run(test())  # type: ignore[operator]


def test_a_periodic_duty_that_raises_is_down_logged_restarted_and_up_again(caplog: pytest.LogCaptureFixture) -> None:
    outcomes = iter([ConnectionError("refused"), ConnectionError("refused"), None, None, None])
    calls: list[int] = []

    async def cycle() -> None:
        calls.append(1)
        outcome = next(outcomes, None)
        if outcome is not None:
            raise outcome

    async def test() -> None:
        supervisor = Supervisor(first_backoff=0.05, max_backoff=0.1)
        supervisor.periodic("capacity-checks", cycle, 0.01)
        await asyncio.sleep(0.02)
        duty = supervisor.duties["capacity-checks"]
        assert not duty.up and duty.failures >= 1
        assert duty.last_error == "ConnectionError: refused"
        assert supervisor.health() == (False, ["capacity-checks is down: ConnectionError: refused"])
        await asyncio.sleep(0.4)
        assert duty.up and duty.failures == 0 and duty.last_success is not None
        assert supervisor.health() == (True, [])
        await supervisor.stop()

    with caplog.at_level(logging.INFO, logger="sre_operator.runtime.supervisor"):
        run(test)
    assert len(calls) >= 4
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("duty capacity-checks failed; restarting in") for m in messages), messages
    assert any("failed again (2 in a row: ConnectionError: refused)" in m for m in messages), messages
    assert any(m == "duty capacity-checks is up again after 2 failure(s)" for m in messages), messages


def test_a_long_running_duty_that_returns_is_a_failure_and_is_restarted() -> None:
    starts: list[int] = []

    async def consumer() -> None:
        starts.append(1)
        if len(starts) < 3:
            return  # a bug: a consumer must never end
        await asyncio.sleep(3600)

    async def test() -> None:
        supervisor = Supervisor(first_backoff=0.02, max_backoff=0.05)
        supervisor.long_running("admission-recorder", consumer)
        await asyncio.sleep(0.005)
        assert not supervisor.duties["admission-recorder"].up
        assert "returned, though it should run" in supervisor.duties["admission-recorder"].last_error
        await asyncio.sleep(0.3)
        assert len(starts) == 3 and supervisor.duties["admission-recorder"].up
        await supervisor.stop()

    run(test)


def test_a_periodic_duty_that_stops_finishing_cycles_is_reported_stuck() -> None:
    async def hangs() -> None:
        await asyncio.sleep(3600)

    async def test() -> None:
        supervisor = Supervisor()
        supervisor.periodic("budget-evaluation", hangs, 1.0, stale_after=0.05)
        supervisor.duties["budget-evaluation"].up = True  # as after a first good cycle
        await asyncio.sleep(0.1)
        ok, problems = supervisor.health()
        assert not ok and problems[0].startswith("budget-evaluation finished no cycle in the last")
        await supervisor.stop()

    run(test)


def test_wake_starts_the_next_cycle_at_once_and_names_are_unique() -> None:
    cycles: list[float] = []

    async def test() -> None:
        wake = asyncio.Event()
        supervisor = Supervisor()

        async def cycle() -> None:
            cycles.append(asyncio.get_running_loop().time())

        supervisor.periodic("budget-evaluation", cycle, 3600, wake=wake)
        await asyncio.sleep(0.01)
        wake.set()
        await asyncio.sleep(0.01)
        assert len(cycles) == 2
        with pytest.raises(ValueError, match="supervised already"):
            supervisor.periodic("budget-evaluation", cycle, 1)
        await supervisor.stop()

    run(test)
