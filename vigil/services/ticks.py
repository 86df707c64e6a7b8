"""TICK_5, TICK_60 and TICK_3600: events at the wall-clock boundaries of their periods.

A tick is due when the wall-clock slice of its period (``when - when % period``) differs from
the one last seen, as in Supervisor; the first comes at the first boundary after it is wanted.
One loop timer is armed for the nearest boundary, and only while something subscribes to a
TICK type, so an idle daemon is never woken for nothing. The timer runs on the loop's monotonic
clock while slices are read from wall time, so a timer that fires early (the wall clock was
slewed or set back) finds no new slice and is simply armed again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vigil.clock import Clock
from vigil.core.bus import EventBus
from vigil.core.events import Tick
from vigil.event_types import TICK_PERIODS


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class TimerLoop(Protocol):
    """The part of an event loop ticks need (an asyncio loop, or a fake in tests)."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle: ...


def timeslice(period: int, when: float) -> int:
    """The start of the period-long slice of wall time holding ``when``."""
    return int(when - (when % period))


class Ticks:
    def __init__(self, bus: EventBus, clock: Clock, loop: TimerLoop) -> None:
        self._bus = bus
        self._clock = clock
        self._loop = loop
        self._last: dict[str, int] = {}  # the slice last seen, per wanted tick type
        self._timer: TimerHandle | None = None
        self._started = False
        self._closed = False

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        """Follow subscriptions from now on: arm while ticks are wanted, disarm otherwise."""
        if not self._started:
            self._started = True
            self._bus.watch_subscriptions(self._refresh)
        self._refresh()

    def close(self) -> None:
        self._closed = True
        self._cancel()

    def _wanted(self) -> list[str]:
        return [name for name in TICK_PERIODS if self._bus.has_subscribers(name)]

    def _refresh(self) -> None:
        if self._closed:
            return
        wanted = self._wanted()
        now = self._clock.time()
        for name in list(self._last):
            if name not in wanted:
                del self._last[name]
        for name in wanted:
            # newly wanted: its first tick is at the next boundary (Supervisor tracks slices
            # from startup, so a late subscriber also waits for the next rollover)
            self._last.setdefault(name, timeslice(TICK_PERIODS[name], now))
        self._arm(now)

    def _arm(self, now: float) -> None:
        self._cancel()
        if not self._last or self._closed:
            return
        delay = min(
            timeslice(TICK_PERIODS[name], now) + TICK_PERIODS[name] - now for name in self._last
        )
        self._timer = self._loop.call_later(delay, self._fire)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        now = self._clock.time()
        due: list[Tick] = []
        for name in TICK_PERIODS:  # 5, 60, 3600: Supervisor's order at a shared boundary
            last = self._last.get(name)
            if last is None:
                continue
            current = timeslice(TICK_PERIODS[name], now)
            if current != last:
                self._last[name] = current
                due.append(Tick(TICK_PERIODS[name], current))
        self._arm(now)  # before publishing: a subscriber may unsubscribe and disarm us
        for event in due:
            self._bus.publish(event)
