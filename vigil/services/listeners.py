"""Event listener pools: each pool buffers the events it subscribes to and hands them, oldest
first, one at a time, to whichever of its listener processes is READY.

Nothing here waits or polls: an event is sent the moment it arrives, a listener says READY, a
listener reaches RUNNING or an event comes back. Writes to a listener's stdin are buffered by
the runtime, so a stuck listener holds up only its own pool.

Serials are Supervisor's: one daemon-wide serial per event, given when a pool first takes it,
and one per pool; both count from 0 and wrap to 0 after ``sys.maxsize``.
"""

from __future__ import annotations

import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from vigil.config.model import GroupConfig, GroupKind, LogLevel, ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import Event, ProcessGroupChanged, ProcessStateChanged
from vigil.core.listener_protocol import (
    ListenerProtocol,
    ProtocolEffect,
    Release,
    envelope,
    result_handler,
)
from vigil.core.ports import LogFollower, MainLog
from vigil.core.states import ListenerState, ProcessState
from vigil.event_types import lineage
from vigil.runtime.pipes import StdinClosed
from vigil.runtime.supervisor import Supervisor
from vigil.services.childlog import ChildLog

MAX_SERIAL = sys.maxsize
# A listener holding an event when its child enters one of these died with the event unanswered.
GONE_STATES = frozenset(
    {
        ProcessState.BACKOFF,
        ProcessState.EXITED,
        ProcessState.STOPPED,
        ProcessState.FATAL,
        ProcessState.UNKNOWN,
    }
)


class Serial:
    """A counter that gives 0, 1, ... and starts again at 0 after ``limit``."""

    def __init__(self, last: int = -1, limit: int = MAX_SERIAL) -> None:
        self.last = last
        self._limit = limit

    def next(self) -> int:
        if self.last >= self._limit:
            self.last = -1
        self.last += 1
        return self.last


class EventSerials:
    """The daemon-wide serial of each event: every pool taking the same event sees the same
    number, and events no pool takes use none (as in Supervisor)."""

    REMEMBERED = 64  # an event reaches every pool within one publish; a few suffice

    def __init__(self, counter: Serial | None = None) -> None:
        self._counter = counter or Serial()
        # keyed by id(); holding the event keeps its id from being reused meanwhile
        self._recent: OrderedDict[int, tuple[Event, int]] = OrderedDict()

    def of(self, event: Event) -> int:
        known = self._recent.get(id(event))
        if known is not None and known[0] is event:
            return known[1]
        serial = self._counter.next()
        self._recent[id(event)] = (event, serial)
        if len(self._recent) > self.REMEMBERED:
            self._recent.popitem(last=False)
        return serial


@dataclass(frozen=True)
class Queued:
    """An event in a pool's buffer, with the serials it keeps however often it is sent."""

    event: Event
    serial: int
    pool_serial: int


