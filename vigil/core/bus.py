"""The event bus: an instance owned by the daemon (no module globals), matching subscriptions
by type hierarchy."""

from __future__ import annotations

from collections.abc import Callable

from vigil.core.events import Event, lineage

Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}

    def subscribe(self, type_name: str, callback: Subscriber) -> None:
        lineage(type_name)  # a KeyError here names an unknown type at subscription time
        self._subscribers.setdefault(type_name, []).append(callback)

    def unsubscribe(self, type_name: str, callback: Subscriber) -> None:
        callbacks = self._subscribers.get(type_name, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def has_subscribers(self, type_name: str) -> bool:
        """Whether anything would receive an event of this type (e.g. to skip TICK timers)."""
        return any(self._subscribers.get(name) for name in lineage(type_name))

    def publish(self, event: Event) -> None:
        for name in lineage(event.name):
            for callback in tuple(self._subscribers.get(name, ())):
                callback(event)
