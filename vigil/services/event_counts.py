"""How many events of each type the daemon has published, for ``/metrics``.

Every family of types is followed but TICK: a subscription to a TICK type arms the tick timer,
which would wake an idle daemon every five seconds only to be counted. A count is one dict
addition per event.
"""

from __future__ import annotations

from vigil.core.bus import EventBus
from vigil.core.events import Event
from vigil.event_types import EVENT_TYPES, SUPERVISOR_ROOT, VIGIL_ROOT

UNCOUNTED = frozenset({"TICK"})


def counted_families() -> list[str]:
    """The types subscribed to: each child of Supervisor's root but TICK, and vigil's root."""
    families = [
        name
        for name, row in EVENT_TYPES.items()
        if row.parent == SUPERVISOR_ROOT and name not in UNCOUNTED
    ]
    return [*families, VIGIL_ROOT]


class EventCounts:
    def __init__(self, bus: EventBus) -> None:
        self.counts: dict[str, int] = {}
        for family in counted_families():
            bus.subscribe(family, self._count)

    def _count(self, event: Event) -> None:
        name = event.name
        self.counts[name] = self.counts.get(name, 0) + 1
