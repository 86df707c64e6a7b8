"""The event bus: an instance owned by the daemon (no module globals), matching subscriptions
by type hierarchy.

An event reaches the subscribers of its type and of each ancestor up to its root, never beyond:
``EVENT`` and ``VIGIL_EVENT`` are separate roots, so subscribing to ``EVENT`` (all a Supervisor
listener can ask for) never brings a vigil-only type."""

from __future__ import annotations

from collections.abc import Callable

from vigil.core.events import Event
from vigil.event_types import lineage

Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._watchers: list[Callable[[], None]] = []

    def subscribe(self, type_name: str, callback: Subscriber) -> None:
        lineage(type_name)  # a KeyError here names an unknown type at subscription time
        self._subscribers.setdefault(type_name, []).append(callback)
        self._changed()

    def unsubscribe(self, type_name: str, callback: Subscriber) -> None:
        callbacks = self._subscribers.get(type_name, [])
        if callback in callbacks:
            callbacks.remove(callback)
            self._changed()

    def watch_subscriptions(self, callback: Callable[[], None]) -> None:
        """Be told after every subscribe and unsubscribe, so work that only matters to
        subscribers (TICK timers) can start and stop with them instead of running idle."""
        self._watchers.append(callback)

    def has_subscribers(self, type_name: str) -> bool:
        """Whether anything would receive an event of this type (e.g. to skip TICK timers)."""
        return any(self._subscribers.get(name) for name in lineage(type_name))

    def publish(self, event: Event) -> None:
        # Who receives the event is decided before anyone is called: a subscriber added while
        # the event is delivered (a listener pool created for PROCESS_GROUP_ADDED) does not get
        # it or not depending on which of its types was walked first.
        receivers = [
            callback for name in lineage(event.name) for callback in self._subscribers.get(name, ())
        ]
        for callback in receivers:
            callback(event)

    def _changed(self) -> None:
        for watcher in tuple(self._watchers):
            watcher()
