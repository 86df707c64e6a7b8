"""Options changed in place (update_in_place, issue 19), on a fake clock: the machine keeps
its state, pid, counts and any pending deadline, and decides from then on with the new values."""

from __future__ import annotations

from tests.core.test_machine import changes, program, reconfigure, running
from vigil.clock import FakeClock
from vigil.config.model import AutoRestart, Backoff
from vigil.config.probes import ready_probe
from vigil.core.machine import Kill, ProcessMachine, Spawn, StateChange
from vigil.core.states import ProcessState as S


def _machine(**options: object) -> tuple[ProcessMachine, FakeClock]:
    clock = FakeClock()
    return ProcessMachine(program(**{"startsecs": 1, **options}), clock), clock


def test_autorestart_off_in_place_keeps_the_child_and_is_not_restarted_after() -> None:
    m, clock = _machine(autorestart=AutoRestart.ALWAYS)
    running(m, clock, pid=42)
    effects = reconfigure(m, autorestart=AutoRestart.NEVER)
    assert effects == []
    assert (m.state, m.pid) == (S.RUNNING, 42)
    assert changes(m.exited(1, "exit status 1")) == [(S.RUNNING, S.EXITED)]
    assert m.deadline is None


def test_exitcodes_in_place_decide_the_next_exit() -> None:
    m, clock = _machine(autorestart=AutoRestart.UNEXPECTED)
    running(m, clock)
    reconfigure(m, exitcodes=(0, 3))
    effects = m.exited(3, "exit status 3")
    assert changes(effects) == [(S.RUNNING, S.EXITED)]
    assert not [e for e in effects if isinstance(e, Spawn)]


def test_stopsignal_and_stopwaitsecs_in_place_apply_to_the_next_stop() -> None:
    m, clock = _machine(stopwaitsecs=10)
    running(m, clock)
    reconfigure(m, stopsignal=2, stopwaitsecs=3)
    effects = m.stop()
    assert Kill(2, False) in effects
    assert m.deadline == clock.monotonic() + 3


def test_a_pending_backoff_keeps_its_time_and_the_next_one_uses_the_new_backoff() -> None:
    m, clock = _machine(startretries=5)
    m.start()
    m.spawn_failed("x")
    assert m.deadline == clock.monotonic() + 1  # Supervisor's: 1 s after the first failure
    pending = m.deadline
    reconfigure(m, startretries=5, backoff=Backoff.FIXED, backoff_delay=7.0)
    assert (m.state, m.deadline, m.backoff) == (S.BACKOFF, pending, 1)
    assert m.wait_reason == "retry 1 of 5"  # the wait is explained once the policy is vigil's
    clock.advance(1)
    m.deadline_reached()
    m.spawn_failed("x")
    assert m.deadline == clock.monotonic() + 7  # the second wait: fixed 7 s


def test_startretries_raised_in_place_gives_more_retries() -> None:
    m, clock = _machine(startretries=1)
    m.start()
    m.spawn_failed("x")
    reconfigure(m, startretries=3)
    for _ in range(2):
        clock.advance(10)
        m.deadline_reached()
        m.spawn_failed("x")
        assert m.state is S.BACKOFF
    assert m.wait_reason is None  # Supervisor's policy again: Supervisor's description


def test_startretries_forever_in_place_explains_the_pending_wait() -> None:
    m, _clock = _machine(startretries=3)
    m.start()
    m.spawn_failed("x")
    reconfigure(m, startretries=-1)
    assert m.wait_reason == "retry 1, startretries = -1"
    assert m.next_attempt == m.deadline


def test_a_start_in_progress_keeps_its_readiness_rule_the_next_start_takes_the_new() -> None:
    m, clock = _machine(startsecs=5)
    m.start()
    m.spawned(42)
    reconfigure(m, ready=ready_probe("tcp://127.0.0.1:1"), ready_timeout=30.0)
    clock.advance(5)
    m.deadline_reached()
    assert m.state is S.RUNNING  # by startsecs, as it began
    m.stop()
    m.exited(0, "terminated by SIGTERM")
    m.start()
    m.spawned(43)
    assert m.deadline == clock.monotonic() + 30  # ready_timeout now
    clock.advance(5)
    m.deadline_reached()
    assert m.state is S.STARTING
    assert next(c for c in m.ready() if isinstance(c, StateChange)).new is S.RUNNING
