"""One supervisor for every background duty of the operator.

A duty is either *periodic* (a cycle awaited every ``interval`` seconds) or
*long-running* (a coroutine that should never end: a queue consumer). Whatever a
duty raises is logged with the duty's name, the duty is marked down and run again
after a backoff that doubles up to a minute. A long-running duty that returns is a
bug and is treated the same way. Liveness (``/healthz``) and the metrics read the
duties' states from here, so no duty can stop in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Cycle = Callable[[], Awaitable[None]]
Interval = Callable[[], float]
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0


@dataclass
class DutyState:
    """What the supervisor knows of one duty, read by ``/healthz`` and ``/metrics``."""

    name: str
    periodic: bool
    stale_after: float | None = None
    """A periodic duty whose last success is older than this is reported down (stuck), though it raised nothing."""
    up: bool = False
    started_at: float = 0.0
    """Monotonic time the duty last (re)started."""
    last_success: float | None = None
    """Wall-clock time of the last finished cycle (periodic) or of the last start (long-running)."""
    last_success_monotonic: float | None = None
    failures: int = 0
    last_error: str = ""

    def healthy(self, now_monotonic: float) -> tuple[bool, str]:
        if not self.up:
            return False, f"{self.name} is down: {self.last_error or 'not started'}"
        if self.stale_after is not None:
            reference = self.last_success_monotonic or self.started_at
            if now_monotonic - reference > self.stale_after:
                return False, f"{self.name} finished no cycle in the last {now_monotonic - reference:.0f}s"
        return True, "ok"


class Supervisor:
    def __init__(
        self,
        *,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.duties: dict[str, DutyState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._clock = clock

    def periodic(
        self,
        name: str,
        cycle: Cycle,
        interval: float | Interval,
        *,
        initial_delay: float = 0.0,
        stale_after: float | None = None,
        wake: asyncio.Event | None = None,
        up_while_running: bool = False,
    ) -> None:
        """Run ``cycle`` every ``interval`` seconds (at once when ``wake`` is set); up while its cycles succeed.

        ``up_while_running``: a cycle that lasts (a watch session) counts as up from its start, not its end."""
        every = interval if callable(interval) else (lambda: float(interval))
        duty = self._register(name, periodic=True, stale_after=stale_after)

        async def run() -> None:
            if initial_delay:
                duty.up = True  # waiting for its first turn is not a failure
                await asyncio.sleep(initial_delay)
            while True:
                if up_while_running:
                    duty.up = True  # its failures and backoff count on until a cycle finishes
                await cycle()
                self._succeeded(duty)
                await _pause(every(), wake)

        self._start(duty, run)

    def long_running(self, name: str, run: Cycle) -> None:
        """Run ``run`` for as long as the operator runs; up while it does."""
        duty = self._register(name, periodic=False)

        async def guarded() -> None:
            self._succeeded(duty)
            await run()
            raise RuntimeError("returned, though it should run for as long as the operator")

        self._start(duty, guarded)

    def _register(self, name: str, *, periodic: bool, stale_after: float | None = None) -> DutyState:
        if name in self.duties:
            raise ValueError(f"duty {name!r} is supervised already")
        duty = DutyState(name, periodic, stale_after)
        self.duties[name] = duty
        return duty

    def _succeeded(self, duty: DutyState) -> None:
        if not duty.up and duty.failures:
            logger.info("duty %s is up again after %d failure(s)", duty.name, duty.failures)
        duty.up = True
        duty.failures = 0
        duty.last_error = ""
        duty.last_success = self._clock()
        duty.last_success_monotonic = time.monotonic()

    def _start(self, duty: DutyState, body: Cycle) -> None:
        async def supervise() -> None:
            backoff = self._first_backoff
            while True:
                duty.started_at = time.monotonic()
                try:
                    await body()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # whatever a duty raises, the supervisor reports it
                    duty.up = False
                    duty.failures += 1
                    duty.last_error = _one_line(error)
                    if duty.failures == 1:
                        logger.exception("duty %s failed; restarting in %.0fs", duty.name, backoff)
                    else:
                        logger.warning(
                            "duty %s failed again (%d in a row: %s); restarting in %.0fs",
                            duty.name,
                            duty.failures,
                            duty.last_error,
                            backoff,
                        )
                if duty.last_success_monotonic is not None and duty.last_success_monotonic >= duty.started_at:
                    backoff = self._first_backoff  # it worked for a while: a fresh failure starts small
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

        self._tasks[duty.name] = asyncio.create_task(supervise(), name=f"duty-{duty.name}")

    def health(self) -> tuple[bool, list[str]]:
        """Whether every duty is up, and a sentence for each one that is not."""
        now = time.monotonic()
        problems = [message for ok, message in (d.healthy(now) for d in self.duties.values()) if not ok]
        return not problems, problems

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


async def _pause(seconds: float, wake: asyncio.Event | None) -> None:
    if wake is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout=seconds)
    wake.clear()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:300]}"
