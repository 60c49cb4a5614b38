"""The collector's pauses around decision cycles: what is dead is freed, even when it died in a cycle's shadow."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from sre_operator.runtime import Collector


class Node:
    """A cycle: freed only by the garbage collector."""

    def __init__(self) -> None:
        self.me = self


def cyclic_garbage() -> weakref.ref[Node]:
    return weakref.ref(Node())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fresh_collector_state() -> Iterator[list[str]]:
    """No test leaves objects frozen or the collector off; yields the collections seen while it runs."""
    gc.collect()
    gc.unfreeze()
    seen: list[str] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(f"gen{info['generation']}")

    gc.callbacks.append(watch)
    try:
        yield seen
    finally:
        gc.callbacks.remove(watch)
        gc.unfreeze()
        gc.enable()
        gc.collect()


def test_a_busy_cycle_freezes_nothing_and_leaves_the_collector_running() -> None:
    collector = Collector(clock=Clock())
    collector.note_activity()
    with collector.paused():
        assert gc.isenabled()  # a burst's cycles follow each other: pausing would hold its garbage
        dead = cyclic_garbage()
        gc.collect(0)
        assert dead() is None
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_a_quiet_cycle_pauses_the_collector() -> None:
    collector = Collector(clock=Clock())
    with collector.paused():  # the first cycle counts as busy
        pass
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_first_quiet_cycle_frees_what_died_while_handlers_ran_then_freezes() -> None:
    collector = Collector(clock=Clock())
    with collector.paused():
        pass
    with collector.paused():
        collector.note_activity()
        dead = cyclic_garbage()  # made by a handler while the collector was paused
    assert dead() is not None  # a busy cycle leaves it to the collector's usual runs
    with collector.paused():
        pass
    assert dead() is None
    assert gc.get_freeze_count() > 0


def test_a_steady_quiet_cycle_only_freezes(fresh_collector_state: list[str]) -> None:
    collector = Collector(clock=Clock())
    with collector.paused():
        pass
    with collector.paused():  # the first quiet cycle: collects the start's garbage
        pass
    fresh_collector_state.clear()
    with collector.paused():
        kept = [Node() for _ in range(10)]
    assert fresh_collector_state == []  # no collection: the webhook is never paused by one
    assert gc.get_freeze_count() >= len(kept)


def test_once_an_hour_what_died_after_being_frozen_is_freed() -> None:
    clock = Clock()
    collector = Collector(clock=clock, full_every=3600)
    alive = Node()
    died_later = weakref.ref(alive)
    with collector.paused():
        pass
    with collector.paused():  # quiet: frozen while alive (a handler in flight, say)
        pass
    del alive
    gc.collect()
    assert died_later() is not None  # frozen: the collector does not look at it
    clock.now = 3599
    with collector.paused():
        pass
    assert died_later() is not None
    clock.now = 3600
    with collector.paused():
        pass
    assert died_later() is None


def test_free_memory_goes_back_to_the_system_after_cycles_that_followed_work_only() -> None:
    released: list[int] = []
    collector = Collector(clock=Clock(), release=lambda: released.append(1))
    collector.note_activity()
    with collector.paused():
        pass
    assert len(released) == 1  # the cycle after work (a restart's resumes, a mass apply)
    for _ in range(3):
        with collector.paused():
            pass
    assert len(released) == 1  # quiet cycles: nothing new to give back, no trim
    collector.note_activity()
    with collector.paused():
        pass
    assert len(released) == 2