class ListenerProcess(Protocol):
    """What a pool needs of one of its processes (a ProcessRunner in the daemon)."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> ProcessState: ...

    def write_stdin(self, data: bytes) -> None: ...


class _Member:
    def __init__(self, process: ListenerProcess, protocol: ListenerProtocol) -> None:
        self.process = process
        self.protocol = protocol
        self.holding: Queued | None = None  # the event sent and not yet answered

    @property
    def ready(self) -> bool:
        return (
            self.process.state is ProcessState.RUNNING
            and self.protocol.state is ListenerState.READY
        )


class ListenerPool:
    """One ``[eventlistener:x]`` group at run time."""

    def __init__(
        self,
        config: GroupConfig,
        processes: Iterable[ListenerProcess],
        *,
        serials: EventSerials,
        server: str,
        log: MainLog,
        pool_serial: Serial | None = None,
    ) -> None:
        handler = result_handler(config.result_handler)
        self.name = config.name
        self.events = config.events
        self.buffer_size = config.buffer_size
        self._serials = serials
        self._server = server
        self._log = log
        self._members = {
            process.name: _Member(process, ListenerProtocol(process.name, handler))
            for process in processes
        }
        self._buffer: deque[Queued] = deque()
        self._pool_serial = pool_serial or Serial()
        self._last_taken: Event | None = None
        self.closed = False

    # -- what the pool is asked -----------------------------------------------------------

    @property
    def buffered(self) -> list[Queued]:
        return list(self._buffer)

    def listener_state(self, name: str) -> ListenerState:
        return self._members[name].protocol.state

    def subscribes_to(self, event_name: str) -> bool:
        return any(name in self.events for name in lineage(event_name))

    # -- inputs ---------------------------------------------------------------------------

    def take(self, event: Event) -> None:
        """An event of a subscribed type happened (the bus calls this)."""
        if self.closed or event is self._last_taken:
            return  # one copy per pool, even when several of its types match the event
        self._last_taken = event
        self._enqueue(Queued(event, self._serials.of(event), self._pool_serial.next()))
        self.dispatch()

    def output(self, name: str, data: bytes) -> None:
        """A listener wrote on its stdout."""
        member = self._members.get(name)
        if member is None or self.closed:
            return
        self._apply(member, member.protocol.feed(data))
        self.dispatch()

    def process_changed(self, name: str, state: ProcessState) -> None:
        """One of the pool's processes changed state."""
        member = self._members.get(name)
        if member is None or self.closed:
            return
        if state is ProcessState.STARTING:
            member.protocol.restart()  # a new child owes a READY first
        if state in GONE_STATES or state is ProcessState.STARTING:
            self._release(member, requeue=True)  # died while BUSY: the event goes back
        self.dispatch()

    def close(self) -> None:
        """The group was removed: drop what is buffered and ignore everything after."""
        self.closed = True
        self._buffer.clear()

    # -- the buffer -----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Send buffered events, oldest first, while a listener is READY."""
        while self._buffer and not self.closed:
            queued = self._buffer[0]
            if not any(self._send(member, queued) for member in self._ready_members()):
                return
            self._buffer.popleft()

    def _ready_members(self) -> Iterable[_Member]:
        return [member for member in self._members.values() if member.ready]

    def _send(self, member: _Member, queued: Queued) -> bool:
        data = envelope(self._server, queued.serial, self.name, queued.pool_serial, queued.event)
        name = member.process.name
        try:
            member.process.write_stdin(data)
        except StdinClosed:
            self._log.log(
                LogLevel.DEBG,
                f"epipe occurred while sending event {queued.serial} to listener {name}, "
                "listener state unchanged",
            )
            return False
        member.protocol.sent()
        member.holding = queued
        self._log.log(LogLevel.DEBG, f"event {queued.serial} sent to listener {name}")
        return True

    def _enqueue(self, queued: Queued, *, head: bool = False) -> None:
        if head:
            self._log.log(
                LogLevel.DEBG,
                f"rebuffering event {queued.serial} for pool {self.name} "
                f"(buf size={len(self._buffer)}, max={self.buffer_size})",
            )
        if len(self._buffer) >= self.buffer_size and self._buffer:
            discarded = self._buffer.popleft()
            self._log.log(
                LogLevel.ERRO,
                f"pool {self.name} event buffer overflowed, discarding event {discarded.serial}",
            )
        if head:
            self._buffer.appendleft(queued)
        else:
            self._buffer.append(queued)

    def _apply(self, member: _Member, effects: list[ProtocolEffect]) -> None:
        for effect in effects:
            if isinstance(effect, Release):
                self._release(member, requeue=effect.requeue)
            else:
                self._log.log(effect.level, effect.message)

    def _release(self, member: _Member, *, requeue: bool) -> None:
        held, member.holding = member.holding, None
        if held is not None and requeue:
            self._enqueue(held, head=True)


