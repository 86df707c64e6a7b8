"""status, start, stop, restart, signal, pid and clear: Supervisor 4.3.0's supervisorctl and
vigil's, each against its own daemon, must print the same and exit the same (the exit-status
table of Supervisor's supervisorctl, row by row).

Tests share one pair of daemons per module and leave the processes as they found them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ctl.harness import Twins
from tests.ctl.programs import PROGRAMS, SETTLED, make_not_executable


@pytest.fixture(scope="module")
def twins(daemon_kind: str) -> Iterator[Twins]:
    pair = Twins(daemon_kind, PROGRAMS)
    try:
        pair.start(lambda daemon: make_not_executable(daemon.dir))
        pair.wait_states(SETTLED)
        yield pair
    finally:
        pair.stop()


# One row per line of the exit-status table that these programs reproduce.
@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("status", 3),  # some processes are stopped or exited
        ("status sleeper multi:*", 0),
        ("status nosuch", 4),
        ("status nosuch:", 4),
        ("status multi", 4),  # a bare group name is not its processes
        ("status nosuch exiter", 3),  # a stopped process outranks a bad name
        ("start sleeper", 0),  # already started
        ("start nosuch", 1),
        ("start nosuch:*", 2),
        ("start", 2),
        ("start nofile", 1),
        ("start notexec", 1),
        ("stop grp:manual", 0),  # not running
        ("stop nosuch", 1),
        ("stop", 1),
        ("restart", 1),
        ("signal HUP grp:manual", 7),  # not running
        ("signal BOGUS sleeper", 1),
        ("signal HUP", 1),
        ("pid grp:manual", 7),  # prints 0
        ("pid nosuch", 1),
        ("clear nosuch", 1),
    ],
)
def test_exit_status(twins: Twins, line: str, status: int) -> None:
    twins.check(*line.split(), status=status)


# Lines that leave every process as it was, run in one shell session each: the shell's status
# is always 0, the point is the output.
SESSION_LINES = [
    "status all",
    "status sleeper multi:multi_00",
    "status nosuch:* sleeper",
    "status grp:*",
    "status sleeper sleeper",
    "start manual",  # "manual" alone means group manual, which does not exist
    "start sleeper nosuch multi:*",
    "stop nosuch:*",
    "stop grp:*",
    "signal HUP nosuch",
    "signal HUP nosuch:*",
    "signal",
    "signal CONT sleeper",
    "signal CONT multi:*",
    "signal CONT grp:*",  # nothing running in the group: nothing to say
    "pid",
    "pid sleeper",
    "pid sleeper nosuch exiter",
    "pid all",
    "clear",
    "clear multi:*",
    "clear sleeper multi:multi_01",
]


def test_lines_leaving_processes_as_they_are(twins: Twins) -> None:
    twins.check(stdin="".join(line + "\n" for line in SESSION_LINES), status=0)


RUNNING = {name: state for name, state in SETTLED.items() if state == "RUNNING"}


def test_start_spawn_error_is_7(twins: Twins) -> None:
    """Leaves "quick" FATAL: the other tests hold whether it is FATAL or STOPPED."""
    twins.check("start", "quick", status=7)
    twins.wait_states({"quick": "FATAL"})
    twins.check("status", "quick", status=3)
    twins.check("start", "quick", status=7)


def test_start_then_stop_a_process_and_a_group(twins: Twins) -> None:
    twins.check("start", "grp:manual", status=0)
    twins.check("status", "grp:manual", status=0)
    twins.check("start", "grp:*", status=0)  # already started, not a failure
    twins.check("signal", "CONT", "grp:*", status=0)
    twins.check("restart", "grp:manual", status=0)
    twins.check("stop", "grp:manual", status=0)
    twins.check("start", "grp:*", status=0)
    twins.check("stop", "grp:*", status=0)
    twins.check("stop", "grp:*", status=0)


def test_restart_running_processes(twins: Twins) -> None:
    # (Named one by one: a daemon may list a group's processes in the order they stopped.)
    twins.check("restart", "sleeper", "multi:multi_00", "multi:multi_01", status=0)
    twins.check("restart", "nosuch", status=1)
    twins.wait_states(RUNNING)
