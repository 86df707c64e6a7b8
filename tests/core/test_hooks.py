"""pre_start hooks in the pure machine (issue 15), on the fake clock: the spawn a hook delays,
a stop while it runs, a failed hook as a failed spawn, startsecs counted from the child; and
the next attempt time each state change carries for the events."""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis.stateful import invariant, precondition, rule

from tests.core.test_machine import Lifecycle, apply, changes, logs, program
from vigil.clock import FakeClock
from vigil.config.model import AutoRestart
from vigil.core.machine import CancelSpawn, Input, ProcessMachine, Spawn, StateChange
from vigil.core.states import ProcessState as S


def pending(clock: FakeClock, **options: object) -> ProcessMachine:
    """A machine that asked for a spawn the runtime has not made yet (pre_start runs)."""
    m = ProcessMachine(program(**{"startretries": 2, **options}), clock)
    assert Spawn() in m.start()
    assert m.state is S.STARTING and m.pid == 0
    return m


# -- STARTING before the child exists: every input decided ---------------------------------

PENDING_ALLOWED = {name: {S.STARTING} for name in Input.ALL}
PENDING_ALLOWED[Input.STOP] = {S.STOPPED}
PENDING_ALLOWED[Input.SPAWN_FAILED] = {S.BACKOFF}
PENDING_ALLOWED[Input.SIGNAL_FAILED] = {S.UNKNOWN}


@pytest.mark.parametrize("name", Input.ALL)
def test_every_input_while_the_spawn_waits_for_its_hook(name: str) -> None:
    clock = FakeClock()
    m = pending(clock)
    apply(m, clock, name)
    assert m.state in PENDING_ALLOWED[name]
    if m.state is S.STARTING:
        assert m.deadline is None or m.pid  # nothing times the hook but the runtime


def test_a_stop_while_pre_start_runs_cancels_the_spawn_and_ends_stopped() -> None:
    clock = FakeClock()
    m = pending(clock)
    clock.advance(3)
    effects = m.stop()
    assert CancelSpawn() in effects
    assert changes(effects) == [(S.STARTING, S.STOPPED)]
    assert logs(effects) == ["stopped: p (before it was spawned)"]
    assert m.laststop == clock.time() and m.deadline is None and not m.killing
    # a spawn that comes anyway (the hook ended in the same turn) changes nothing
    assert m.spawned(42) == [] and m.state is S.STOPPED and m.pid == 0
    assert m.spawn_failed("late") == [] and m.spawnerr is None


def test_a_failed_pre_start_is_a_failed_spawn_until_fatal() -> None:
    clock = FakeClock()
    m = pending(clock)
    effects = m.spawn_failed("pre_start exited with status 3")
    assert changes(effects) == [(S.STARTING, S.BACKOFF)]
    assert "spawnerr: pre_start exited with status 3" in logs(effects)
    for _ in range(2):
        clock.advance(60)
        assert Spawn() in m.deadline_reached()
        m.spawn_failed("pre_start exited with status 3")
    assert m.state is S.FATAL and m.spawnerr == "pre_start exited with status 3"


def test_startsecs_counts_from_the_child_not_from_pre_start() -> None:
    clock = FakeClock()
    m = pending(clock, startsecs=2)
    clock.advance(10)  # a slow pre_start
    m.spawned(42)
    assert m.deadline == clock.monotonic() + 2
    clock.advance(1)
    assert m.exited(0, "exit status 0") and m.state is S.BACKOFF  # too quick, whatever the hook


# -- the next attempt each change carries ---------------------------------------------------


def next_attempts(effects: list[object]) -> list[tuple[S, float | None]]:
    return [(e.new, e.next_attempt) for e in effects if isinstance(e, StateChange)]


def test_backoff_carries_its_retry_time_and_fatal_none_without_fatal_retry() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=1), clock)
    m.start()
    assert next_attempts(m.spawn_failed("x")) == [(S.BACKOFF, clock.monotonic() + 1)]
    clock.advance(1)
    m.deadline_reached()
    assert next_attempts(m.spawn_failed("x")) == [
        (S.BACKOFF, clock.monotonic() + 2),
        (S.FATAL, None),
    ]


def test_fatal_carries_its_fatal_retry_and_nothing_while_the_daemon_stops() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=0, fatal_retry=30.0), clock)
    m.start()
    assert next_attempts(m.spawn_failed("x"))[-1] == (S.FATAL, clock.monotonic() + 30)
    m.start()
    m.may_spawn = False
    assert next_attempts(m.spawn_failed("x")) == [(S.BACKOFF, None), (S.FATAL, None)]


def test_a_restart_delay_carries_its_time() -> None:
    clock = FakeClock()
    m = ProcessMachine(
        program(startsecs=0, restart_delay=5.0, autorestart=AutoRestart.UNEXPECTED), clock
    )
    m.start()
    m.spawned(42)
    assert next_attempts(m.exited(1, "exit status 1")) == [
        (S.EXITED, None),
        (S.BACKOFF, clock.monotonic() + 5),
    ]


# -- invariants with spawns that wait for a hook ----------------------------------------------


class HookedLifecycle(Lifecycle):
    """Random histories where each spawn waits for its pre_start, which passes or fails
    later, and stops may come in between."""

    OPTIONS: ClassVar[dict[str, object]] = {"pre_start": "true"}

    def _check(self, effects: list[object]) -> None:
        spawns = [e for e in effects if isinstance(e, Spawn)]
        cancels = [e for e in effects if isinstance(e, CancelSpawn)]
        assert len(spawns) + len(cancels) <= 1
        if cancels:
            assert self.m.state is S.STOPPED and self.m.pid == 0
        state = self.previous
        for change in [e for e in effects if isinstance(e, StateChange)]:
            assert change.old is state and change.new is not change.old
            if change.new is S.FATAL:
                assert change.old in self.FATAL_FROM
            state = change.new
        assert state is self.m.state
        self.previous = state

    def _waiting_for_hook(self) -> bool:
        return self.m.state is S.STARTING and self.m.pid == 0

    @precondition(_waiting_for_hook)
    @rule()
    def pre_start_passes(self) -> None:
        self._check(self.m.spawned(self.next_pid))
        self.next_pid += 1

    @precondition(_waiting_for_hook)
    @rule()
    def pre_start_fails(self) -> None:
        self._check(self.m.spawn_failed("pre_start exited with status 3"))

    @invariant()
    def deadline_when_waiting(self) -> None:
        if self._waiting_for_hook():
            assert self.m.deadline is None  # the hook's timeout is the runtime's
        elif self.m.state in (S.STARTING, S.BACKOFF, S.STOPPING):
            assert self.m.deadline is not None
        if self.m.state in (S.STOPPED, S.EXITED, S.RUNNING):
            assert self.m.deadline is None
        if self.m.state is S.FATAL:
            assert self.m.deadline is None  # no fatal_retry here


HookedLifecycle.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
test_hooked_lifecycle_invariants = HookedLifecycle.TestCase
