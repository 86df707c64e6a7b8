"""Supervisor's event types, their hierarchy and their exact payloads.

An event is rendered once, when it happens (as Supervisor renders its extras eagerly), so a
listener that receives it later still sees the pid and state of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.core.states import ProcessState

# Each type and its parent; subscribing to a parent receives all its descendants.
PARENTS: dict[str, str | None] = {
    "EVENT": None,
    "PROCESS_STATE": "EVENT",
    **{f"PROCESS_STATE_{state.name}": "PROCESS_STATE" for state in ProcessState},
    "PROCESS_COMMUNICATION": "EVENT",
    "PROCESS_COMMUNICATION_STDOUT": "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR": "PROCESS_COMMUNICATION",
    "PROCESS_LOG": "EVENT",
    "PROCESS_LOG_STDOUT": "PROCESS_LOG",
    "PROCESS_LOG_STDERR": "PROCESS_LOG",
    "REMOTE_COMMUNICATION": "EVENT",
    "SUPERVISOR_STATE_CHANGE": "EVENT",
    "SUPERVISOR_STATE_CHANGE_RUNNING": "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_STOPPING": "SUPERVISOR_STATE_CHANGE",
    "TICK": "EVENT",
    "TICK_5": "TICK",
    "TICK_60": "TICK",
    "TICK_3600": "TICK",
    "PROCESS_GROUP": "EVENT",
    "PROCESS_GROUP_ADDED": "PROCESS_GROUP",
    "PROCESS_GROUP_REMOVED": "PROCESS_GROUP",
}
TICK_PERIODS = {"TICK_5": 5, "TICK_60": 60, "TICK_3600": 3600}


def lineage(name: str) -> tuple[str, ...]:
    """The type and all its ancestors, nearest first."""
    names: list[str] = []
    current: str | None = name
    while current is not None:
        names.append(current)
        current = PARENTS[current]
    return tuple(names)


@dataclass(frozen=True)
class Event:
    name: str
    payload: str
    process: str | None = None
    group: str | None = None


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"Undecodable: {data!r}"


def process_state(
    process: str,
    group: str,
    old: ProcessState,
    new: ProcessState,
    *,
    pid: int,
    tries: int,
    expected: bool,
) -> Event:
    tokens = [f"processname:{process}", f"groupname:{group}", f"from_state:{old.name}"]
    if new in (ProcessState.STARTING, ProcessState.BACKOFF):
        tokens.append(f"tries:{tries}")
    elif new is ProcessState.EXITED:
        tokens += [f"expected:{int(expected)}", f"pid:{pid}"]
    elif new in (ProcessState.RUNNING, ProcessState.STOPPING, ProcessState.STOPPED):
        tokens.append(f"pid:{pid}")
    return Event(f"PROCESS_STATE_{new.name}", " ".join(tokens), process, group)


def process_log(process: str, group: str, pid: int, channel: str, data: bytes) -> Event:
    payload = f"processname:{process} groupname:{group} pid:{pid} channel:{channel}\n{_text(data)}"
    return Event(f"PROCESS_LOG_{channel.upper()}", payload, process, group)


def process_communication(process: str, group: str, pid: int, channel: str, data: bytes) -> Event:
    payload = f"processname:{process} groupname:{group} pid:{pid}\n{_text(data)}"
    return Event(f"PROCESS_COMMUNICATION_{channel.upper()}", payload, process, group)


def remote_communication(type_: str, data: str) -> Event:
    return Event("REMOTE_COMMUNICATION", f"type:{type_}\n{data}")


def supervisor_state(running: bool) -> Event:
    return Event(f"SUPERVISOR_STATE_CHANGE_{'RUNNING' if running else 'STOPPING'}", "")


def tick(name: str, when: int) -> Event:
    return Event(name, f"when:{when}")


def process_group(group: str, added: bool) -> Event:
    name = "PROCESS_GROUP_ADDED" if added else "PROCESS_GROUP_REMOVED"
    return Event(name, f"groupname:{group}\n", group=group)
