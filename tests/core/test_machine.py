"""Supervisor's lifecycle rules, checked on a fake clock (no sleeping, no processes)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from vigil.clock import FakeClock
from vigil.config.model import AutoRestart, LogLevel, ProcessConfig
from vigil.core.machine import SIGKILL, Input, Kill, Log, ProcessMachine, Spawn, StateChange
from vigil.core.ready_policy import ReadyPolicy
from vigil.core.restart_policy import RestartPolicy
from vigil.core.snapshot import ExitReason
from vigil.core.states import ProcessState as S

SIGTERM = 15


def program(**options: object) -> ProcessConfig:
    return dataclasses.replace(ProcessConfig(name="p", group="p", command="x"), **options)  # type: ignore[arg-type]


def changes(effects: list[object]) -> list[tuple[S, S]]:
    return [(e.old, e.new) for e in effects if isinstance(e, StateChange)]


def logs(effects: list[object]) -> list[str]:
    return [e.message for e in effects if isinstance(e, Log)]


def running(machine: ProcessMachine, clock: FakeClock, pid: int = 42) -> None:
    machine.start()
    machine.spawned(pid)
    clock.advance(machine.config.startsecs)
    machine.deadline_reached()
    assert machine.state is S.RUNNING


def test_start_spawns_and_becomes_running_after_startsecs() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startsecs=2), clock)
    effects = m.start()
    assert changes(effects) == [(S.STOPPED, S.STARTING)] and Spawn() in effects
    assert logs(m.spawned(42)) == ["spawned: 'p' with pid 42"]
    assert m.deadline == clock.monotonic() + 2
    clock.advance(1.9)
    assert m.deadline_reached() == [] and m.state is S.STARTING
    clock.advance(0.1)
    effects = m.deadline_reached()
    assert changes(effects) == [(S.STARTING, S.RUNNING)]
    assert logs(effects) == [
        "success: p entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)"
    ]
    assert m.deadline is None and m.backoff == 0


def test_startsecs_zero_is_running_at_once() -> None:
    m = ProcessMachine(program(startsecs=0), FakeClock())
    m.start()
    assert changes(m.spawned(7)) == [(S.STARTING, S.RUNNING)]


def test_exit_too_fast_backs_off_k_seconds_then_fatal_after_startretries() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startsecs=1, startretries=3), clock)
    m.start()
    spawns = 1
    for k in range(1, 4):
        m.spawned(100 + k)
        clock.advance(0.5)
        effects = m.exited(0, "exit status 0")  # an expected code before startsecs still fails
        assert changes(effects) == [(S.STARTING, S.BACKOFF)]
        assert m.spawnerr == "Exited too quickly (process log may have details)"
        assert m.backoff == k and m.deadline == clock.monotonic() + k
        clock.advance(k - 0.01)
        assert m.deadline_reached() == []
        clock.advance(0.01)
        assert Spawn() in m.deadline_reached()
        spawns += 1
    m.spawned(200)
    clock.advance(0.5)
    effects = m.exited(1, "exit status 1")
    assert changes(effects) == [(S.STARTING, S.BACKOFF), (S.BACKOFF, S.FATAL)]
    assert logs(effects)[-1] == (
        "gave up: p entered FATAL state, too many start retries too quickly"
    )
    assert spawns == 4 and m.deadline is None and m.state is S.FATAL


def test_backoff_event_reports_tries() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=5), clock)
    m.start()
    m.spawned(1)
    effects = m.exited(1, "exit status 1")
    (change,) = [e for e in effects if isinstance(e, StateChange)]
    assert change.tries == 1 and change.pid == 1


def test_spawn_failure_backs_off_with_message() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=0), clock)
    m.start()
    effects = m.spawn_failed("can't find command 'nosuch'")
    assert changes(effects) == [(S.STARTING, S.BACKOFF), (S.BACKOFF, S.FATAL)]
    assert "spawnerr: can't find command 'nosuch'" in logs(effects)
    assert m.spawnerr == "can't find command 'nosuch'"


@pytest.mark.parametrize(
    ("policy", "code", "restarts"),
    [
        (AutoRestart.NEVER, 0, False),
        (AutoRestart.NEVER, 3, False),
        (AutoRestart.UNEXPECTED, 0, False),
        (AutoRestart.UNEXPECTED, 3, True),
        (AutoRestart.ALWAYS, 0, True),
        (AutoRestart.ALWAYS, 3, True),
    ],
)
def test_autorestart_against_exitcodes(policy: AutoRestart, code: int, restarts: bool) -> None:
    clock = FakeClock()
    m = ProcessMachine(program(autorestart=policy, exitcodes=(0,)), clock)
    running(m, clock)
    effects = m.exited(code, f"exit status {code}")
    expected = code == 0
    exit_change = next(e for e in effects if isinstance(e, StateChange))
    assert (exit_change.old, exit_change.new, exit_change.expected) == (
        S.RUNNING,
        S.EXITED,
        expected,
    )
    assert exit_change.pid == 42
    assert m.exitstatus == (None if restarts else code)  # a respawn clears it, as Supervisor's
    assert (Spawn() in effects) is restarts
    assert m.state is (S.STARTING if restarts else S.EXITED)
    level = next(e.level for e in effects if isinstance(e, Log))
    assert level is (LogLevel.INFO if expected else LogLevel.WARN)
    if not expected:
        assert m.spawnerr is None if restarts else m.spawnerr == f"Bad exit code {code}"


def test_no_autorestart_while_the_daemon_stops() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(autorestart=AutoRestart.ALWAYS), clock)
    running(m, clock)
    m.may_spawn = False
    assert Spawn() not in m.exited(0, "exit status 0") and m.state is S.EXITED


def test_exit_after_startsecs_before_the_timer_fired_counts_as_running() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startsecs=1), clock)
    m.start()
    m.spawned(5)
    clock.advance(1.5)
    effects = m.exited(0, "exit status 0")
    assert changes(effects) == [(S.STARTING, S.RUNNING), (S.RUNNING, S.EXITED)]


def test_stop_sends_stopsignal_then_sigkill_every_stopwaitsecs() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(stopsignal=SIGTERM, stopwaitsecs=10), clock)
    running(m, clock)
    effects = m.stop()
    assert changes(effects) == [(S.RUNNING, S.STOPPING)]
    assert Kill(SIGTERM, False) in effects and m.deadline == clock.monotonic() + 10
    clock.advance(10)
    effects = m.deadline_reached()
    assert Kill(SIGKILL, False) in effects
    assert logs(effects) == ["killing 'p' (42) with SIGKILL"]
    clock.advance(10)
    assert Kill(SIGKILL, False) in m.deadline_reached()  # still alive: again
    effects = m.exited(-1, "terminated by SIGKILL")
    assert changes(effects) == [(S.STOPPING, S.STOPPED)]
    assert logs(effects) == ["stopped: p (terminated by SIGKILL)"]
    assert m.pid == 0 and m.deadline is None


def test_stopasgroup_and_killasgroup_target_the_group() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(stopasgroup=True, killasgroup=True, stopwaitsecs=1), clock)
    running(m, clock)
    assert Kill(SIGTERM, True) in m.stop()
    clock.advance(1)
    assert Kill(SIGKILL, True) in m.deadline_reached()


def test_stop_in_backoff_goes_straight_to_stopped() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(), clock)
    m.start()
    m.spawned(1)
    m.exited(1, "exit status 1")
    effects = m.stop()
    assert changes(effects) == [(S.BACKOFF, S.STOPPED)] and m.deadline is None


def test_stop_while_starting_ends_stopped_not_backoff() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startsecs=5), clock)
    m.start()
    m.spawned(9)
    m.stop()
    assert changes(m.exited(-1, "terminated by SIGTERM")) == [(S.STOPPING, S.STOPPED)]


def test_stopped_with_unexpected_code_logs_a_warning() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(), clock)
    running(m, clock)
    m.stop()
    (log,) = [e for e in m.exited(-1, "terminated by SIGTERM") if isinstance(e, Log)]
    assert log.level is LogLevel.WARN


def test_last_exit_says_how_and_whether_expected() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(exitcodes=(0, 2), startsecs=1, autorestart=AutoRestart.NEVER), clock)
    assert m.last_exit is None
    running(m, clock)
    m.exited(2, "exit status 2")
    assert m.last_exit == ExitReason(2, None, expected=True)
    running(m, clock)
    m.exited(-1, "terminated by SIGSEGV", signal=11)
    assert m.last_exit == ExitReason(-1, 11, expected=False)
    running(m, clock)
    m.stop()
    m.exited(-1, "terminated by SIGTERM", signal=SIGTERM)
    assert m.last_exit == ExitReason(-1, SIGTERM, expected=True)  # asked for
    m.start()
    m.spawned(7)
    m.exited(0, "exit status 0")  # before startsecs: a failed start, whatever the code
    assert m.last_exit == ExitReason(0, None, expected=False)


def test_restarts_count_spawns_on_its_own_until_a_start_request() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(autorestart=AutoRestart.ALWAYS, startsecs=1), clock)
    running(m, clock)
    assert m.restarts == 0
    m.exited(0, "exit status 0")  # RUNNING -> EXITED -> STARTING: autorestart
    assert m.restarts == 1
    m.spawned(43)
    m.exited(1, "exit status 1")  # too quick: BACKOFF
    assert m.restarts == 1
    clock.advance(1)
    m.deadline_reached()  # BACKOFF -> STARTING: a retry
    assert m.restarts == 2
    m.spawned(44)
    m.stop()
    m.exited(-1, "terminated by SIGTERM")
    assert m.restarts == 2  # kept until the next start request
    m.start()
    assert m.restarts == 0
    m.start()  # refused (already starting): changes nothing
    assert m.restarts == 0 and m.state is S.STARTING


def test_signal_failure_enters_unknown() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(), clock)
    running(m, clock)
    assert changes(m.signal_failed("boom")) == [(S.RUNNING, S.UNKNOWN)]


# -- every (state, input) pair is decided -------------------------------------------------


def machine_in(state: S, **options: object) -> tuple[ProcessMachine, FakeClock]:
    """A machine brought to `state` by real inputs (with `options` on top of startretries=2)."""
    clock = FakeClock()
    m = ProcessMachine(program(startretries=2, **options), clock)
    if state is S.STOPPED:
        return m, clock
    if state is S.UNKNOWN:
        running(m, clock)
        m.signal_failed("x")
        return m, clock
    m.start()
    if state is S.STARTING:
        m.spawned(1)
    elif state is S.BACKOFF:
        m.spawn_failed("x")
    elif state is S.FATAL:
        for _ in range(3):
            m.spawn_failed("x")
            clock.advance(5)
            m.deadline_reached()
    else:
        m.spawned(1)
        clock.advance(1)
        m.deadline_reached()
        if state is S.STOPPING:
            m.stop()
        elif state is S.EXITED:
            m.exited(0, "exit status 0")
    assert m.state is state
    return m, clock


ALLOWED: dict[tuple[S, str], set[S]] = {}
for state in S:
    for name in Input.ALL:
        ALLOWED[(state, name)] = {state}
for state in (S.STOPPED, S.EXITED, S.FATAL, S.BACKOFF):
    ALLOWED[(state, Input.START)] = {S.STARTING}
ALLOWED[(S.STARTING, Input.SPAWN_FAILED)] = {S.STARTING}  # a pid is already known: ignored
ALLOWED[(S.STARTING, Input.STOP)] = {S.STOPPING}
ALLOWED[(S.RUNNING, Input.STOP)] = {S.STOPPING}
ALLOWED[(S.BACKOFF, Input.STOP)] = {S.STOPPED}
ALLOWED[(S.STARTING, Input.EXITED)] = {S.BACKOFF}
ALLOWED[(S.RUNNING, Input.EXITED)] = {S.EXITED, S.STARTING}  # autorestart=unexpected
ALLOWED[(S.UNKNOWN, Input.EXITED)] = {S.EXITED, S.STARTING}  # the exit tells us what it did
ALLOWED[(S.STOPPING, Input.EXITED)] = {S.STOPPED}
ALLOWED[(S.STARTING, Input.DEADLINE)] = {S.RUNNING}
ALLOWED[(S.BACKOFF, Input.DEADLINE)] = {S.STARTING}
for state in S:
    ALLOWED[(state, Input.SIGNAL_FAILED)] = {S.UNKNOWN}
ALLOWED[(S.BACKOFF, Input.GIVE_UP)] = {S.FATAL}
# readiness inputs (issue 14): without a ready probe or watchdog, ready, extend and watchdog
# change nothing; a restart stops a child that has one; blocked fails a process that waited
ALLOWED[(S.STARTING, Input.RESTART)] = {S.STOPPING}
ALLOWED[(S.RUNNING, Input.RESTART)] = {S.STOPPING}
for state in (S.STOPPED, S.EXITED, S.FATAL):
    ALLOWED[(state, Input.BLOCKED)] = {S.FATAL}


def apply(m: ProcessMachine, clock: FakeClock, name: str) -> None:
    if name == Input.DEADLINE:
        clock.advance(60)
    {
        Input.START: m.start,
        Input.STOP: m.stop,
        Input.SPAWNED: lambda: m.spawned(77),
        Input.SPAWN_FAILED: lambda: m.spawn_failed("x"),
        Input.EXITED: lambda: m.exited(1, "exit status 1"),
        Input.DEADLINE: m.deadline_reached,
        Input.SIGNAL_FAILED: lambda: m.signal_failed("x"),
        Input.GIVE_UP: m.give_up,
        Input.READY: m.ready,
        Input.EXTEND: lambda: m.extend(30),
        Input.WATCHDOG: m.watchdog,
        Input.RESTART: lambda: m.restart("x"),
        Input.BLOCKED: lambda: m.blocked("x"),
        Input.RECONFIGURE: lambda: reconfigure(
            m, startretries=5, backoff_delay=2.0, autorestart=AutoRestart.NEVER
        ),
    }[name]()


def reconfigure(m: ProcessMachine, **options: object) -> list[object]:
    """Give the machine its configuration with `options` changed, as update_in_place does."""
    config = dataclasses.replace(m.config, **options)  # type: ignore[arg-type]
    return list(m.reconfigure(config, RestartPolicy.of(config), ReadyPolicy.of(config)))


@pytest.mark.parametrize("state", list(S), ids=lambda s: s.name)
@pytest.mark.parametrize("name", Input.ALL)
def test_every_state_input_pair(state: S, name: str) -> None:
    m, clock = machine_in(state)
    apply(m, clock, name)
    assert m.state in ALLOWED[(state, name)]


# -- invariants under random histories ------------------------------------------------------


class Lifecycle(RuleBasedStateMachine):
    """Random histories on Supervisor's policy; subclasses (test_restart_policy.py) run the
    same rules and invariants on vigil's opt-in policies."""

    OPTIONS: ClassVar[dict[str, object]] = {}
    FATAL_FROM: ClassVar[tuple[S, ...]] = (S.BACKOFF,)

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.m = ProcessMachine(
            program(
                **{
                    "startsecs": 1,
                    "startretries": 2,
                    "autorestart": AutoRestart.UNEXPECTED,
                    **self.OPTIONS,
                }
            ),
            self.clock,
            draw=self._draw,
        )
        self.draws = 0
        self.next_pid = 100
        self.previous = self.m.state

    def _check(self, effects: list[object]) -> None:
        state = self.previous
        for change in [e for e in effects if isinstance(e, StateChange)]:
            assert change.old is state and change.new is not change.old
            if change.new is S.FATAL:
                assert change.old in self.FATAL_FROM
            state = change.new
        assert state is self.m.state
        self.previous = state
        spawns = [e for e in effects if isinstance(e, Spawn)]
        assert len(spawns) <= 1
        if spawns:
            self._check(self.m.spawned(self.next_pid))
            self.next_pid += 1

    @rule()
    def start(self) -> None:
        self._check(self.m.start())

    @rule()
    def stop(self) -> None:
        self._check(self.m.stop())

    @precondition(lambda self: self.m.pid != 0)
    @rule(code=st.sampled_from([0, 1, -1]))
    def exit(self, code: int) -> None:
        self._check(self.m.exited(code, "x"))

    @rule(
        retries=st.sampled_from([0, 2, 5, -1]),
        autorestart=st.sampled_from(list(AutoRestart)),
        exitcodes=st.sampled_from([(0,), (0, 1)]),
    )
    def reconfigure(self, retries: int, autorestart: AutoRestart, exitcodes: tuple[int]) -> None:
        """update_in_place: new values, never a state change of its own."""
        effects = reconfigure(
            self.m, startretries=retries, autorestart=autorestart, exitcodes=exitcodes
        )
        assert not [e for e in effects if isinstance(e, StateChange)]
        self._check(effects)

    @rule(seconds=st.floats(0, 12))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._check(self.m.deadline_reached())

    @invariant()
    def pid_matches_state(self) -> None:
        if self.m.pid:
            assert self.m.state in (S.STARTING, S.RUNNING, S.STOPPING)
        if self.m.state in (S.RUNNING, S.STOPPING):
            assert self.m.pid

    @invariant()
    def killing_is_stopping(self) -> None:
        # supervisor.sendProcessStdin reads Supervisor's "killing" as the STOPPING state
        assert self.m.killing is (self.m.state is S.STOPPING)

    @invariant()
    def deadline_when_waiting(self) -> None:
        if self.m.state in (S.STARTING, S.BACKOFF, S.STOPPING):
            assert self.m.deadline is not None
        if self.m.state in (S.STOPPED, S.EXITED, S.RUNNING):
            assert self.m.deadline is None
        if self.m.state is S.FATAL:
            # FATAL holds a deadline only to leave it (fatal_retry), no later than that
            retry = self.m.policy.fatal_retry
            assert self.m.deadline is None or (
                retry > 0 and self.m.deadline <= self.clock.monotonic() + retry
            )

    @invariant()
    def next_attempt_is_explained(self) -> None:
        """A wait is visible: its time, and its reason when the policy is not Supervisor's."""
        waiting = self.m.next_attempt is not None
        assert waiting is (self.m.state in (S.BACKOFF, S.FATAL) and self.m.deadline is not None)
        if not self.m.policy.is_supervisors:
            assert (self.m.wait_reason is not None) is waiting
        else:
            assert self.m.wait_reason is None

    @invariant()
    def waits_respect_the_cap(self) -> None:
        cap = self.m.policy.backoff_max
        if cap is not None and self.m.state is S.BACKOFF and self.m.deadline is not None:
            assert self.m.deadline - self.clock.monotonic() <= cap

    def _draw(self) -> float:
        self.draws += 1
        return (self.draws * 0.37) % 1.0


Lifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
test_lifecycle_invariants = Lifecycle.TestCase
