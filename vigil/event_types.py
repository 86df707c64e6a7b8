"""The one table of event types: each name, its parent, and whether a listener pool may
subscribe to it.

It sits below config and core because both need it: the configuration refuses an unknown type
in ``[eventlistener:x] events=``, and the bus delivers an event to the subscribers of its type
and of every ancestor. Supervisor's types descend from ``EVENT``; vigil's own descend from
``VIGIL_EVENT``, a second root, so a Supervisor listener subscribed to ``EVENT`` never receives
a type it cannot know.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

SUPERVISOR_ROOT = "EVENT"
VIGIL_ROOT = "VIGIL_EVENT"
ROOTS = (SUPERVISOR_ROOT, VIGIL_ROOT)

# The suffixes of PROCESS_STATE_* (core's ProcessState; a test keeps the two in step).
PROCESS_STATE_NAMES = (
    "STOPPED",
    "STARTING",
    "RUNNING",
    "BACKOFF",
    "STOPPING",
    "EXITED",
    "FATAL",
    "UNKNOWN",
)
# The suffixes of PROCESS_HEALTH_* (core's health states).
HEALTH_NAMES = ("STARTING", "HEALTHY", "UNHEALTHY")
# Each TICK type and its period in seconds, in the order Supervisor emits them at a boundary
# they share.
TICK_PERIODS: Mapping[str, int] = MappingProxyType({"TICK_5": 5, "TICK_60": 60, "TICK_3600": 3600})


@dataclass(frozen=True)
class EventType:
    name: str
    parent: str | None
    # May be named in ``[eventlistener:x] events=`` (Supervisor's events.EventTypes).
    subscribable: bool


def _supervisor_types() -> Iterator[tuple[str, str | None]]:
    yield SUPERVISOR_ROOT, None
    yield "PROCESS_STATE", SUPERVISOR_ROOT
    for state in PROCESS_STATE_NAMES:
        yield f"PROCESS_STATE_{state}", "PROCESS_STATE"
    for family, children in (
        ("PROCESS_COMMUNICATION", ("STDOUT", "STDERR")),
        ("PROCESS_LOG", ("STDOUT", "STDERR")),
        ("REMOTE_COMMUNICATION", ()),
        ("SUPERVISOR_STATE_CHANGE", ("RUNNING", "STOPPING")),
        ("TICK", tuple(name.removeprefix("TICK_") for name in TICK_PERIODS)),
        ("PROCESS_GROUP", ("ADDED", "REMOVED")),
    ):
        yield family, SUPERVISOR_ROOT
        for child in children:
            yield f"{family}_{child}", family


def _table() -> dict[str, EventType]:
    rows = [EventType(name, parent, True) for name, parent in _supervisor_types()]
    # vigil's own types (readiness, health, configuration applied ...) join this root as they
    # are emitted; until a listener protocol for them exists, no pool subscribes to them.
    rows.append(EventType(VIGIL_ROOT, None, False))
    # a process's health check result changed (healthcheck, issue 14)
    rows.append(EventType("PROCESS_HEALTH", VIGIL_ROOT, False))
    for health in HEALTH_NAMES:
        rows.append(EventType(f"PROCESS_HEALTH_{health}", "PROCESS_HEALTH", False))
    # instances of a group added or removed while the group stays (scale, an update that
    # reconciles; issue 19): under VIGIL_EVENT, not PROCESS_GROUP, whose listeners take
    # ADDED and REMOVED for the whole group coming or going
    rows.append(EventType("PROCESS_GROUP_SCALED", VIGIL_ROOT, False))
    return {row.name: row for row in rows}


EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(_table())
SUBSCRIBABLE = frozenset(name for name, row in EVENT_TYPES.items() if row.subscribable)


def _lineage_of(name: str) -> tuple[str, ...]:
    names: list[str] = []
    current: str | None = name
    while current is not None:
        if current in names:
            raise ValueError(f"event type {name} has a cycle among its ancestors")
        names.append(current)
        current = EVENT_TYPES[current].parent
    if names[-1] not in ROOTS:
        raise ValueError(f"event type {name} descends from neither of {ROOTS}")
    return tuple(names)


# Walked once here, not at every publish: the bus asks for a lineage per event.
_LINEAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {name: _lineage_of(name) for name in EVENT_TYPES}
)


def lineage(name: str) -> tuple[str, ...]:
    """The type and all its ancestors, nearest first, ending at its root; KeyError for a name
    that is not a type. A type under ``VIGIL_EVENT`` never has ``EVENT`` among them."""
    return _LINEAGES[name]
