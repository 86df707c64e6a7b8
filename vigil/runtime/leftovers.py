"""Children left by a daemon that died without stopping them, found and ended at the next start.

A daemon killed with SIGKILL (the OOM killer, a crash) cannot stop its programs. Its direct
children get their parent-death signal, but one that ignores it, or a process group it leads,
may keep running, holding ports and files; the next daemon would then start second copies
beside them. So the daemon keeps a small file beside its pidfile naming each child it has
(pid, start time, and how it is to be stopped), rewritten once per loop turn in which a child
was spawned (a child that has exited may stay listed until the next spawn: it is recognised as
gone by its start time), and removed when the daemon ends normally. At start-up, before
spawning anything, a file still present means the last daemon died: every child it names that
is still the same process (pid and start time, same boot) gets its stop signal, then SIGKILL
after its `stopwaitsecs`, each with one line in the main log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.runtime.process import ProcessRunner
from vigil.runtime.proctable import HeldProcess, boot_id, start_time, wait_all_gone

FORMAT = 1
KILL_WAIT_SECONDS = 5.0


def children_file_path(pidfile: str) -> str:
    return f"{pidfile}.children"


@dataclass(frozen=True)
class ChildRecord:
    name: str
    pid: int
    start_time: int
    stopsignal: int
    stopwaitsecs: int
    as_group: bool  # the program is stopped by signalling its process group


def child_records(runners: Iterable[ProcessRunner]) -> Iterator[ChildRecord]:
    for runner in runners:
        if runner.pid and runner.child_start_time:
            config = runner.config
            yield ChildRecord(
                runner.namespec,
                runner.pid,
                runner.child_start_time,
                config.stopsignal,
                config.stopwaitsecs,
                config.killasgroup,
            )


class ChildrenFile:
    """The file naming this daemon's live children, kept current without blocking the loop
    on every change: changes of one loop turn (500 spawns at start) cost one write."""

    def __init__(
        self,
        path: str,
        loop: asyncio.AbstractEventLoop,
        children: Callable[[], Iterator[ChildRecord]],
        log: MainLog,
    ) -> None:
        self.path = path
        self._loop = loop
        self._children = children
        self._log = log
        self._pending: asyncio.Handle | None = None
        self._failed = False
        self._header = {
            "format": FORMAT,
            "boot_id": boot_id(),
            "daemon_pid": os.getpid(),
            "daemon_start_time": start_time(os.getpid()),
        }

    def changed(self) -> None:
        if self._pending is None:
            self._pending = self._loop.call_soon(self._write)

    def _write(self) -> None:
        self._pending = None
        document = {**self._header, "children": [asdict(c) for c in self._children()]}
        temporary = f"{self.path}.tmp"
        try:
            with open(temporary, "w") as handle:
                json.dump(document, handle)
            os.replace(temporary, self.path)
        except OSError as exc:
            if not self._failed:  # one line, not one per change
                self._failed = True
                self._log.log(
                    LogLevel.WARN,
                    f"could not write {self.path} ({exc.strerror}): children left by a killed "
                    "daemon will not be found at the next start",
                )

    def remove(self) -> None:
        """The daemon ends normally with every child stopped: nothing is left over."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _read(path: str) -> dict[str, object] | None:
    try:
        with open(path) as handle:
            document = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _records(document: dict[str, object]) -> list[ChildRecord]:
    records = []
    children = document.get("children")
    for item in children if isinstance(children, list) else ():
        with contextlib.suppress(TypeError):
            records.append(ChildRecord(**item))
    return records


async def stop_leftovers(path: str, log: MainLog) -> None:
    """End what a dead daemon of this configuration left running (see the module's text)."""
    document = _read(path)
    if document is None:
        return
    daemon = document.get("daemon_pid")
    if document.get("boot_id") != boot_id() or document.get("format") != FORMAT:
        return
    if (
        isinstance(daemon, int)
        and daemon != os.getpid()
        and start_time(daemon) == document.get("daemon_start_time")
    ):
        log.log(
            LogLevel.WARN,
            f"{path} belongs to supervisord pid {daemon}, which is still running: "
            "its children are left alone",
        )
        return
    held: list[tuple[ChildRecord, HeldProcess]] = []
    for record in _records(document):
        process = HeldProcess.open(record.pid, record.start_time)
        if process is None:
            continue
        log.log(
            LogLevel.WARN,
            f"stopping {record.name} (pid {record.pid}), left running by a supervisord "
            f"that did not stop it; sending {signal.Signals(record.stopsignal).name}",
        )
        _signal(record, process, record.stopsignal)
        held.append((record, process))
    try:
        await _escalate(held, log)
    finally:
        for _, process in held:
            process.close()


async def _escalate(held: list[tuple[ChildRecord, HeldProcess]], log: MainLog) -> None:
    """SIGKILL each leftover still running `stopwaitsecs` after its stop signal."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    waiting, killed = held, []
    for limit in sorted({record.stopwaitsecs for record, _ in held}):
        left = await wait_all_gone([p for _, p in waiting], limit - (loop.time() - began))
        waiting = [(record, p) for record, p in waiting if p in left]
        for record, process in [(r, p) for r, p in waiting if r.stopwaitsecs == limit]:
            log.log(
                LogLevel.WARN,
                f"killing {record.name} (pid {record.pid}) with SIGKILL: still running "
                f"{limit}s after its stop signal",
            )
            _signal(record, process, signal.SIGKILL)
            killed.append(process)
        waiting = [(record, p) for record, p in waiting if record.stopwaitsecs != limit]
    await wait_all_gone(killed, KILL_WAIT_SECONDS)


def _signal(record: ChildRecord, process: HeldProcess, number: int) -> None:
    if process.send(number) and record.as_group:
        # the group's leader is pinned by its pidfd and was still there to be signalled,
        # so its process group (the same number) is still the group it leads
        with contextlib.suppress(OSError):
            os.killpg(record.pid, number)
