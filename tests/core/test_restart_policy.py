"""vigil's opt-in restart policy (issue 15), decided by the pure machine on a fake clock: exact
delay sequences, caps, jitter bounds, resets after uptime, the flapping window, FATAL's
cool-down and oneshot tasks; every new (state, input) pair and the invariants under random
histories."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.test_machine import (
    ALLOWED,
    Lifecycle,
    apply,
    changes,
    logs,
    machine_in,
    program,
    running,
)
from vigil.clock import FakeClock
from vigil.config.model import AutoRestart, Backoff, ProgramType
from vigil.core.machine import Input, ProcessMachine, Spawn, StateChange
from vigil.core.restart_policy import RestartPolicy, StartLimit
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState as S


def fail_fast(m: ProcessMachine, clock: FakeClock, pid: int = 50) -> list[object]:
    """One failed start: the child exits before startsecs."""
    m.spawned(pid)
    clock.advance(0.1)
    return list(m.exited(1, "exit status 1"))


def waits(m: ProcessMachine, clock: FakeClock) -> Iterator[float]:
    """The successive retry waits of a program that never stays up, as the machine sets them."""
    m.start()
    while True:
        fail_fast(m, clock)
        if m.state is not S.BACKOFF:
            return
        assert m.deadline is not None
        wait = m.deadline - clock.monotonic()
        yield round(wait, 9)
        clock.advance(wait)
        if Spawn() not in m.deadline_reached():
            return  # refused: FATAL (start_limit)


def first_waits(n: int, **options: object) -> list[float]:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=-1, **options), clock)
    found = []
    for wait in waits(m, clock):
        found.append(wait)
        if len(found) == n:
            return found
    raise AssertionError(f"went {m.state.name} after {found}")


# -- the delay sequences ------------------------------------------------------------------------


def test_default_waits_are_supervisors_then_fatal() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=3), clock)
    assert list(waits(m, clock)) == [1, 2, 3] and m.state is S.FATAL
    assert m.policy.is_supervisors and m.wait_reason is None


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        ({"backoff_delay": 2.5}, [2.5, 5, 7.5, 10, 12.5, 15]),
        ({"backoff_max": 4}, [1, 2, 3, 4, 4, 4]),
        ({"backoff": Backoff.EXPONENTIAL}, [1, 2, 4, 8, 16, 32]),
        (
            {"backoff": Backoff.EXPONENTIAL, "backoff_delay": 0.5, "backoff_max": 5},
            [0.5, 1, 2, 4, 5, 5],
        ),
        ({"backoff": Backoff.FIXED, "backoff_delay": 3}, [3, 3, 3, 3, 3, 3]),
        ({"backoff": Backoff.FIXED, "backoff_delay": 3, "backoff_max": 2}, [2, 2, 2, 2, 2, 2]),
    ],
)
def test_retry_waits(options: dict[str, object], expected: list[float]) -> None:
    assert first_waits(6, **options) == expected


def test_retry_forever_never_goes_fatal() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=-1, backoff_max=1), clock)
    assert first_waits(500, backoff_max=1) == [1] * 500
    m.start()
    fail_fast(m, clock)
    assert m.wait_reason == "retry 1, startretries = -1"


def test_exponential_waits_stay_finite_far_out() -> None:
    policy = RestartPolicy(backoff=Backoff.EXPONENTIAL, backoff_max=60)
    assert policy.retry_delay(5000, 0.0) == 60
    assert RestartPolicy(backoff=Backoff.EXPONENTIAL).retry_delay(5000, 0.0) > 1e300


def test_jitter_comes_from_the_injected_draw() -> None:
    clock = FakeClock()
    draws = iter([0.0, 0.5, 0.999])
    m = ProcessMachine(
        program(startretries=-1, backoff=Backoff.FIXED, backoff_delay=8, backoff_jitter=0.25),
        clock,
        draw=lambda: next(draws),
    )
    found = []
    for wait in waits(m, clock):
        found.append(wait)
        if len(found) == 3:
            break
    assert found == [8, 7, round(8 * (1 - 0.25 * 0.999), 9)]


@given(
    n=st.integers(1, 60),
    draw=st.floats(0, 1, exclude_max=True),
    jitter=st.floats(0, 1),
    kind=st.sampled_from(Backoff),
    cap=st.one_of(st.none(), st.floats(0.1, 1000)),
)
@settings(max_examples=300, deadline=None)
def test_jitter_bounds(
    n: int, draw: float, jitter: float, kind: Backoff, cap: float | None
) -> None:
    """A jittered wait lies within (1 - jitter) of the plain one and never exceeds the cap."""
    policy = RestartPolicy(backoff=kind, backoff_max=cap, backoff_jitter=jitter)
    plain = dataclasses.replace(policy, backoff_jitter=0).retry_delay(n, 0.0)
    wait = policy.retry_delay(n, draw)
    assert plain * (1 - jitter) - 1e-9 <= wait <= plain
    if cap is not None:
        assert wait <= cap


def test_no_draw_is_taken_without_jitter() -> None:
    def refuse() -> float:
        raise AssertionError("drew a number without jitter")

    clock = FakeClock()
    m = ProcessMachine(program(restart_delay=1, autorestart=AutoRestart.ALWAYS), clock, draw=refuse)
    m.start()
    fail_fast(m, clock)
    assert m.state is S.BACKOFF and m.deadline == clock.monotonic() + 1


# -- reset after uptime ---------------------------------------------------------------------------


def test_tries_survive_a_short_run_with_backoff_reset_and_restart_after_a_long_one() -> None:
    clock = FakeClock()
    m = ProcessMachine(
        program(startretries=-1, backoff_reset=60, autorestart=AutoRestart.ALWAYS), clock
    )
    m.start()
    fail_fast(m, clock)
    clock.advance(1)
    m.deadline_reached()
    fail_fast(m, clock)
    assert m.backoff == 2
    clock.advance(2)
    m.deadline_reached()
    m.spawned(60)
    clock.advance(1)
    m.deadline_reached()
    assert m.state is S.RUNNING and m.backoff == 2  # not yet: Supervisor's would be 0
    clock.advance(10)
    m.exited(1, "exit status 1")  # ran 10 s < 60: restarted at once, tries kept
    fail_fast(m, clock)
    assert m.backoff == 3 and m.deadline == clock.monotonic() + 3
    clock.advance(3)
    m.deadline_reached()
    m.spawned(61)
    clock.advance(1)
    m.deadline_reached()
    clock.advance(60)
    m.exited(1, "exit status 1")  # ran 60 s: the count starts again
    fail_fast(m, clock)
    assert m.backoff == 1 and m.deadline == clock.monotonic() + 1


def test_without_backoff_reset_running_resets_tries_as_supervisor() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=-1, backoff=Backoff.EXPONENTIAL), clock)
    m.start()
    fail_fast(m, clock)
    clock.advance(1)
    m.deadline_reached()
    m.spawned(5)
    clock.advance(1)
    m.deadline_reached()
    assert m.state is S.RUNNING and m.backoff == 0


# -- restart_delay -------------------------------------------------------------------------------


def crash(m: ProcessMachine, clock: FakeClock, ran: float = 5) -> list[object]:
    """A RUNNING program crashes after `ran` seconds."""
    clock.advance(ran)
    return list(m.exited(3, "exit status 3"))


def test_restart_delay_waits_in_backoff_and_grows_with_the_backoff() -> None:
    clock = FakeClock()
    m = ProcessMachine(
        program(restart_delay=2, backoff=Backoff.EXPONENTIAL, backoff_max=10, backoff_reset=30),
        clock,
    )
    running(m, clock)
    found = []
    for n in range(1, 6):
        effects = crash(m, clock)
        assert changes(effects) == [(S.RUNNING, S.EXITED), (S.EXITED, S.BACKOFF)]
        (backoff,) = [e for e in effects if isinstance(e, StateChange) and e.new is S.BACKOFF]
        assert backoff.tries == n and m.crashes == n
        assert m.spawnerr == "Bad exit code 3"
        assert m.deadline is not None and m.next_attempt == m.deadline
        wait = m.deadline - clock.monotonic()
        assert m.wait_reason == f"restart {n} after a {wait:g} s restart_delay"
        found.append(wait)
        clock.advance(wait - 0.01)
        assert m.deadline_reached() == []
        clock.advance(0.01)
        assert Spawn() in m.deadline_reached() and m.restarts == n
        m.spawned(100 + n)
        clock.advance(1)
        m.deadline_reached()
    assert found == [2, 4, 8, 10, 10]
    crash(m, clock, ran=30)  # a run as long as backoff_reset: the count starts again
    assert m.crashes == 1 and m.deadline == clock.monotonic() + 2


def test_restart_delay_after_an_expected_exit_says_how_it_ended() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(restart_delay=1, autorestart=AutoRestart.ALWAYS), clock)
    running(m, clock)
    clock.advance(3)
    m.exited(0, "exit status 0")
    assert m.state is S.BACKOFF and m.spawnerr == "Exited (exit status 0)"


def test_stop_and_start_while_waiting_to_restart() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(restart_delay=5), clock)
    running(m, clock)
    crash(m, clock)
    assert changes(m.stop()) == [(S.BACKOFF, S.STOPPED)]
    assert m.deadline is None and m.wait_reason is None and m.next_attempt is None
    running(m, clock)
    crash(m, clock)
    crash_count = m.crashes
    effects = m.start()  # a start request does not wait: a fresh chance
    assert changes(effects) == [(S.BACKOFF, S.STARTING)] and Spawn() in effects
    assert crash_count == 1 and m.crashes == 0


def test_daemon_shutdown_while_waiting_to_restart_is_fatal_as_in_backoff() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(restart_delay=5), clock)
    running(m, clock)
    crash(m, clock)
    m.may_spawn = False
    assert changes(m.give_up()) == [(S.BACKOFF, S.FATAL)] and m.deadline is None


# -- start_limit ---------------------------------------------------------------------------------


def test_more_than_n_starts_within_the_window_is_fatal() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(start_limit=(3, 10), autorestart=AutoRestart.ALWAYS), clock)
    running(m, clock)  # start 1 at t=0
    for pid in (43, 44):  # starts 2 and 3, at t=3 and t=6 (each ran 2 s after startsecs)
        clock.advance(2)
        assert Spawn() in m.exited(1, "exit status 1")
        m.spawned(pid)
        clock.advance(1)
        m.deadline_reached()
    clock.advance(2)  # t=9: a 4th start within 10 s
    effects = m.exited(1, "exit status 1")
    assert changes(effects) == [(S.RUNNING, S.EXITED), (S.EXITED, S.FATAL)]
    assert Spawn() not in effects and m.deadline is None
    assert m.spawnerr == "Started 3 times within 10 seconds (start_limit = 3/10)"
    assert logs(effects)[-1] == (
        "gave up: p entered FATAL state, flapping: Started 3 times within 10 seconds "
        "(start_limit = 3/10)"
    )


def test_starts_outside_the_window_do_not_count() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(start_limit=(2, 10), autorestart=AutoRestart.ALWAYS), clock)
    running(m, clock)
    for pid in range(43, 60):  # one crash every 6 s: never 3 starts within 10 s
        clock.advance(5)
        assert Spawn() in m.exited(1, "exit status 1")
        m.spawned(pid)
        clock.advance(1)
        m.deadline_reached()
    assert m.state is S.RUNNING


def test_start_limit_also_stops_endless_retries_and_a_request_starts_afresh() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=-1, start_limit=(4, 100)), clock)
    assert list(waits(m, clock)) == [1, 2, 3, 4]  # starts 1..4, then the 5th is refused
    assert m.state is S.FATAL and m.spawnerr is not None and "start_limit = 4/100" in m.spawnerr
    assert Spawn() in m.start()  # a start asked for is never refused, and clears the window
    assert list(waits(m, clock)) == [1, 2, 3, 4]


def test_start_limit_refuses_a_delayed_restart_from_backoff() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(start_limit=(1, 60), restart_delay=1), clock)
    running(m, clock)
    crash(m, clock)
    clock.advance(1)
    assert changes(m.deadline_reached()) == [(S.BACKOFF, S.FATAL)]


# -- fatal_retry ---------------------------------------------------------------------------------


def test_fatal_retry_leaves_fatal_after_the_cool_down() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=1, fatal_retry=300), clock)
    assert list(waits(m, clock)) == [1]
    assert m.state is S.FATAL and m.deadline == clock.monotonic() + 300
    assert m.next_attempt == m.deadline and m.wait_reason == "fatal_retry = 300"
    clock.advance(299.5)
    assert m.deadline_reached() == []
    clock.advance(0.5)
    effects = m.deadline_reached()
    assert changes(effects) == [(S.FATAL, S.STARTING)] and Spawn() in effects
    assert m.restarts == 2 and m.backoff == 0 and m.wait_reason is None
    fail_fast(m, clock)
    assert m.state is S.BACKOFF and m.deadline == clock.monotonic() + 1  # tries from 1 again


def test_fatal_retry_clears_the_flapping_window() -> None:
    clock = FakeClock()
    m = ProcessMachine(
        program(start_limit=(1, 1000), fatal_retry=60, autorestart=AutoRestart.ALWAYS), clock
    )
    running(m, clock)
    crash(m, clock)
    assert m.state is S.FATAL
    clock.advance(60)
    assert Spawn() in m.deadline_reached()  # not refused by the 1000 s window


def test_a_stop_or_the_daemons_shutdown_drops_the_fatal_retry() -> None:
    for drop in ("stop", "give_up"):
        clock = FakeClock()
        m = ProcessMachine(program(startretries=0, fatal_retry=5), clock)
        m.start()
        m.spawn_failed("x")
        assert m.state is S.FATAL and m.deadline is not None
        assert changes(getattr(m, drop)()) == []
        assert m.state is S.FATAL and m.deadline is None and m.next_attempt is None
        clock.advance(5)
        assert m.deadline_reached() == []


def test_no_fatal_retry_is_set_while_the_daemon_stops() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(startretries=0, fatal_retry=5), clock)
    m.start()
    m.may_spawn = False
    m.spawn_failed("x")
    assert m.state is S.FATAL and m.deadline is None


# -- oneshot -------------------------------------------------------------------------------------


def test_oneshot_that_ends_well_quickly_is_done() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(type=ProgramType.ONESHOT, startsecs=10), clock)
    m.start()
    m.spawned(9)
    clock.advance(0.2)
    effects = m.exited(0, "exit status 0")
    assert changes(effects) == [(S.STARTING, S.EXITED)]
    assert logs(effects) == ["exited: p (exit status 0; expected)"]
    assert m.completed and m.spawnerr is None and m.exitstatus == 0 and m.deadline is None
    m.start()
    assert not m.completed


def test_oneshot_that_fails_quickly_backs_off_as_any_program() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(type=ProgramType.ONESHOT, startretries=0), clock)
    m.start()
    assert changes(fail_fast(m, clock)) == [(S.STARTING, S.BACKOFF), (S.BACKOFF, S.FATAL)]
    assert m.spawnerr == "Exited too quickly (process log may have details)"
    assert not m.completed


def test_oneshot_that_ran_long_is_done_too() -> None:
    clock = FakeClock()
    m = ProcessMachine(program(type=ProgramType.ONESHOT), clock)
    running(m, clock)
    clock.advance(30)
    assert changes(m.exited(0, "exit status 0")) == [(S.RUNNING, S.EXITED)]
    assert m.completed


def test_periodic_oneshot_waits_restart_delay_every_time() -> None:
    clock = FakeClock()
    m = ProcessMachine(
        program(type=ProgramType.ONESHOT, autorestart=AutoRestart.ALWAYS, restart_delay=60),
        clock,
    )
    m.start()
    for pid in range(10, 14):
        m.spawned(pid)
        clock.advance(0.5)
        m.exited(0, "exit status 0")
        assert m.state is S.BACKOFF and m.deadline == clock.monotonic() + 60  # never grows
        clock.advance(60)
        m.deadline_reached()


# -- what a user sees --------------------------------------------------------------------------


def snapshot(**fields: object) -> ProcessSnapshot:
    base = ProcessSnapshot(
        name="p",
        group="p",
        state=S.BACKOFF,
        pid=0,
        started_at=1_700_000_000.0,
        stopped_at=1_700_000_001.0,
        taken_at=1_700_000_002.0,
        exit_status=None,
        spawn_error="Exited too quickly (process log may have details)",
        restarts=0,
        last_exit=None,
        stdout_logfile=None,
        stderr_logfile=None,
        stdout_log_error=None,
        stderr_log_error=None,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_description_says_why_and_until_when() -> None:
    import datetime

    at = 1_700_000_005.0
    when = datetime.datetime.fromtimestamp(at).strftime("%b %d %H:%M:%S")
    waiting = snapshot(next_attempt_at=at, wait_reason="retry 2 of 5")
    assert waiting.description == (
        f"Exited too quickly (process log may have details); next try at {when} (retry 2 of 5)"
    )
    fatal = snapshot(state=S.FATAL, next_attempt_at=at, wait_reason="fatal_retry = 300")
    assert fatal.description.endswith(f"; next try at {when} (fatal_retry = 300)")
    # Supervisor's policy: the time is known (the JSON API shows it) but the text is Supervisor's
    assert snapshot(next_attempt_at=at).description == (
        "Exited too quickly (process log may have details)"
    )


def test_a_completed_oneshot_says_so() -> None:
    done = snapshot(state=S.EXITED, spawn_error=None, completed=True)
    plain = snapshot(state=S.EXITED, spawn_error=None)
    assert done.description == "completed at " + plain.description


# -- every new (state, input) pair, and the invariants -----------------------------------------

POLICY = {
    "fatal_retry": 30.0,
    "restart_delay": 1.0,
    "start_limit": (50, 10.0),
    "backoff": Backoff.EXPONENTIAL,
}
POLICY_ALLOWED = dict(ALLOWED)
POLICY_ALLOWED[(S.RUNNING, Input.EXITED)] = {S.BACKOFF}  # waits restart_delay
POLICY_ALLOWED[(S.UNKNOWN, Input.EXITED)] = {S.BACKOFF}
POLICY_ALLOWED[(S.FATAL, Input.DEADLINE)] = {S.STARTING}  # fatal_retry


@pytest.mark.parametrize("state", list(S), ids=lambda s: s.name)
@pytest.mark.parametrize("name", Input.ALL)
def test_every_state_input_pair_with_a_policy(state: S, name: str) -> None:
    m, clock = machine_in(state, **POLICY)
    apply(m, clock, name)
    assert m.state in POLICY_ALLOWED[(state, name)]


@pytest.mark.parametrize(
    ("state", "options", "code", "after"),
    [
        # a oneshot's good exit ends it at once; a bad one is a failed start
        (S.STARTING, {"type": ProgramType.ONESHOT}, 0, S.EXITED),
        (S.STARTING, {"type": ProgramType.ONESHOT}, 1, S.BACKOFF),
        # flapping: the autorestart is refused from EXITED (no restart_delay) ...
        (S.RUNNING, {"start_limit": (1, 60.0)}, 1, S.FATAL),
        # ... and the retry from BACKOFF is too (startretries would allow it)
        (S.STARTING, {"start_limit": (1, 60.0), "startsecs": 100}, 1, S.BACKOFF),
    ],
)
def test_policy_exits(state: S, options: dict[str, object], code: int, after: S) -> None:
    m, clock = machine_in(state, **options)
    m.exited(code, f"exit status {code}")
    assert m.state is after
    if after is S.BACKOFF and "start_limit" in options:
        clock.advance(1)
        assert changes(m.deadline_reached()) == [(S.BACKOFF, S.FATAL)]


def test_fatal_stop_drops_only_the_retry() -> None:
    m, _ = machine_in(S.FATAL, **POLICY)
    assert m.deadline is not None
    assert changes(m.stop()) == [] and m.state is S.FATAL and m.deadline is None


class PolicyLifecycle(Lifecycle):
    OPTIONS: ClassVar[dict[str, object]] = {
        "restart_delay": 1.0,
        "backoff": Backoff.EXPONENTIAL,
        "backoff_max": 8.0,
        "backoff_jitter": 0.5,
        "backoff_reset": 5.0,
        "start_limit": (3, 20.0),
        "fatal_retry": 15.0,
    }
    FATAL_FROM = (S.BACKOFF, S.EXITED)


class ForeverOneshotLifecycle(Lifecycle):
    OPTIONS: ClassVar[dict[str, object]] = {
        "type": ProgramType.ONESHOT,
        "startretries": -1,
        "backoff": Backoff.FIXED,
        "backoff_delay": 2.0,
        "start_limit": (4, 10.0),
        "fatal_retry": 3.0,
    }
    FATAL_FROM = (S.BACKOFF, S.EXITED)


PolicyLifecycle.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
ForeverOneshotLifecycle.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_policy_lifecycle_invariants = PolicyLifecycle.TestCase
test_forever_oneshot_lifecycle_invariants = ForeverOneshotLifecycle.TestCase


def test_policy_of_a_config_and_supervisors_policy() -> None:
    assert RestartPolicy.of(program()) == RestartPolicy()
    assert RestartPolicy.of(program(startretries=7)).is_supervisors
    assert not RestartPolicy.of(program(startretries=-1)).is_supervisors
    policy = RestartPolicy.of(program(start_limit=(5, 60.0), type=ProgramType.ONESHOT))
    assert policy.start_limit == StartLimit(5, 60.0) and policy.oneshot


def test_starts_are_remembered_only_for_start_limit() -> None:
    """An endless autorestart loop without start_limit keeps no growing history."""
    clock = FakeClock()
    m = ProcessMachine(program(autorestart=AutoRestart.ALWAYS), clock)
    running(m, clock)
    for pid in range(43, 143):
        clock.advance(2)
        m.exited(1, "exit status 1")
        m.spawned(pid)
    assert m._starts == []
    limited = ProcessMachine(program(start_limit=(3, 5.0), autorestart=AutoRestart.ALWAYS), clock)
    running(limited, clock)
    for pid in range(43, 143):
        clock.advance(2)
        limited.exited(1, "exit status 1")
        limited.spawned(pid)
        clock.advance(1)
        limited.deadline_reached()
    assert limited.state is S.RUNNING and len(limited._starts) <= 3
