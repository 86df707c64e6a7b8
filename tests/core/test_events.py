"""Typed events: frozen fields, a type name from the one table, and the payload of the moment
the event happened (Supervisor's own renderings are compared in tests/events)."""

from __future__ import annotations

import dataclasses

import pytest

from vigil.core.bus import EventBus
from vigil.core.events import (
    Event,
    ProcessCommunication,
    ProcessGroupChanged,
    ProcessGroupScaled,
    ProcessLogged,
    ProcessStateChanged,
    RemoteCommunication,
    SupervisorStateChanged,
    Tick,
)
from vigil.core.states import ProcessState as S
from vigil.event_types import EVENT_TYPES, SUBSCRIBABLE, SUPERVISOR_ROOT, VIGIL_ROOT, lineage

AT = 1_700_000_000.25

EXAMPLES: list[tuple[Event, str | None, str | None]] = [
    (ProcessStateChanged("p", "g", S.STARTING, S.RUNNING, 7, 0, True, AT), "p", "g"),
    (ProcessLogged("p", "g", 7, "stderr", b"x"), "p", "g"),
    (ProcessCommunication("p", "g", 7, "stdout", b"x"), "p", "g"),
    (RemoteCommunication("t", "x"), None, None),
    (SupervisorStateChanged(running=False), None, None),
    (Tick(60, 1_700_000_040), None, None),
    (ProcessGroupChanged("g", added=False), None, "g"),
]


@pytest.mark.parametrize(("event", "process", "group"), EXAMPLES, ids=lambda e: str(e))
def test_each_event_is_a_supervisor_type_with_process_and_group(
    event: Event, process: str | None, group: str | None
) -> None:
    assert event.name in EVENT_TYPES and lineage(event.name)[-1] == SUPERVISOR_ROOT
    assert (event.process, event.group) == (process, group)


@pytest.mark.parametrize(("event", "process", "group"), EXAMPLES, ids=lambda e: str(e))
def test_events_are_frozen(event: Event, process: str | None, group: str | None) -> None:
    field = dataclasses.fields(event)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, field, "changed")


@pytest.mark.parametrize("state", list(S))
def test_a_state_change_is_named_after_its_new_state(state: S) -> None:
    event = ProcessStateChanged("p", "g", S.STOPPED, state, 7, 2, False, AT)
    assert event.name == f"PROCESS_STATE_{state.name}"


def test_state_payloads_carry_the_extras_supervisor_gives_each_state() -> None:
    def payload(new: S) -> str:
        return ProcessStateChanged("p", "g", S.STARTING, new, 42, 3, False, AT).payload()

    head = "processname:p groupname:g from_state:STARTING"
    assert payload(S.STARTING) == f"{head} tries:3"
    assert payload(S.BACKOFF) == f"{head} tries:3"
    assert payload(S.EXITED) == f"{head} expected:0 pid:42"
    assert payload(S.RUNNING) == payload(S.STOPPING) == payload(S.STOPPED) == f"{head} pid:42"
    assert payload(S.FATAL) == payload(S.UNKNOWN) == head


def test_output_that_is_not_utf8_is_shown_as_supervisor_shows_it() -> None:
    event = ProcessLogged("p", "g", 7, "stdout", b"\xff\n")
    assert event.name == "PROCESS_LOG_STDOUT"
    assert (
        event.payload()
        == "processname:p groupname:g pid:7 channel:stdout\nUndecodable: b'\\xff\\n'"
    )
    communication = ProcessCommunication("p", "g", 7, "stderr", "h\u00e9".encode())
    assert communication.name == "PROCESS_COMMUNICATION_STDERR"
    assert communication.payload() == "processname:p groupname:g pid:7\nh\u00e9"


def test_daemon_wide_events() -> None:
    assert RemoteCommunication("t", "a\nb").payload() == "type:t\na\nb"
    assert SupervisorStateChanged(running=True).name == "SUPERVISOR_STATE_CHANGE_RUNNING"
    assert SupervisorStateChanged(running=True).payload() == ""
    assert Tick(5, 1_700_000_005).payload() == "when:1700000005"
    assert ProcessGroupChanged("g", added=True).name == "PROCESS_GROUP_ADDED"
    assert ProcessGroupChanged("g", added=True).payload() == "groupname:g\n"


def test_a_scale_is_a_vigil_event_that_supervisor_listeners_never_get() -> None:
    """PROCESS_GROUP_SCALED is under VIGIL_EVENT: a subscriber of EVENT (or PROCESS_GROUP)
    does not receive it, and no listener pool may name it."""
    event = ProcessGroupScaled("w", added=("w_2", "w_3"), removed=())
    assert lineage(event.name) == ("PROCESS_GROUP_SCALED", VIGIL_ROOT)
    assert event.name not in SUBSCRIBABLE
    assert (event.process, event.group) == (None, "w")
    assert event.payload() == "groupname:w added:w_2,w_3 removed:\n"
    bus = EventBus()
    seen: dict[str, list[object]] = {"EVENT": [], "PROCESS_GROUP": [], VIGIL_ROOT: []}
    for root, got in seen.items():
        bus.subscribe(root, got.append)
    bus.publish(event)
    assert seen == {"EVENT": [], "PROCESS_GROUP": [], VIGIL_ROOT: [event]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.added = ()  # type: ignore[misc]