class ListenerPools:
    """Every listener pool of the daemon, created and removed with their groups.

    Pools appear when PROCESS_GROUP_ADDED announces an eventlistener group (at startup, on
    addProcessGroup and update) and go with PROCESS_GROUP_REMOVED. A new pool also receives
    the PROCESS_GROUP_ADDED of its own group when it subscribes to it, as in Supervisor.
    """

    def __init__(self, supervisor: Supervisor, server: str, log: MainLog) -> None:
        self._supervisor = supervisor
        self._bus: EventBus = supervisor.context.bus
        self._server = server
        self._log = log
        self._serials = EventSerials()
        self._pools: dict[str, ListenerPool] = {}
        self._bus.subscribe("PROCESS_GROUP_ADDED", self._group_added)
        self._bus.subscribe("PROCESS_GROUP_REMOVED", self._group_removed)
        self._bus.subscribe("PROCESS_STATE", self._process_state)

    def get(self, name: str) -> ListenerPool | None:
        return self._pools.get(name)

    def listener_output(self, group: str, name: str, data: bytes) -> None:
        pool = self._pools.get(group)
        if pool is not None:
            pool.output(name, data)

    def close(self) -> None:
        for name in list(self._pools):
            self._detach(name)
        self._bus.unsubscribe("PROCESS_GROUP_ADDED", self._group_added)
        self._bus.unsubscribe("PROCESS_GROUP_REMOVED", self._group_removed)
        self._bus.unsubscribe("PROCESS_STATE", self._process_state)

    def _group_added(self, event: Event) -> None:
        if not isinstance(event, ProcessGroupChanged):
            return
        group = self._supervisor.groups.get(event.group)
        if group is None or group.config.kind is not GroupKind.EVENTLISTENER:
            return
        if group.name in self._pools:
            self._detach(group.name)
        pool = ListenerPool(
            group.config,
            group.runners.values(),
            serials=self._serials,
            server=self._server,
            log=self._log,
        )
        self._pools[group.name] = pool
        for type_name in pool.events:
            self._bus.subscribe(type_name, pool.take)
        if pool.subscribes_to(event.name):
            pool.take(event)

    def _group_removed(self, event: Event) -> None:
        if event.group in self._pools:
            self._detach(event.group)

    def _detach(self, name: str) -> None:
        pool = self._pools.pop(name)
        for type_name in pool.events:
            self._bus.unsubscribe(type_name, pool.take)
        pool.close()

    def _process_state(self, event: Event) -> None:
        if not isinstance(event, ProcessStateChanged):
            return
        pool = self._pools.get(event.group)
        if pool is not None:
            pool.process_changed(event.process, event.new)


class ListenerStdout:
    """The stdout of an event listener process: the protocol channel.

    What the listener says goes to its pool; it is also written to the stdout log file when
    one is configured and shown in the main log at debug level (as bytes, worded as
    Supervisor's), but it never becomes PROCESS_LOG or PROCESS_COMMUNICATION events.
    """

    def __init__(
        self,
        process: ProcessConfig,
        log_file: ChildLog,
        pools: ListenerPools,
        mainlog: MainLog,
        *,
        mainlog_debug: bool,
    ) -> None:
        self._name = process.name
        self._group = process.group
        self._file = log_file
        self._pools = pools
        self._mainlog = mainlog
        self._mainlog_debug = mainlog_debug

    @property
    def path(self) -> str | None:
        return self._file.path

    @property
    def error(self) -> str | None:
        return self._file.error

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._mainlog_debug:
            self._mainlog.log(LogLevel.DEBG, f"{self._name!r} stdout output:\n{data!r}")
        self._file.write(data)
        self._pools.listener_output(self._group, self._name, data)

    def reopen(self) -> None:
        self._file.reopen()

    def clear(self) -> None:
        self._file.clear()

    def follow(self, follower: LogFollower) -> Callable[[], None]:
        return self._file.follow(follower)

    def set_rotation(self, maxbytes: int, backups: int) -> None:
        self._file.set_rotation(maxbytes, backups)

    def close(self) -> None:
        self._file.close()
