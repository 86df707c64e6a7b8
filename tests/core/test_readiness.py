"""Readiness in the pure machine (issue 14), on the fake clock: a probe's `ready`, the
ready_timeout that fails a start, EXTEND_TIMEOUT_USEC's `extend`, the watchdog, a restart asked
from outside (a health check) and `blocked` (a dependency that will not come)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis.stateful import invariant, rule

from tests.core.test_machine import (
    ALLOWED,
    Lifecycle,
    apply,
    changes,
    logs,
    machine_in,
    program,
)
from vigil.clock import FakeClock
from vigil.config.model import AutoRestart, ProbeKind
from vigil.config.probes import Probe
from vigil.core.machine import SIGKILL, Input, Kill, ProcessMachine, Spawn
from vigil.core.states import ProcessState as S

SIGTERM = 15
TCP = Probe(ProbeKind.TCP, "tcp://127.0.0.1:8080", host="127.0.0.1", port=8080)
READY = {"ready": TCP, "ready_timeout": 5.0}


def started(clock: FakeClock, **options: object) -> ProcessMachine:
    m = ProcessMachine(program(**{**READY, **options}), clock)
    m.start()
    m.spawned(42)
    return m


def test_a_probe_not_startsecs_makes_it_running() -> None:
    clock = FakeClock()
    m = started(clock, startsecs=1)
    assert m.deadline == clock.monotonic() + 5  # ready_timeout, not startsecs
    clock.advance(2)
    assert m.deadline_reached() == [] and m.state is S.STARTING
    effects = m.ready()
    assert changes(effects) == [(S.STARTING, S.RUNNING)]
    assert logs(effects) == [
        "success: p entered RUNNING state, process is ready (ready = tcp://127.0.0.1:8080)"
    ]
    assert m.deadline is None and m.backoff == 0


def test_startsecs_zero_does_not_skip_the_probe() -> None:
    m = started(FakeClock(), startsecs=0)
    assert m.state is S.STARTING


def test_ready_twice_or_without_a_probe_changes_nothing() -> None:
    clock = FakeClock()
    m = started(clock)
    m.ready()
    assert m.ready() == [] and m.state is S.RUNNING
    plain = ProcessMachine(program(startsecs=5), clock)
    plain.start()
    plain.spawned(1)
    assert plain.ready() == [] and plain.state is S.STARTING  # startsecs decides alone


def test_an_exit_before_ready_is_a_failed_start_whatever_its_code() -> None:
    clock = FakeClock()
    m = started(clock, startsecs=0, startretries=1)
    clock.advance(30)  # long past startsecs: still not ready
    effects = m.exited(0, "exit status 0")
    assert changes(effects) == [(S.STARTING, S.BACKOFF)]
    assert m.spawnerr == "Exited before it was ready (ready = tcp://127.0.0.1:8080)"
    assert m.backoff == 1 and m.deadline == clock.monotonic() + 1
    clock.advance(1)
    assert Spawn() in m.deadline_reached()
    m.spawned(43)
    assert changes(m.exited(1, "exit status 1")) == [(S.STARTING, S.BACKOFF), (S.BACKOFF, S.FATAL)]


def test_ready_timeout_stops_the_child_then_backs_off() -> None:
    clock = FakeClock()
    m = started(clock, stopwaitsecs=3, stopsignal=SIGTERM)
    clock.advance(5)
    effects = m.deadline_reached()
    assert Kill(SIGTERM, False) in effects and changes(effects) == []
    assert logs(effects) == [
        "not ready: p (Not ready within 5 seconds (ready_timeout)), stopping it"
    ]
    assert m.state is S.STARTING and m.deadline == clock.monotonic() + 3
    assert m.ready() == [] and m.state is S.STARTING  # too late: it is being stopped
    clock.advance(3)
    assert Kill(SIGKILL, False) in m.deadline_reached()  # did not go: SIGKILL
    effects = m.exited(-1, "terminated by SIGKILL", 9)
    assert changes(effects) == [(S.STARTING, S.BACKOFF)]
    assert m.spawnerr == "Not ready within 5 seconds (ready_timeout)"
    assert m.pid == 0 and m.backoff == 1


def test_a_stop_while_failing_the_start_ends_stopped() -> None:
    clock = FakeClock()
    m = started(clock)
    clock.advance(5)
    m.deadline_reached()
    assert changes(m.stop()) == [(S.STARTING, S.STOPPING)]
    assert changes(m.exited(-1, "terminated by SIGTERM")) == [(S.STOPPING, S.STOPPED)]


def test_extend_pushes_the_start_deadline_never_nearer() -> None:
    clock = FakeClock()
    m = started(clock)
    m.extend(20)
    assert m.deadline == clock.monotonic() + 20
    m.extend(1)
    assert m.deadline == clock.monotonic() + 20
    clock.advance(19)
    assert m.deadline_reached() == [] and m.state is S.STARTING


def test_extend_in_stopping_delays_the_sigkill() -> None:
    clock = FakeClock()
    m = started(clock, stopwaitsecs=2)
    m.ready()
    m.stop()
    m.extend(10)
    clock.advance(5)
    assert m.deadline_reached() == []


def test_watchdog_missed_restarts_the_process() -> None:
    clock = FakeClock()
    m = started(clock, watchdog_sec=3.0, autorestart=AutoRestart.NEVER)
    m.ready()
    assert m.deadline == clock.monotonic() + 3
    clock.advance(2)
    m.watchdog()
    assert m.deadline == clock.monotonic() + 3
    clock.advance(3)
    effects = m.deadline_reached()
    assert changes(effects) == [(S.RUNNING, S.STOPPING)] and Kill(SIGTERM, False) in effects
    assert logs(effects) == ["restarting: p (no WATCHDOG=1 within 3 seconds)"]
    effects = m.exited(-1, "terminated by SIGTERM", SIGTERM)
    assert changes(effects) == [(S.STOPPING, S.STOPPED), (S.STOPPED, S.STARTING)]
    assert Spawn() in effects and m.restarts == 1


def test_watchdog_with_startsecs_arms_at_running() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startsecs=1, watchdog_sec=4.0), clock)
    m.start()
    m.spawned(1)
    clock.advance(1)
    m.deadline_reached()
    assert m.state is S.RUNNING and m.deadline == clock.monotonic() + 4


def test_a_stop_cancels_an_asked_restart() -> None:
    clock = FakeClock()
    m = started(clock)
    m.ready()
    m.restart("unhealthy")
    m.stop()
    effects = m.exited(-1, "terminated by SIGTERM")
    assert changes(effects) == [(S.STOPPING, S.STOPPED)] and Spawn() not in effects


def test_no_restart_while_the_daemon_stops() -> None:
    clock = FakeClock()
    m = started(clock)
    m.ready()
    m.restart("unhealthy")
    m.may_spawn = False
    assert changes(m.exited(-1, "terminated by SIGTERM")) == [(S.STOPPING, S.STOPPED)]


def test_restart_respects_start_limit() -> None:
    clock = FakeClock()
    m = started(clock, start_limit=(1, 60.0))
    m.ready()
    m.restart("unhealthy")
    effects = m.exited(-1, "terminated by SIGTERM")
    assert changes(effects) == [(S.STOPPING, S.STOPPED), (S.STOPPED, S.FATAL)]


def test_blocked_turns_a_waiting_process_fatal_saying_why() -> None:
    m = ProcessMachine(program(), FakeClock())
    effects = m.blocked("dependency db is FATAL")
    assert changes(effects) == [(S.STOPPED, S.FATAL)]
    assert m.spawnerr == "dependency db is FATAL"
    assert logs(effects) == ["gave up: p entered FATAL state, dependency db is FATAL"]
    assert changes(m.start()) == [(S.FATAL, S.STARTING)]  # a start asked for tries again


# -- every (state, input) pair with a probe and a watchdog ----------------------------------

READY_ALLOWED = dict(ALLOWED)
READY_ALLOWED[(S.STARTING, Input.DEADLINE)] = {S.STARTING}  # ready_timeout: stopping it
READY_ALLOWED[(S.STARTING, Input.READY)] = {S.RUNNING}
READY_ALLOWED[(S.RUNNING, Input.DEADLINE)] = {S.STOPPING}  # watchdog missed
WITH_PROBE = {**READY, "watchdog_sec": 2.0}


def probe_machine_in(state: S) -> tuple[ProcessMachine, FakeClock]:
    """machine_in's states, RUNNING reached by `ready` (a probe's deadline fails the start)."""
    if state not in (S.RUNNING, S.STOPPING, S.EXITED, S.UNKNOWN):
        return machine_in(state, **WITH_PROBE)
    clock = FakeClock()
    m = ProcessMachine(program(startretries=2, **WITH_PROBE), clock)
    m.start()
    m.spawned(1)
    m.ready()
    if state is S.STOPPING:
        m.stop()
    elif state is S.EXITED:
        m.exited(0, "exit status 0")
    elif state is S.UNKNOWN:
        m.signal_failed("x")
    assert m.state is state
    return m, clock


@pytest.mark.parametrize("state", list(S), ids=lambda s: s.name)
@pytest.mark.parametrize("name", Input.ALL)
def test_every_state_input_pair_with_a_probe(state: S, name: str) -> None:
    m, clock = probe_machine_in(state)
    apply(m, clock, name)
    assert m.state in READY_ALLOWED[(state, name)]


# -- invariants under random histories ------------------------------------------------------


class ReadyLifecycle(Lifecycle):
    OPTIONS: ClassVar[dict[str, object]] = {**WITH_PROBE, "start_limit": (5, 10.0)}
    FATAL_FROM: ClassVar[tuple[S, ...]] = (S.BACKOFF, S.STOPPED, S.EXITED, S.FATAL)

    @rule()
    def ready(self) -> None:
        self._check(self.m.ready())

    @rule()
    def alive(self) -> None:
        self._check(self.m.watchdog())

    @rule()
    def extend(self) -> None:
        self._check(self.m.extend(3))

    @rule()
    def restart(self) -> None:
        self._check(self.m.restart("unhealthy"))

    @rule()
    def blocked(self) -> None:
        self._check(self.m.blocked("dependency x is FATAL"))

    @invariant()
    def deadline_when_waiting(self) -> None:
        if self.m.state in (S.STARTING, S.BACKOFF, S.STOPPING, S.RUNNING):
            assert self.m.deadline is not None  # RUNNING: the watchdog
        if self.m.state in (S.STOPPED, S.EXITED):
            assert self.m.deadline is None


ReadyLifecycle.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_ready_lifecycle_invariants = ReadyLifecycle.TestCase
