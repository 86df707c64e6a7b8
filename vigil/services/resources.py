"""What each process costs the machine (CPU, memory, descriptors, the processes of its tree),
read from /proc when asked and never in between.

A reading takes one pass over ``/proc/*/stat`` (which carries every process's parent, CPU times
and resident size), so descendants are found without a second scan and a fleet of 500 programs
costs one read per process on the machine plus one directory listing per process counted for
descriptors. psutil reads the same files, several times per process (its ``cpu_times``,
``memory_info`` and ``num_fds`` for 500 children took 20 to 40 ms here, before any descendant),
so the figures are parsed here from the one read instead.

A program's tree is its main process, every descendant below it, and the processes that were
orphaned by one of them and re-parented to the daemon (it is a subreaper) that still carry the
program's ``SUPERVISOR_PROCESS_NAME``/``SUPERVISOR_GROUP_NAME`` in their environment. CPU
seconds of the tree are those of each live member plus what each has collected from children
it waited for, so the work of short-lived helpers is counted once. The CPU percentage is taken
between this reading and an earlier one of the same child (identified by pid and start time, so
a reused pid never inherits a stranger's sample) at least ``MIN_WINDOW`` seconds older, or since
the child started when there is none: readers polling at different rates share one history
without making the figure noisy.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vigil.core.snapshot import ProcessSnapshot
from vigil.runtime.proctable import PROC, stat_fields

MIN_WINDOW = 0.5  # seconds: the shortest span a CPU percentage is taken over
_NAME_VAR = b"SUPERVISOR_PROCESS_NAME="
_GROUP_VAR = b"SUPERVISOR_GROUP_NAME="

Key = tuple[str, str]  # (group, name)


@dataclass(frozen=True, slots=True)
class Figures:
    """One process's figures at one reading; None where there is no child to measure (or
    what could not be read: another user's descriptors)."""

    cpu_percent: float | None
    cpu_seconds: float | None  # the tree's
    cpu_seconds_main: float | None
    rss_bytes: int | None  # the tree's
    rss_bytes_main: int | None
    open_fds: int | None  # the tree's
    open_fds_main: int | None
    processes: int  # the tree's members, the main process included; 0 without a child

    def document(self) -> dict[str, Any]:
        """The members the JSON API shows (``resources``), by their published names."""
        return {
            "cpu_percent": self.cpu_percent,
            "cpu_seconds": self.cpu_seconds,
            "rss_bytes": self.rss_bytes,
            "rss_bytes_main": self.rss_bytes_main,
            "open_fds": self.open_fds,
            "processes": self.processes,
        }


NO_CHILD = Figures(None, None, None, None, None, None, None, 0)


@dataclass(frozen=True, slots=True)
class Stat:
    """The figures of one live process from its ``/proc/PID/stat``."""

    pid: int
    ppid: int
    start: int  # clock ticks after boot: with the pid, names the process beyond doubt
    ticks: int  # utime + stime
    waited_ticks: int  # cutime + cstime: children it has waited for
    rss_pages: int


def read_stat(pid: int) -> Stat | None:
    """One process's stat line, or None when it is gone or a zombie."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 22 or fields[0] in (b"Z", b"X"):
        return None
    return Stat(
        pid,
        int(fields[1]),
        int(fields[19]),
        int(fields[11]) + int(fields[12]),
        int(fields[13]) + int(fields[14]),
        int(fields[21]),
    )


def scan() -> dict[int, Stat]:
    """Every live process this daemon can see."""
    found: dict[int, Stat] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir(PROC):
            if name.isdigit() and (stat := read_stat(int(name))) is not None:
                found[stat.pid] = stat
    return found


def open_fds(pid: int) -> int | None:
    """How many descriptors the process holds: the size Linux 6.2 and later give its fd
    directory (a quarter of the time of listing it), else the listing's length."""
    path = f"{PROC}/{pid}/fd"
    try:
        return os.stat(path).st_size or len(os.listdir(path))
    except OSError:
        return None


def program_of(pid: int) -> Key | None:
    """The (group, name) a process's environment says it was started for, if it says."""
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as handle:
            environ = handle.read()
    except OSError:
        return None
    name = group = None
    for entry in environ.split(b"\0"):
        if entry.startswith(_NAME_VAR):
            name = entry[len(_NAME_VAR) :].decode("utf-8", "replace")
        elif entry.startswith(_GROUP_VAR):
            group = entry[len(_GROUP_VAR) :].decode("utf-8", "replace")
    return None if name is None or group is None else (group, name)


