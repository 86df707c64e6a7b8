"""The bus delivers an event to the subscribers of its type and of each ancestor, and never
across roots: a Supervisor listener subscribed to EVENT must not see vigil's own types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pytest

from vigil.core.bus import EventBus
from vigil.core.events import Event, RemoteCommunication, Tick


@dataclass(frozen=True)
class VigilOnly:
    """Stands for the vigil-only types other features will add (readiness, health ...)."""

    name: ClassVar[str] = "VIGIL_EVENT"
    process: ClassVar[None] = None
    group: ClassVar[None] = None

    def payload(self) -> str:
        return "nothing a Supervisor listener could parse"


def test_an_event_subscriber_never_receives_a_vigil_type() -> None:
    bus = EventBus()
    supervisors: list[Event] = []
    vigils: list[Event] = []
    bus.subscribe("EVENT", supervisors.append)
    bus.subscribe("VIGIL_EVENT", vigils.append)
    bus.publish(VigilOnly())
    bus.publish(RemoteCommunication("t", "x"))
    assert supervisors == [RemoteCommunication("t", "x")]
    assert vigils == [VigilOnly()]


def test_subscribing_to_vigils_root_is_not_subscribing_to_supervisors_types() -> None:
    bus = EventBus()
    bus.subscribe("VIGIL_EVENT", lambda event: None)
    assert not bus.has_subscribers("TICK_5")
    bus.subscribe("EVENT", lambda event: None)
    assert bus.has_subscribers("TICK_5")


def test_an_event_reaches_its_type_and_each_ancestor_once() -> None:
    bus = EventBus()
    seen: list[tuple[str, Event]] = []

    def recorder(name: str) -> Callable[[Event], None]:
        return lambda event: seen.append((name, event))

    for name in ("TICK_5", "TICK", "EVENT", "TICK_60"):
        bus.subscribe(name, recorder(name))
    tick = Tick(5, 1_700_000_005)
    bus.publish(tick)
    assert seen == [("TICK_5", tick), ("TICK", tick), ("EVENT", tick)]


def test_an_unknown_type_is_refused_at_subscription() -> None:
    with pytest.raises(KeyError):
        EventBus().subscribe("TICK_7", lambda event: None)
