"""The lifecycle rules with real children, real pipes and real signals."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import psutil

from tests.runtime.conftest import PY, Harness
from vigil.config.model import AutoRestart, KillMode
from vigil.core.events import ProcessStateChanged
from vigil.core.states import ProcessState as S


async def test_runs_captures_output_and_stops_with_sigterm(harness: Harness) -> None:
    runner, out, err = harness.runner(
        f'{PY} -c \'import sys, time; print("hello", flush=True); '
        f'sys.stderr.write("oops\\n"); sys.stderr.flush(); time.sleep(60)\'',
        startsecs=0,
    )
    runner.start()
    assert runner.state is S.RUNNING and runner.pid
    await harness.until(lambda: out.data == b"hello\n" and err.data == b"oops\n")
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    assert "stopped: p (terminated by SIGTERM)" in harness.log.messages()
    names = [e.name for e in harness.events]
    assert names == [
        "PROCESS_STATE_STARTING",
        "PROCESS_STATE_RUNNING",
        "PROCESS_STATE_STOPPING",
        "PROCESS_STATE_STOPPED",
    ]


async def test_exiting_too_fast_is_fatal_after_startretries_with_growing_delays(
    harness: Harness,
) -> None:
    runner, _, _ = harness.runner("/bin/false", startsecs=1, startretries=2)
    spawned: list[float] = []
    harness.bus.subscribe("PROCESS_STATE_STARTING", lambda event: spawned.append(time.monotonic()))
    runner.start()
    await harness.reach(runner, S.FATAL, timeout=20)
    assert len(spawned) == 3  # startretries + 1
    gaps = [b - a for a, b in itertools.pairwise(spawned)]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0  # the k-th retry waits k seconds
    assert runner.snapshot().spawn_error == "Exited too quickly (process log may have details)"
    assert (
        "gave up: p entered FATAL state, too many start retries too quickly"
        in harness.log.messages()
    )


async def test_program_ignoring_sigterm_is_killed_after_stopwaitsecs(harness: Harness) -> None:
    script = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    runner, out, _ = harness.runner(f'{PY} -c "{script}"', startsecs=0, stopwaitsecs=1)
    runner.start()
    await harness.until(lambda: out.data == b"ready\n")
    began = time.monotonic()
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    assert time.monotonic() - began >= 1.0
    pid_line = next(m for m in harness.log.messages() if m.startswith("killing 'p'"))
    assert pid_line.endswith("with SIGKILL")
    assert "stopped: p (terminated by SIGKILL)" in harness.log.messages()


async def test_stopasgroup_leaves_no_descendant(harness: Harness, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    runner, _, _ = harness.runner(
        f"/bin/sh -c 'sleep 60 & echo $! > {pidfile}; wait'", startsecs=0, stopasgroup=True
    )
    runner.start()
    await harness.until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    grandchild = psutil.Process(int(pidfile.read_text()))
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    await harness.until(lambda: not _alive(grandchild))


async def test_autorestart_respawns_after_unexpected_exit(harness: Harness) -> None:
    runner, _, _ = harness.runner(
        f"{PY} -c 'import sys; sys.exit(3)'",
        startsecs=0,
        autorestart=AutoRestart.UNEXPECTED,
    )
    starts: list[object] = []
    harness.bus.subscribe("PROCESS_STATE_STARTING", starts.append)
    before = time.time()
    runner.start()
    await harness.until(lambda: len(starts) >= 3)
    exited = [e for e in harness.events if isinstance(e, ProcessStateChanged) and e.new is S.EXITED]
    first = exited[0]
    assert (first.old, first.expected, first.tries) == (S.RUNNING, False, 0) and first.pid > 0
    assert before <= first.at <= time.time()  # the wall-clock time of the change itself
    assert (
        first.payload()
        == f"processname:p groupname:p from_state:RUNNING expected:0 pid:{first.pid}"
    )
    runner.stop()


async def test_missing_command_is_a_spawn_error(harness: Harness) -> None:
    runner, _, _ = harness.runner("/nonexistent/prog", startretries=0)
    runner.start()
    assert runner.state is S.FATAL
    assert runner.snapshot().spawn_error == "can't find command '/nonexistent/prog'"


async def test_bad_directory_is_a_spawn_error_not_a_mystery_exit(harness: Harness) -> None:
    runner, _, _ = harness.runner("/bin/true", directory="/nonexistent/dir", startretries=0)
    runner.start()
    assert runner.state is S.FATAL
    assert runner.snapshot().spawn_error == "couldn't chdir to /nonexistent/dir: ENOENT"


async def test_directory_umask_and_environment_reach_the_child(
    harness: Harness, tmp_path: Path
) -> None:
    runner, out, _ = harness.runner(
        f"{PY} -c 'import os; os.umask(os.umask(0) or 0); "
        f'print(os.getcwd(), oct(os.umask(0)), os.environ["SUPERVISOR_PROCESS_NAME"], '
        f'os.environ["SUPERVISOR_ENABLED"], os.environ["COLOR"])\'',
        directory=str(tmp_path),
        umask=0o027,
        environment=(("COLOR", "blue"),),
        startsecs=0,
        autorestart=AutoRestart.NEVER,
    )
    runner.start()
    await harness.reach(runner, S.EXITED)
    await harness.until(lambda: out.data.endswith(b"\n"))
    assert out.data.decode().split() == [str(tmp_path), "0o27", "p", "1", "blue"]


async def test_child_has_its_own_process_group_and_default_signals(harness: Harness) -> None:
    runner, out, _ = harness.runner(
        f"{PY} -c 'import os, signal; "
        f"print(os.getpgid(0) == os.getpid(), "
        f"signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, "
        f"len(signal.pthread_sigmask(signal.SIG_BLOCK, [])), "
        f'sorted(os.listdir("/proc/self/fd")))\'',
        startsecs=0,
        autorestart=AutoRestart.NEVER,
    )
    runner.start()
    await harness.reach(runner, S.EXITED)
    await harness.until(lambda: out.data.endswith(b"\n"))
    assert out.data.decode().strip() == "True True 0 ['0', '1', '2', '3']"  # 3: listdir's own


async def test_orphaned_grandchildren_are_reaped(harness: Harness, tmp_path: Path) -> None:
    pidfile = tmp_path / "orphan"
    runner, _, _ = harness.runner(
        f"/bin/sh -c '(sleep 0.2 & echo $! > {pidfile}) ; exit 0'",
        startsecs=0,
        autorestart=AutoRestart.NEVER,
    )
    runner.start()
    await harness.reach(runner, S.EXITED)
    await harness.until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    orphan = int(pidfile.read_text())
    await harness.until(lambda: not os.path.exists(f"/proc/{orphan}"))
    assert any(m.startswith(f"reaped unknown pid {orphan}") for m in harness.log.messages())


async def test_stdin_reaches_the_child(harness: Harness) -> None:
    runner, out, _ = harness.runner(
        f"{PY} -c 'import sys; print(sys.stdin.readline().upper(), end=\"\", flush=True)'",
        startsecs=0,
        autorestart=AutoRestart.NEVER,
    )
    runner.start()
    runner.write_stdin(b"hello\n")
    await harness.until(lambda: out.data == b"HELLO\n")


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_the_child_start_time_names_the_child_until_it_is_reaped(harness: Harness) -> None:
    runner, _, _ = harness.runner("sleep 60", startsecs=0, autorestart=AutoRestart.NEVER)
    runner.start()
    pid = runner.pid
    with open(f"/proc/{pid}/stat", "rb") as stat:
        ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
    assert runner.child_start_time == ticks
    runner.stop()
    await harness.reach(runner, S.STOPPED)
    runner.start()  # a new child, left to exit before anyone asks
    runner.signal(9)
    await harness.reach(runner, S.EXITED)
    assert runner.child_start_time == 0


async def test_no_start_time_is_read_for_a_reaped_child_still_stopping(harness: Harness) -> None:
    # killmode=tree keeps the pid while a descendant ignoring SIGTERM lives on; the child
    # itself is reaped, and its pid free for another process
    runner, _, _ = harness.runner(
        "sh -c '(trap \"\" TERM; exec sleep 61) & exec sleep 60'",
        startsecs=0,
        killmode=KillMode.TREE,
        stopwaitsecs=2,
    )
    runner.start()
    pid = runner.pid
    main = psutil.Process(pid)
    await harness.until(  # the descendant ignores SIGTERM once it is sleep 61
        lambda: any(p.cmdline() == ["sleep", "61"] for p in main.children(recursive=True))
    )
    runner.stop()
    await harness.until(lambda: not psutil.pid_exists(pid))
    assert runner.state is S.STOPPING and runner.pid == pid
    assert runner.child_start_time == 0
    await harness.reach(runner, S.STOPPED)
