"""The events the daemon publishes, one frozen class per kind, each rendering its own
Supervisor listener payload.

Consumers read typed fields instead of re-parsing text; listener pools ask for the payload when
they send. Every field is frozen when the event happens (as Supervisor renders its extras
eagerly), so a listener that receives it later still sees the pid and state of that moment.
Type names and their hierarchy live in ``vigil.event_types``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from vigil.core.states import ProcessState

Channel = Literal["stdout", "stderr"]


class Event(Protocol):
    """What the bus and the listener pools need of any event."""

    @property
    def name(self) -> str:
        """The event type (a key of ``vigil.event_types.EVENT_TYPES``)."""
        ...

    @property
    def process(self) -> str | None: ...

    @property
    def group(self) -> str | None: ...

    def payload(self) -> str:
        """The body a Supervisor event listener receives after the envelope header."""
        ...


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"Undecodable: {data!r}"


@dataclass(frozen=True)
class ProcessStateChanged:
    process: str
    group: str
    old: ProcessState
    new: ProcessState
    pid: int
    tries: int
    expected: bool
    at: float  # wall-clock time of the change; not part of Supervisor's payload
    # vigil's restart policy (issue 15), not part of Supervisor's payload either: when (wall
    # time) the daemon will start the process again on its own (BACKOFF's retry, FATAL's
    # fatal_retry), None when it will not. `tries` is the count that wait follows.
    next_attempt_at: float | None = None

    @property
    def name(self) -> str:
        return f"PROCESS_STATE_{self.new.name}"

    def payload(self) -> str:
        # Supervisor's extras differ per new state: tries while (re)trying, pid once it has one.
        tokens = [
            f"processname:{self.process}",
            f"groupname:{self.group}",
            f"from_state:{self.old.name}",
        ]
        if self.new in (ProcessState.STARTING, ProcessState.BACKOFF):
            tokens.append(f"tries:{self.tries}")
        elif self.new is ProcessState.EXITED:
            tokens += [f"expected:{int(self.expected)}", f"pid:{self.pid}"]
        elif self.new in (ProcessState.RUNNING, ProcessState.STOPPING, ProcessState.STOPPED):
            tokens.append(f"pid:{self.pid}")
        return " ".join(tokens)


@dataclass(frozen=True)
class ProcessLogged:
    """Output a process wrote, when ``stdout_events_enabled``/``stderr_events_enabled``."""

    process: str
    group: str
    pid: int
    channel: Channel
    data: bytes

    @property
    def name(self) -> str:
        return f"PROCESS_LOG_{self.channel.upper()}"

    def payload(self) -> str:
        return (
            f"processname:{self.process} groupname:{self.group} pid:{self.pid} "
            f"channel:{self.channel}\n{_text(self.data)}"
        )


@dataclass(frozen=True)
class ProcessCommunication:
    """What a process wrote between the capture-mode tokens."""

    process: str
    group: str
    pid: int
    channel: Channel
    data: bytes

    @property
    def name(self) -> str:
        return f"PROCESS_COMMUNICATION_{self.channel.upper()}"

    def payload(self) -> str:
        return (
            f"processname:{self.process} groupname:{self.group} pid:{self.pid}\n{_text(self.data)}"
        )


@dataclass(frozen=True)
class RemoteCommunication:
    """Sent by an RPC client through ``supervisor.sendRemoteCommEvent``."""

    name: ClassVar[str] = "REMOTE_COMMUNICATION"
    process: ClassVar[None] = None
    group: ClassVar[None] = None
    type: str
    data: str

    def payload(self) -> str:
        return f"type:{self.type}\n{self.data}"


@dataclass(frozen=True)
class SupervisorStateChanged:
    """The daemon is running (after startup) or stopping (shutdown or restart)."""

    process: ClassVar[None] = None
    group: ClassVar[None] = None
    running: bool

    @property
    def name(self) -> str:
        return f"SUPERVISOR_STATE_CHANGE_{'RUNNING' if self.running else 'STOPPING'}"

    def payload(self) -> str:
        return ""


@dataclass(frozen=True)
class Tick:
    """A wall-clock boundary of ``period`` seconds was crossed; ``when`` is that boundary."""

    process: ClassVar[None] = None
    group: ClassVar[None] = None
    period: int
    when: int

    @property
    def name(self) -> str:
        return f"TICK_{self.period}"

    def payload(self) -> str:
        return f"when:{self.when}"


@dataclass(frozen=True)
class ProcessGroupChanged:
    """A group was added to the running daemon or removed from it."""

    process: ClassVar[None] = None
    group: str
    added: bool

    @property
    def name(self) -> str:
        return "PROCESS_GROUP_ADDED" if self.added else "PROCESS_GROUP_REMOVED"

    def payload(self) -> str:
        return f"groupname:{self.group}\n"


@dataclass(frozen=True)
class ProcessGroupScaled:
    """Instances of a group that stays were added or removed (a scale, or an update that
    reconciled the group to its file): vigil-only, under VIGIL_EVENT, so a Supervisor
    listener never takes it for PROCESS_GROUP_ADDED or _REMOVED. `added` and `removed` are
    process names (removed in the order they went, the highest number first)."""

    process: ClassVar[None] = None
    group: str
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def name(self) -> str:
        return "PROCESS_GROUP_SCALED"

    def payload(self) -> str:
        return (
            f"groupname:{self.group} added:{','.join(self.added)} "
            f"removed:{','.join(self.removed)}\n"
        )


@dataclass(frozen=True)
class ProcessHealthChanged:
    """A process's health changed (vigil-only: under VIGIL_EVENT, never sent to Supervisor
    listeners). `output` is what the last check saw."""

    process: str
    group: str
    old: str
    new: str  # "starting", "healthy" or "unhealthy"
    output: str
    at: float

    @property
    def name(self) -> str:
        return f"PROCESS_HEALTH_{self.new.upper()}"

    def payload(self) -> str:
        return (
            f"processname:{self.process} groupname:{self.group} from_health:{self.old} "
            f"health:{self.new}\n{self.output}"
        )
