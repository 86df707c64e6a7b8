"""TICK events on a fake clock and a fake loop: aligned to wall-clock slices, first at the
first boundary after they are wanted, and no timer at all while nobody subscribes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from vigil.clock import FakeClock, SystemClock
from vigil.core.bus import EventBus
from vigil.core.events import Event, Tick
from vigil.services.ticks import Ticks, timeslice

START = 1_700_000_002.5  # 2.5 s into a 5 s slice, 22.5 s into a minute


class FakeTimer:
    def __init__(self, loop: FakeLoop, at: float, callback: Callable[[], object]) -> None:
        self.loop = loop
        self.at = at
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """Timers on the fake clock's wall time (what the real loop's monotonic clock stands for)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.timers: list[FakeTimer] = []

    def call_later(self, delay: float, callback: Callable[[], object]) -> FakeTimer:
        assert delay > 0
        timer = FakeTimer(self, self.clock.time() + delay, callback)
        self.timers.append(timer)
        return timer

    def pending(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled]

    def run_until(self, wall: float) -> None:
        """Advance the clock, firing due timers in order."""
        while True:
            due = sorted((t for t in self.pending() if t.at <= wall), key=lambda t: t.at)
            if not due:
                break
            timer = due[0]
            self.clock.advance(timer.at - self.clock.time())
            self.timers.remove(timer)
            timer.callback()
        self.clock.advance(wall - self.clock.time())


def setup(*types: str) -> tuple[EventBus, FakeClock, FakeLoop, Ticks, list[Event]]:
    bus = EventBus()
    clock = FakeClock(wall=START)
    loop = FakeLoop(clock)
    ticks = Ticks(bus, clock, loop)
    seen: list[Event] = []
    for type_name in types:
        bus.subscribe(type_name, seen.append)
    ticks.start()
    return bus, clock, loop, ticks, seen


def test_timeslice_rounds_down_to_the_period() -> None:
    assert timeslice(5, 1_700_000_004.999) == 1_700_000_000
    assert timeslice(60, 1_700_000_040.0) == 1_700_000_040
    assert timeslice(3600, 1_700_000_000.0) == 1_699_999_200


def test_no_timer_while_nobody_subscribes_to_ticks() -> None:
    _bus, _, loop, ticks, _ = setup("PROCESS_STATE", "REMOTE_COMMUNICATION")
    assert not ticks.armed and loop.timers == []


def test_first_tick_at_the_first_boundary_then_every_period() -> None:
    _, _, loop, _, seen = setup("TICK_5")
    loop.run_until(START + 16)
    assert [(e.name, e.payload()) for e in seen] == [
        ("TICK_5", "when:1700000005"),
        ("TICK_5", "when:1700000010"),
        ("TICK_5", "when:1700000015"),
    ]


def test_a_parent_subscription_gets_every_period_in_supervisors_order() -> None:
    _, _clock, loop, _, seen = setup("TICK")
    loop.run_until(1_700_002_800.0 + 1)  # the next hour boundary after START
    names = [e.name for e in seen]
    assert names.count("TICK_60") == 47 and names.count("TICK_3600") == 1
    assert seen[-3:] == [
        Tick(5, 1_700_002_800),
        Tick(60, 1_700_002_800),
        Tick(3600, 1_700_002_800),
    ]
    assert len(loop.pending()) == 1  # one timer serves all periods


def test_timer_is_armed_on_subscribe_and_disarmed_on_unsubscribe() -> None:
    bus, _, loop, ticks, _ = setup()
    seen: list[Event] = []
    bus.subscribe("TICK_60", seen.append)
    assert ticks.armed and loop.pending()[0].at == 1_700_000_040
    bus.unsubscribe("TICK_60", seen.append)
    assert not ticks.armed and loop.pending() == []
    loop.run_until(START + 120)
    assert seen == []


def test_a_late_subscriber_waits_for_the_next_boundary() -> None:
    bus, _clock, loop, _, _ = setup()
    loop.run_until(START + 7)  # 1_700_000_009.5
    seen: list[Event] = []
    bus.subscribe("TICK_5", seen.append)
    loop.run_until(START + 8)
    assert [e.payload() for e in seen] == ["when:1700000010"]


def test_a_timer_firing_before_the_wall_boundary_is_armed_again_without_a_tick() -> None:
    _, clock, loop, _, seen = setup("TICK_5")
    timer = loop.pending()[0]
    loop.timers.remove(timer)
    clock.advance(2.0)  # fires half a second early on the wall clock
    timer.callback()
    assert seen == [] and loop.pending()[0].at == 1_700_000_005
    loop.run_until(1_700_000_005)
    assert [e.payload() for e in seen] == ["when:1700000005"]


def test_a_wall_clock_jump_gives_one_tick_for_the_new_slice() -> None:
    _, clock, loop, _, seen = setup("TICK_5")
    timer = loop.pending()[0]
    loop.timers.remove(timer)
    clock.advance(3600)  # the machine slept
    timer.callback()
    assert [e.payload() for e in seen] == ["when:1700003600"]


def test_a_subscriber_that_unsubscribes_on_a_tick_stops_the_timer() -> None:
    bus = EventBus()
    clock = FakeClock(wall=START)
    loop = FakeLoop(clock)
    ticks = Ticks(bus, clock, loop)
    seen: list[Event] = []

    def once(event: Event) -> None:
        seen.append(event)
        bus.unsubscribe("TICK_5", once)

    bus.subscribe("TICK_5", once)
    ticks.start()
    loop.run_until(START + 30)
    assert len(seen) == 1 and not ticks.armed


def test_close_cancels_the_timer_and_ignores_later_subscriptions() -> None:
    bus, _, loop, ticks, _ = setup("TICK_5")
    ticks.close()
    bus.subscribe("TICK_60", lambda event: None)
    assert not ticks.armed and loop.pending() == []


async def test_on_a_real_loop_the_timer_is_a_loop_timer() -> None:
    loop = asyncio.get_running_loop()
    bus = EventBus()
    ticks = Ticks(bus, SystemClock(), loop)
    ticks.start()
    assert not ticks.armed
    bus.subscribe("TICK_3600", lambda event: None)
    assert ticks.armed
    ticks.close()
