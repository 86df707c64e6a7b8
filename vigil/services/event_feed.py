"""The feed of daemon events for live subscribers (the JSON API's event stream, the dashboard).

Each event gets an id as it is published and is kept in a bounded ring, so a subscriber that
lost its connection resumes from the last id it saw (``Last-Event-ID``) without missing
anything the ring still holds. Ids are ``<epoch>-<n>``: the epoch is fixed for the life of the
daemon, so an id from an earlier daemon is recognised as such instead of being mistaken for a
position in this one's sequence. Each subscriber has a bounded queue of its own; one that
falls that far behind loses what is queued and is told how much it missed, and nothing it does
ever delays the publisher or another subscriber.

Output (PROCESS_LOG) and TICK events are not in the feed: output has streams of its own, and
subscribing to TICK would wake an idle daemon every five seconds for nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vigil.core.bus import EventBus
from vigil.core.events import Event
from vigil.event_types import VIGIL_ROOT
from vigil.services.wakeup import Wakeup

FEED_TYPES = (
    "PROCESS_STATE",
    "PROCESS_GROUP",
    "PROCESS_COMMUNICATION",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    VIGIL_ROOT,
)
RING_SIZE = 1024
QUEUE_SIZE = 1024


@dataclass(frozen=True)
class FeedEntry:
    id: str
    event: Event


@dataclass(frozen=True)
class Missed:
    """Events this subscriber will never see: ``count`` of them, or an unknown number
    (``None``) when it resumed from an id the ring no longer holds or another daemon gave."""

    count: int | None


Accept = Callable[[Event], bool]


class Subscription:
    """One subscriber's queue; ``next`` waits for what is new."""

    def __init__(self, feed: EventFeed, accept: Accept, limit: int) -> None:
        self._feed = feed
        self._accept = accept
        self._limit = limit
        self._queue: deque[FeedEntry | Missed] = deque()
        self._wakeup = Wakeup()

    def offer(self, entry: FeedEntry) -> None:
        if not self._accept(entry.event):
            return
        if len(self._queue) >= self._limit:
            self._queue.append(entry)
            self._queue = deque([Missed(_count_lost(self._queue))])
        else:
            self._queue.append(entry)
        self._wakeup.wake()

    def missed(self, count: int | None) -> None:
        self._queue.append(Missed(count))

    def replay(self, entry: FeedEntry) -> None:
        """An event from before the subscription: queued whatever the limit (the ring bounds
        how many there can be)."""
        if self._accept(entry.event):
            self._queue.append(entry)

    @property
    def closed(self) -> bool:
        return self._wakeup.closed

    async def next(self, timeout: float) -> list[FeedEntry | Missed]:
        """What arrived since the last call; empty after ``timeout`` seconds of nothing, or
        once the subscription is closed."""
        if not self._queue:
            await self._wakeup.wait(timeout)
        items = list(self._queue)
        self._queue.clear()
        return items

    def close(self) -> None:
        if not self.closed:
            self._feed.unsubscribe(self)
            self._wakeup.close()


def _count_lost(items: Iterable[FeedEntry | Missed]) -> int | None:
    """How many events these stand for (None when an earlier loss was already uncounted)."""
    lost = 0
    for item in items:
        if isinstance(item, FeedEntry):
            lost += 1
        elif item.count is None:
            return None
        else:
            lost += item.count
    return lost


class EventFeed:
    def __init__(self, bus: EventBus, epoch: int, *, ring_size: int = RING_SIZE) -> None:
        self.epoch = epoch
        self._ring: deque[tuple[int, FeedEntry]] = deque(maxlen=ring_size)
        self._count = 0
        self._subscriptions: list[Subscription] = []
        for type_name in FEED_TYPES:
            bus.subscribe(type_name, self._publish)

    @property
    def last_id(self) -> str:
        return f"{self.epoch}-{self._count}"

    def subscribe(
        self, accept: Accept, last_id: str | None = None, *, limit: int = QUEUE_SIZE
    ) -> Subscription:
        """A subscription to what is published from now on; with ``last_id``, first what the
        ring holds after it (or a Missed when the ring cannot tell)."""
        subscription = Subscription(self, accept, limit)
        if last_id is not None:
            self._replay(subscription, last_id)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def _replay(self, subscription: Subscription, last_id: str) -> None:
        epoch, _, number = last_id.partition("-")
        if epoch != str(self.epoch) or not number.isdigit() or int(number) > self._count:
            subscription.missed(None)  # another daemon's id, or not one of ours at all
            return
        seen = int(number)
        oldest = self._ring[0][0] if self._ring else self._count + 1
        if seen + 1 < oldest:
            subscription.missed(oldest - seen - 1)
        for position, entry in self._ring:
            if position > seen:
                subscription.replay(entry)

    def _publish(self, event: Event) -> None:
        self._count += 1
        entry = FeedEntry(f"{self.epoch}-{self._count}", event)
        self._ring.append((self._count, entry))
        for subscription in tuple(self._subscriptions):
            subscription.offer(entry)
