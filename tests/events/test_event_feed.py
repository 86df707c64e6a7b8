"""The event feed's ring and subscriptions, without a daemon: resuming from an id the ring
still holds replays exactly what followed it, one it has dropped says how much was missed
and replays the whole ring, and a subscriber that falls behind its queue loses what was
queued, is told how much, and never blocks the publisher."""

from __future__ import annotations

import asyncio

from vigil.core.bus import EventBus
from vigil.core.events import ProcessStateChanged, RemoteCommunication
from vigil.core.states import ProcessState
from vigil.services.event_feed import EventFeed, FeedEntry, Missed


def changes(bus: EventBus, count: int) -> None:
    for n in range(count):
        old, new = (ProcessState.RUNNING, ProcessState.STOPPING)
        bus.publish(ProcessStateChanged("p", "g", old, new, pid=n, tries=0, expected=True, at=0))


def take(feed_subscription: object) -> list[FeedEntry | Missed]:
    return asyncio.run(feed_subscription.next(0.01))  # type: ignore[attr-defined]


def test_resuming_inside_the_ring_replays_what_followed() -> None:
    bus = EventBus()
    feed = EventFeed(bus, epoch=7, ring_size=100)
    changes(bus, 10)
    items = take(feed.subscribe(lambda event: True, "7-4"))
    assert [item.id for item in items if isinstance(item, FeedEntry)] == [
        f"7-{n}" for n in range(5, 11)
    ]


def test_resuming_from_a_dropped_id_counts_the_gap_and_replays_the_ring() -> None:
    bus = EventBus()
    feed = EventFeed(bus, epoch=7, ring_size=100)
    changes(bus, 250)
    items = take(feed.subscribe(lambda event: True, "7-5", limit=10))
    assert items[0] == Missed(145)  # 6..150 are gone; 151..250 are in the ring
    entries = [item for item in items[1:] if isinstance(item, FeedEntry)]
    assert [entry.id for entry in entries] == [f"7-{n}" for n in range(151, 251)]


def test_an_id_of_another_daemon_is_missed_unknown() -> None:
    bus = EventBus()
    feed = EventFeed(bus, epoch=7)
    changes(bus, 3)
    assert take(feed.subscribe(lambda event: True, "6-2")) == [Missed(None)]


def test_a_subscriber_behind_its_queue_is_told_what_it_lost() -> None:
    bus = EventBus()
    feed = EventFeed(bus, epoch=1)
    slow = feed.subscribe(lambda event: True, limit=5)
    keen = feed.subscribe(lambda event: True, limit=100)
    changes(bus, 12)
    slow_items = take(slow)
    # 1..5 queued, 6 did not fit: 6 lost; 7..10 queued, 11 did not fit: 11 lost; then 12
    assert slow_items[0] == Missed(11)
    assert [item.id for item in slow_items[1:] if isinstance(item, FeedEntry)] == ["1-12"]
    assert len(take(keen)) == 12


def test_a_filter_sees_only_what_it_accepts() -> None:
    bus = EventBus()
    feed = EventFeed(bus, epoch=1)
    only_remote = feed.subscribe(lambda event: event.name == "REMOTE_COMMUNICATION")
    changes(bus, 3)
    bus.publish(RemoteCommunication("deploy", "go"))
    items = take(only_remote)
    assert [item.event.name for item in items if isinstance(item, FeedEntry)] == [
        "REMOTE_COMMUNICATION"
    ]
