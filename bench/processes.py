"""Owning every process the benchmark starts: exits observed exactly, leftovers ended by pid.

The benchmark makes itself a child subreaper, so a program orphaned by a daemon that died (or
was killed) is reparented to us instead of to init, and the sweep after each case can end it
by its pid and reap it. Nothing is found by name.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import select
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from bench.waiting import BenchError

PR_SET_CHILD_SUBREAPER = 36
WANTED_OPEN_FILES = 16384  # 500 programs hold three pipes and two log files each


def become_subreaper() -> bool:
    """Adopt orphans of our descendants (Linux); elsewhere the sweep sees fewer leftovers."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def raise_open_file_limit() -> None:
    """Let the daemons inherit room for hundreds of programs without touching their configs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, WANTED_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def wait_exit(pid: int, timeout: float) -> bool:
    """Block until `pid` has exited (without reaping it); False at the deadline.

    A pidfd becomes readable the moment the process ends, so the time taken is the exit time
    itself, not the next tick of a polling loop.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(max(0, int(timeout * 1000))))
    finally:
        os.close(pidfd)


def reap(pid: int) -> None:
    """Collect the status of an exited child of ours; not ours or not exited is fine."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def kill_group_and_leader(pid: int) -> None:
    """End a process we started in a session of its own, and everything left in its group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def end_descendants(rounds: int = 3) -> list[int]:
    """SIGKILL every process below this one by pid, wait for each, reap our own.

    Several rounds, because killing a daemon can orphan programs it had just started; they are
    reparented to us and found by the next round.
    """
    ended: list[int] = []
    me = psutil.Process()
    for _ in range(rounds):
        try:
            found = me.children(recursive=True)
        except psutil.Error:
            break
        alive = [proc for proc in found if _is_alive(proc)]
        for proc in found:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
        for proc in found:
            wait_exit(proc.pid, 5.0)
            reap(proc.pid)
        ended.extend(proc.pid for proc in alive)
        if not found:
            break
    return ended


def _is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def run_in_session(command: list[str], cwd: Path, timeout: float) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of a command run in a session of its own; at the
    deadline, or when we are interrupted, its process group is ended."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(command)} did not finish within {timeout:g} s") from None
    finally:
        if proc.returncode is None:
            kill_group_and_leader(proc.pid)
            proc.wait()
    return proc.returncode, stdout, stderr
