"""The one table of event types: two roots that never meet, Supervisor's types subscribable and
vigil's not, and the PROCESS_STATE_* names in step with core's ProcessState."""

from __future__ import annotations

import pytest

from vigil.core.states import ProcessState
from vigil.event_types import (
    EVENT_TYPES,
    PROCESS_STATE_NAMES,
    SUBSCRIBABLE,
    SUPERVISOR_ROOT,
    TICK_PERIODS,
    VIGIL_ROOT,
    lineage,
)

# Supervisor 4.3.0's events.EventTypes, as config/programs.py used to restate it.
SUPERVISOR_TYPES = {
    "EVENT",
    *(f"PROCESS_STATE{suffix}" for suffix in ("", *(f"_{s.name}" for s in ProcessState))),
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
}


def test_process_state_names_are_cores_process_states() -> None:
    assert tuple(state.name for state in ProcessState) == PROCESS_STATE_NAMES


def test_subscribable_types_are_exactly_supervisors() -> None:
    assert len(SUPERVISOR_TYPES) == 27
    assert SUBSCRIBABLE == SUPERVISOR_TYPES


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_type_ends_at_one_of_the_two_roots(name: str) -> None:
    names = lineage(name)
    assert names[0] == name and names[-1] in (SUPERVISOR_ROOT, VIGIL_ROOT)
    assert (SUPERVISOR_ROOT in names) != (VIGIL_ROOT in names)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_vigils_types_are_under_vigils_root_and_no_supervisor_listener_may_ask_for_them(
    name: str,
) -> None:
    vigils = VIGIL_ROOT in lineage(name)
    assert vigils == (name not in SUPERVISOR_TYPES)
    assert EVENT_TYPES[name].subscribable == (not vigils)


def test_tick_types_and_periods() -> None:
    assert dict(TICK_PERIODS) == {"TICK_5": 5, "TICK_60": 60, "TICK_3600": 3600}
    assert all(lineage(name) == (name, "TICK", "EVENT") for name in TICK_PERIODS)


def test_an_unknown_type_has_no_lineage() -> None:
    with pytest.raises(KeyError):
        lineage("TICK_7")
