"""Processes the daemon did not just spawn, identified by pid plus start time, held by pidfd.

A bare pid may have been reused by an unrelated process by the time it is signalled. Every
process vigil signals outside its own children (leftovers of a killed daemon, the descendants
of a program stopped with ``killmode = tree``, orphans at shutdown) is first opened as a pidfd,
then checked against the start time it was seen with; signals go through that pidfd, so they
reach that very process or nothing. Waiting for such processes to end is waiting for their
pidfds to become readable: nothing polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass

PROC = "/proc"


@dataclass(frozen=True)
class ProcEntry:
    pid: int
    ppid: int
    pgid: int
    start_time: int  # clock ticks after boot, /proc/PID/stat field 22


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (the state first: field 3 of
    proc(5) is index 0 here), or None when the process is gone."""
    try:
        # os.open and one read: a buffered file object would add an fstat, an ioctl and two
        # seeks to a look taken at every spawn
        fd = os.open(f"{PROC}/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        raw = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    # the command name may hold spaces and parentheses: fields start after the last ')'
    return raw[raw.rfind(b")") + 2 :].split()


def read_entry(pid: int) -> ProcEntry | None:
    """The /proc figures of one process, or None if it is gone (or a zombie)."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 20 or fields[0] == b"Z":
        return None
    return ProcEntry(pid, int(fields[1]), int(fields[2]), int(fields[19]))


def start_time(pid: int) -> int | None:
    entry = read_entry(pid)
    return None if entry is None else entry.start_time


def all_entries() -> list[ProcEntry]:
    """Every live process this daemon can see."""
    entries = []
    with contextlib.suppress(OSError):
        for name in os.listdir(PROC):
            if name.isdigit() and (entry := read_entry(int(name))) is not None:
                entries.append(entry)
    return entries


class ProcessTable:
    """Who is whose child among the live processes, read once from /proc."""

    def __init__(self) -> None:
        self.children: dict[int, list[int]] = {}
        self.starts: dict[int, int] = {}
        for entry in all_entries():
            self.children.setdefault(entry.ppid, []).append(entry.pid)
            self.starts[entry.pid] = entry.start_time

    def hold(self, roots: Iterable[int], skip: int = 0) -> list[HeldProcess]:
        """Every live process of the subtrees below and at `roots` but `skip`, each held by a
        pidfd checked against the start time it had in this table."""
        found: list[HeldProcess] = []
        queue = [pid for pid in roots if pid in self.starts]
        seen = set(queue)
        while queue:
            pid = queue.pop()
            if pid != skip and (held := HeldProcess.open(pid, self.starts[pid])) is not None:
                found.append(held)
            for child in self.children.get(pid, ()):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return found


def boot_id() -> str:
    """Distinguishes this boot from the last: pids and start times mean nothing across one."""
    try:
        with open(f"{PROC}/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def environ_has(pid: int, wanted: Iterable[tuple[str, str]]) -> bool:
    """Whether the environment a process was started with holds every `wanted` pair."""
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as handle:
            present = set(handle.read().split(b"\0"))
    except OSError:
        return False
    return all(f"{key}={value}".encode() in present for key, value in wanted)


class HeldProcess:
    """One process held by a pidfd, proven to be the one seen at `start_time`."""

    def __init__(self, pid: int, fd: int, start_time: int) -> None:
        self.pid = pid
        self.fd = fd
        self.start_time = start_time

    @classmethod
    def open(cls, pid: int, expected_start: int) -> HeldProcess | None:
        """Hold `pid` if it is still the process that started at `expected_start`."""
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return None
        if start_time(pid) != expected_start:  # checked after the pidfd pins the process
            os.close(fd)
            return None
        return cls(pid, fd, expected_start)

    def send(self, number: int) -> bool:
        """Signal this process (never another that reused its pid); False if it is gone."""
        try:
            signal.pidfd_send_signal(self.fd, number)
        except OSError:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


async def wait_all_gone(held: Iterable[HeldProcess], timeout: float | None) -> list[HeldProcess]:
    """Wait (up to `timeout` seconds, None: no limit) until every held process has exited;
    those left."""
    loop = asyncio.get_running_loop()
    waits: dict[asyncio.Future[None], HeldProcess] = {}
    for process in held:
        future: asyncio.Future[None] = loop.create_future()
        loop.add_reader(process.fd, _resolve, future)
        waits[future] = process
    try:
        if waits:
            await asyncio.wait(waits, timeout=None if timeout is None else max(0.0, timeout))
    finally:
        for process in waits.values():
            loop.remove_reader(process.fd)
    return [process for future, process in waits.items() if not future.done()]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