@dataclass(frozen=True, slots=True)
class _Sample:
    pid: int
    start: int
    at: float  # monotonic seconds
    cpu_seconds: float


class _History:
    """The last two CPU samples of one child: the one a percentage is taken against, and the
    newest. A sample replaces the newest only once it is ``MIN_WINDOW`` younger."""

    __slots__ = ("base", "latest")

    def __init__(self, sample: _Sample) -> None:
        self.base: _Sample | None = None
        self.latest = sample

    def percent(self, sample: _Sample) -> float | None:
        if sample.at - self.latest.at >= MIN_WINDOW:
            self.base, self.latest = self.latest, sample
        base = self.base
        if base is None:
            return None
        elapsed = sample.at - base.at
        return None if elapsed <= 0 else max(0.0, sample.cpu_seconds - base.cpu_seconds) / elapsed


class ResourceReader:
    """Reads figures on demand and keeps, per process, only the samples its next CPU
    percentage needs (forgotten when the child goes)."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        boot_time: float | None = None,
        own_pid: int | None = None,
    ) -> None:
        self._monotonic = monotonic
        self._own_pid = os.getpid() if own_pid is None else own_pid
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._boot = _boot_time() if boot_time is None else boot_time
        self._histories: dict[Key, _History] = {}

    def read(
        self, snapshots: Iterable[ProcessSnapshot], *, complete: bool = False
    ) -> dict[Key, Figures]:
        """The figures of these processes. ``complete`` says they are every process, so
        samples of any other are forgotten."""
        wanted = list(snapshots)
        stats = scan() if any(s.pid for s in wanted) else {}
        trees = self._trees(wanted, stats)
        now = self._monotonic()
        figures: dict[Key, Figures] = {}
        for snapshot in wanted:
            key = (snapshot.group, snapshot.name)
            members = trees.get(key)
            if not members:
                self._histories.pop(key, None)
                figures[key] = NO_CHILD
            else:
                figures[key] = self._figures(key, members, now)
        if complete:
            for key in set(self._histories) - set(figures):
                del self._histories[key]
        return figures

    def _trees(
        self, wanted: list[ProcessSnapshot], stats: dict[int, Stat]
    ) -> dict[Key, list[Stat]]:
        """Each wanted process's live tree, its main process first."""
        children: dict[int, list[int]] = {}
        for stat in stats.values():
            children.setdefault(stat.ppid, []).append(stat.pid)
        mains = {s.pid: (s.group, s.name) for s in wanted if s.pid in stats}
        roots: dict[Key, list[int]] = {key: [pid] for pid, key in mains.items()}
        for pid in children.get(self._own_pid, ()):
            if pid not in mains and (owner := program_of(pid)) in roots:
                roots[owner].append(pid)
        trees: dict[Key, list[Stat]] = {}
        for key, pids in roots.items():
            members: list[Stat] = []
            pending = list(pids)
            while pending and len(members) < len(stats):
                pid = pending.pop(0)
                members.append(stats[pid])
                pending.extend(children.get(pid, ()))
            trees[key] = members
        return trees

    def _figures(self, key: Key, members: list[Stat], now: float) -> Figures:
        main = members[0]
        ticks = self._ticks
        main_fds = open_fds(main.pid)
        fds: int | None = main_fds
        for member in members[1:]:
            counted = open_fds(member.pid)
            fds = None if fds is None or counted is None else fds + counted
        cpu = sum(m.ticks + m.waited_ticks for m in members) / ticks
        sample = _Sample(main.pid, main.start, now, cpu)
        history = self._histories.get(key)
        percent = None
        if history is None or (history.latest.pid, history.latest.start) != (main.pid, main.start):
            self._histories[key] = _History(sample)
        else:
            percent = history.percent(sample)
        if percent is None:
            # nothing earlier of this child: its average since it started
            alive = time.time() - (self._boot + main.start / ticks)
            percent = cpu / alive if alive > MIN_WINDOW else 0.0
        return Figures(
            cpu_percent=round(percent * 100, 1),
            cpu_seconds=cpu,
            cpu_seconds_main=(main.ticks + main.waited_ticks) / ticks,
            rss_bytes=sum(m.rss_pages for m in members) * self._page,
            rss_bytes_main=main.rss_pages * self._page,
            open_fds=fds,
            open_fds_main=main_fds,
            processes=len(members),
        )


def _boot_time() -> float:
    """When the machine booted (wall seconds): /proc start times count from it."""
    with contextlib.suppress(OSError, ValueError), open(f"{PROC}/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return time.time() - time.monotonic()
