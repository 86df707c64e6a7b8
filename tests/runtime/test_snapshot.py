"""ProcessRunner.snapshot(): the read model, with real children and a wall clock moved by hand.

The loop cannot run between `runner.start()` and `clock.advance()`, so a child's exit is
always seen after the advance: the times in each snapshot are exact.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import AsyncIterator

import pytest

from tests.runtime.conftest import Harness
from vigil.clock import FakeClock
from vigil.config.model import AutoRestart
from vigil.core.snapshot import ExitReason
from vigil.core.states import ProcessState as S

START = 1_700_000_000.0


@pytest.fixture
async def timed() -> AsyncIterator[tuple[Harness, FakeClock]]:
    clock = FakeClock(wall=START)
    harness = Harness(clock)
    try:
        yield harness, clock
    finally:
        await harness.close()


def stopped_text(at: float) -> str:
    """Supervisor 4.3.0's description of a stopped process, by its own formula."""
    return time.strftime("%b %d %I:%M %p", time.localtime(int(at)))


async def test_a_process_never_started(timed: tuple[Harness, FakeClock]) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner("/bin/true")
    snap = runner.snapshot()
    assert (snap.name, snap.group, snap.state, snap.pid) == ("p", "p", S.STOPPED, 0)
    assert (snap.started_at, snap.stopped_at, snap.taken_at) == (0.0, 0.0, START)
    assert (snap.exit_status, snap.spawn_error, snap.last_exit, snap.restarts) == (
        None,
        None,
        None,
        0,
    )
    assert snap.description == "Not started"
    assert snap.logfile("stdout") == snap.stdout_logfile == "/logs/p-stdout.log"
    assert snap.logfile("stderr") == snap.stderr_logfile == "/logs/p-stderr.log"


async def test_running_has_its_pid_start_time_and_uptime(timed: tuple[Harness, FakeClock]) -> None:
    harness, clock = timed
    runner, _, _ = harness.runner("sleep 60", startsecs=0)
    runner.start()
    clock.advance(3725)
    snap = runner.snapshot()
    assert snap.state is S.RUNNING and snap.pid == runner.pid > 0
    assert (snap.started_at, snap.stopped_at, snap.taken_at) == (START, 0.0, START + 3725)
    assert snap.description == f"pid {snap.pid}, uptime 1:02:05"
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.pid = 1  # type: ignore[misc]


async def test_after_a_crash(timed: tuple[Harness, FakeClock]) -> None:
    harness, clock = timed
    runner, _, _ = harness.runner("/bin/sh -c 'exit 3'", startsecs=0, autorestart=AutoRestart.NEVER)
    runner.start()
    clock.advance(10)
    await harness.reach(runner, S.EXITED)
    snap = runner.snapshot()
    assert snap.last_exit == ExitReason(3, None, expected=False)
    assert (snap.exit_status, snap.spawn_error, snap.pid) == (3, "Bad exit code 3", 0)
    assert (snap.started_at, snap.stopped_at) == (START, START + 10)
    assert snap.description == stopped_text(START + 10)


async def test_after_an_expected_exit(timed: tuple[Harness, FakeClock]) -> None:
    harness, clock = timed
    runner, _, _ = harness.runner("/bin/true", startsecs=0, autorestart=AutoRestart.NEVER)
    runner.start()
    clock.advance(2)
    await harness.reach(runner, S.EXITED)
    snap = runner.snapshot()
    assert snap.last_exit == ExitReason(0, None, expected=True)
    assert (snap.exit_status, snap.spawn_error) == (0, None)
    assert snap.stopped_at == START + 2


async def test_killed_by_a_signal_names_it(timed: tuple[Harness, FakeClock]) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner(
        "/bin/sh -c 'kill -KILL $$'", startsecs=0, autorestart=AutoRestart.NEVER
    )
    runner.start()
    await harness.reach(runner, S.EXITED)
    assert runner.snapshot().last_exit == ExitReason(-1, signal.SIGKILL, expected=False)


async def test_a_stop_request_is_an_expected_end(timed: tuple[Harness, FakeClock]) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner("sleep 60", startsecs=0)
    runner.start()
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    snap = runner.snapshot()
    assert snap.last_exit == ExitReason(-1, signal.SIGTERM, expected=True)
    assert snap.exit_status == -1


async def test_exiting_before_startsecs_is_never_expected(
    timed: tuple[Harness, FakeClock],
) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner("/bin/true", startsecs=5, startretries=0)
    runner.start()
    await harness.reach(runner, S.FATAL)
    snap = runner.snapshot()
    assert snap.last_exit == ExitReason(0, None, expected=False)
    assert snap.exit_status is None
    assert snap.spawn_error == "Exited too quickly (process log may have details)"
    assert snap.description == snap.spawn_error


async def test_a_spawn_error(timed: tuple[Harness, FakeClock]) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner("/nonexistent/prog", startretries=0)
    runner.start()
    snap = runner.snapshot()
    assert (snap.state, snap.pid, snap.started_at, snap.last_exit) == (S.FATAL, 0, START, None)
    assert snap.description == snap.spawn_error == "can't find command '/nonexistent/prog'"


async def test_restarts_count_the_daemons_own_spawns_until_a_start_request(
    timed: tuple[Harness, FakeClock],
) -> None:
    harness, _ = timed
    runner, _, _ = harness.runner(
        "/bin/sh -c 'exit 3'", startsecs=0, autorestart=AutoRestart.UNEXPECTED
    )
    runner.start()
    assert runner.snapshot().restarts == 0
    await harness.until(lambda: runner.snapshot().restarts >= 2)
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    restarts = runner.snapshot().restarts
    runner.start()
    assert restarts >= 2 and runner.snapshot().restarts == 0


async def test_a_log_that_cannot_be_written_is_in_the_description(
    timed: tuple[Harness, FakeClock],
) -> None:
    harness, _ = timed
    runner, _, err = harness.runner("/bin/true")
    err.error = "/logs/p-stderr.log: No space left on device"
    snap = runner.snapshot()
    assert (snap.stdout_log_error, snap.stderr_log_error) == (None, err.error)
    assert snap.description == (
        "Not started (stderr log: /logs/p-stderr.log: No space left on device)"
    )
