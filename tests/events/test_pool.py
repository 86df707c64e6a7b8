"""Listener pools without processes: buffering, overflow, serials, dispatch to READY listeners,
rejection, a listener dying while BUSY, protocol violations; and the registry that creates and
removes pools with their groups."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from vigil.config.model import GroupConfig, GroupKind, LogLevel, ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import (
    Event,
    ProcessGroupChanged,
    ProcessStateChanged,
    RemoteCommunication,
)
from vigil.core.states import ListenerState, ProcessState
from vigil.runtime.pipes import StdinClosed
from vigil.services.listeners import (
    MAX_SERIAL,
    EventSerials,
    ListenerPool,
    ListenerPools,
    Serial,
)

HEADER = re.compile(
    rb"ver:3\.0 server:(\S+) serial:(\d+) pool:(\S+) poolserial:(\d+) "
    rb"eventname:(\S+) len:(\d+)\n"
)


class MemoryLog:
    def __init__(self) -> None:
        self.lines: list[tuple[LogLevel, str]] = []

    def log(self, level: LogLevel, message: str) -> None:
        self.lines.append((level, message))

    def messages(self, level: LogLevel | None = None) -> list[str]:
        return [m for lv, m in self.lines if level is None or lv == level]


class FakeListener:
    """A listener process as the pool sees it: a name, a state and a stdin."""

    def __init__(self, name: str, state: ProcessState = ProcessState.RUNNING) -> None:
        self.name = name
        self.state = state
        self.stdin = bytearray()
        self.stdin_closed = False

    def write_stdin(self, data: bytes) -> None:
        if self.stdin_closed:
            raise StdinClosed()
        self.stdin += data

    def received(self) -> list[tuple[int, int, str, str]]:
        """(serial, poolserial, eventname, payload) of every envelope written so far."""
        out = []
        data = bytes(self.stdin)
        while data:
            match = HEADER.match(data)
            assert match, data
            length = int(match.group(6))
            payload = data[match.end() : match.end() + length]
            data = data[match.end() + length :]
            out.append(
                (
                    int(match.group(2)),
                    int(match.group(4)),
                    match.group(5).decode(),
                    payload.decode(),
                )
            )
        return out


def pool_config(
    name: str = "l", *, buffer_size: int = 10, events_: tuple[str, ...] = ("REMOTE_COMMUNICATION",)
) -> GroupConfig:
    return GroupConfig(
        name, -1, (), kind=GroupKind.EVENTLISTENER, events=events_, buffer_size=buffer_size
    )


def make_pool(
    *listeners: FakeListener,
    buffer_size: int = 10,
    serials: EventSerials | None = None,
    pool_serial: Serial | None = None,
    log: MemoryLog | None = None,
) -> ListenerPool:
    return ListenerPool(
        pool_config(buffer_size=buffer_size),
        listeners,
        serials=serials or EventSerials(),
        server="supervisor",
        log=log or MemoryLog(),
        pool_serial=pool_serial,
    )


def remote(data: str) -> Event:
    return RemoteCommunication("t", data)


def test_an_event_goes_at_once_to_a_ready_listener_with_supervisors_envelope() -> None:
    listener = FakeListener("l")
    pool = make_pool(listener)
    pool.output("l", b"READY\n")
    pool.take(remote("hello"))
    assert bytes(listener.stdin) == (
        b"ver:3.0 server:supervisor serial:0 pool:l poolserial:0 "
        b"eventname:REMOTE_COMMUNICATION len:12\ntype:t\nhello"
    )
    assert pool.listener_state("l") is ListenerState.BUSY


def test_one_event_at_a_time_the_next_when_the_listener_is_ready_again() -> None:
    listener = FakeListener("l")
    pool = make_pool(listener)
    pool.output("l", b"READY\n")
    for data in ("a", "b", "c"):
        pool.take(remote(data))
    assert [r[3] for r in listener.received()] == ["type:t\na"]
    assert len(pool.buffered) == 2
    pool.output("l", b"RESULT 2\nOK")
    assert len(listener.received()) == 1  # ACKNOWLEDGED is not READY
    pool.output("l", b"READY\n")
    pool.output("l", b"RESULT 2\nOKREADY\n")
    assert [r[:2] for r in listener.received()] == [(0, 0), (1, 1), (2, 2)]


def test_events_wait_until_the_listener_is_ready_and_running() -> None:
    listener = FakeListener("l", ProcessState.STARTING)
    pool = make_pool(listener)
    pool.take(remote("early"))
    pool.output("l", b"READY\n")
    assert listener.received() == []  # READY while STARTING: not yet
    listener.state = ProcessState.RUNNING
    pool.process_changed("l", ProcessState.RUNNING)
    assert [r[3] for r in listener.received()] == ["type:t\nearly"]


def test_overflow_drops_the_oldest_with_supervisors_error_line() -> None:
    log = MemoryLog()
    listener = FakeListener("l")
    pool = make_pool(listener, buffer_size=2, log=log)
    for data in ("0", "1", "2", "3"):
        pool.take(remote(data))
    assert log.messages(LogLevel.ERRO) == [
        "pool l event buffer overflowed, discarding event 0",
        "pool l event buffer overflowed, discarding event 1",
    ]
    pool.output("l", b"READY\n")
    pool.output("l", b"RESULT 2\nOKREADY\n")
    assert [(r[0], r[3]) for r in listener.received()] == [(2, "type:t\n2"), (3, "type:t\n3")]


def test_a_rejected_event_is_sent_again_first_with_the_same_serials() -> None:
    log = MemoryLog()
    listener = FakeListener("l")
    pool = make_pool(listener, log=log)
    pool.output("l", b"READY\n")
    pool.take(remote("a"))
    pool.take(remote("b"))
    pool.output("l", b"RESULT 4\nFAILREADY\n")
    pool.output("l", b"RESULT 2\nOKREADY\n")
    assert [(r[0], r[1], r[3]) for r in listener.received()] == [
        (0, 0, "type:t\na"),
        (0, 0, "type:t\na"),
        (1, 1, "type:t\nb"),
    ]
    assert "l: event was rejected" in log.messages(LogLevel.WARN)
    assert "rebuffering event 0 for pool l (buf size=1, max=10)" in log.messages(LogLevel.DEBG)


def test_a_listener_dying_while_busy_gets_the_event_again_after_its_restart() -> None:
    listener = FakeListener("l")
    pool = make_pool(listener)
    pool.output("l", b"READY\n")
    pool.take(remote("a"))
    pool.take(remote("b"))
    listener.state = ProcessState.EXITED
    pool.process_changed("l", ProcessState.EXITED)
    assert [q.serial for q in pool.buffered] == [0, 1]
    listener.state = ProcessState.STARTING
    pool.process_changed("l", ProcessState.STARTING)
    assert pool.listener_state("l") is ListenerState.ACKNOWLEDGED
    pool.output("l", b"READY\n")
    listener.state = ProcessState.RUNNING
    pool.process_changed("l", ProcessState.RUNNING)
    assert [r[0] for r in listener.received()] == [0, 0]


def test_a_listener_stopped_while_busy_returns_its_event_to_another_listener() -> None:
    first, second = FakeListener("l_0"), FakeListener("l_1")
    pool = make_pool(first, second)
    pool.output("l_0", b"READY\n")
    pool.take(remote("a"))
    pool.output("l_1", b"READY\n")
    first.state = ProcessState.STOPPED
    pool.process_changed("l_0", ProcessState.STOPPED)
    assert [r[0] for r in second.received()] == [0]


def test_garbage_makes_the_listener_unknown_and_its_event_goes_to_another() -> None:
    log = MemoryLog()
    bad, good = FakeListener("bad"), FakeListener("good")
    pool = make_pool(bad, good, log=log)
    pool.output("bad", b"READY\n")
    pool.take(remote("a"))
    pool.output("good", b"READY\n")
    pool.output("bad", b"GARBAGE\n")
    assert pool.listener_state("bad") is ListenerState.UNKNOWN
    assert "bad: bad result line: 'GARBAGE'" in log.messages(LogLevel.WARN)
    assert [r[0] for r in good.received()] == [0]
    pool.output("bad", b"READY\n")
    pool.output("good", b"RESULT 2\nOK")
    pool.take(remote("b"))
    assert len(bad.received()) == 1  # UNKNOWN hears nothing more


def test_listeners_are_tried_in_configuration_order() -> None:
    first, second = FakeListener("l_0"), FakeListener("l_1")
    pool = make_pool(first, second)
    pool.output("l_1", b"READY\n")
    pool.output("l_0", b"READY\n")
    pool.take(remote("a"))
    pool.take(remote("b"))
    pool.take(remote("c"))
    assert [r[0] for r in first.received()] == [0]
    assert [r[0] for r in second.received()] == [1]
    assert [q.serial for q in pool.buffered] == [2]


def test_a_closed_stdin_skips_that_listener_and_keeps_the_event() -> None:
    log = MemoryLog()
    closed, open_ = FakeListener("l_0"), FakeListener("l_1")
    closed.stdin_closed = True
    pool = make_pool(closed, open_, log=log)
    pool.output("l_0", b"READY\n")
    pool.take(remote("a"))
    assert [q.serial for q in pool.buffered] == [0]
    assert (
        "epipe occurred while sending event 0 to listener l_0, listener state unchanged"
        in log.messages(LogLevel.DEBG)
    )
    pool.output("l_1", b"READY\n")
    assert [r[0] for r in open_.received()] == [0]


def test_serials_wrap_to_zero_after_maxsize() -> None:
    counter = Serial(last=MAX_SERIAL - 1)
    assert [counter.next(), counter.next(), counter.next()] == [MAX_SERIAL, 0, 1]
    listener = FakeListener("l")
    pool = make_pool(
        listener,
        serials=EventSerials(Serial(last=MAX_SERIAL - 1)),
        pool_serial=Serial(last=MAX_SERIAL),
    )
    pool.output("l", b"READY\n")
    pool.take(remote("a"))
    pool.take(remote("b"))
    pool.output("l", b"RESULT 2\nOKREADY\n")
    assert [r[:2] for r in listener.received()] == [(MAX_SERIAL, 0), (0, 1)]


def test_pools_share_the_event_serial_and_count_their_own() -> None:
    serials = EventSerials()
    one, two = FakeListener("a"), FakeListener("b")
    pool_a = make_pool(one, serials=serials)
    pool_b = make_pool(two, serials=serials)
    for pool, name in ((pool_a, "a"), (pool_b, "b")):
        pool.output(name, b"READY\n")
    first = remote("x")
    pool_a.take(first)
    pool_b.take(first)
    pool_b.output("b", b"RESULT 2\nOKREADY\n")
    second = remote("y")
    pool_b.take(second)
    assert [r[:2] for r in one.received()] == [(0, 0)]
    assert [r[:2] for r in two.received()] == [(0, 0), (1, 1)]
    third = remote("z")
    pool_a.take(third)  # already BUSY: buffered with its serials
    assert [(q.serial, q.pool_serial) for q in pool_a.buffered] == [(2, 1)]


def test_the_same_event_taken_twice_is_buffered_once() -> None:
    pool = make_pool(FakeListener("l"))
    event = remote("a")
    pool.take(event)
    pool.take(event)
    assert len(pool.buffered) == 1


def test_a_closed_pool_ignores_everything() -> None:
    listener = FakeListener("l")
    pool = make_pool(listener)
    pool.take(remote("a"))
    pool.close()
    pool.output("l", b"READY\n")
    pool.take(remote("b"))
    assert pool.buffered == [] and listener.received() == []


# -- the registry -----------------------------------------------------------------------


def fake_supervisor(bus: EventBus) -> SimpleNamespace:
    return SimpleNamespace(context=SimpleNamespace(bus=bus), groups={})


def add_group(
    supervisor: SimpleNamespace, config: GroupConfig, listeners: list[FakeListener]
) -> None:
    supervisor.groups[config.name] = SimpleNamespace(
        name=config.name, config=config, runners={each.name: each for each in listeners}
    )
    supervisor.context.bus.publish(ProcessGroupChanged(config.name, added=True))


def test_a_pool_is_created_with_its_group_and_hears_its_own_group_added() -> None:
    bus = EventBus()
    supervisor = fake_supervisor(bus)
    pools = ListenerPools(supervisor, "supervisor", MemoryLog())  # type: ignore[arg-type]
    listener = FakeListener("l", ProcessState.STOPPED)
    add_group(supervisor, pool_config(events_=("PROCESS_GROUP_ADDED",)), [listener])
    add_group(supervisor, GroupConfig("p", 999, (ProcessConfig("p", "p", "true"),)), [])
    pool = pools.get("l")
    assert pool is not None
    assert [q.event.payload() for q in pool.buffered] == ["groupname:l\n", "groupname:p\n"]
    listener.state = ProcessState.STARTING
    bus.publish(
        ProcessStateChanged(
            "l", "l", ProcessState.STOPPED, ProcessState.STARTING, 0, tries=0, expected=True, at=0
        )
    )
    pools.listener_output("l", "l", b"READY\n")
    listener.state = ProcessState.RUNNING
    bus.publish(
        ProcessStateChanged(
            "l", "l", ProcessState.STARTING, ProcessState.RUNNING, 7, tries=0, expected=True, at=0
        )
    )
    assert [(r[0], r[1], r[2]) for r in listener.received()] == [(0, 0, "PROCESS_GROUP_ADDED")]


def test_a_pool_subscribed_to_a_parent_and_a_child_type_gets_one_copy() -> None:
    bus = EventBus()
    supervisor = fake_supervisor(bus)
    pools = ListenerPools(supervisor, "supervisor", MemoryLog())  # type: ignore[arg-type]
    add_group(
        supervisor,
        pool_config(events_=("EVENT", "REMOTE_COMMUNICATION")),
        [FakeListener("l", ProcessState.STOPPED)],
    )
    bus.publish(remote("x"))
    pool = pools.get("l")
    assert pool is not None
    assert [q.event.name for q in pool.buffered] == ["PROCESS_GROUP_ADDED", "REMOTE_COMMUNICATION"]


def test_a_removed_group_takes_its_pool_and_subscriptions_away() -> None:
    bus = EventBus()
    supervisor = fake_supervisor(bus)
    pools = ListenerPools(supervisor, "supervisor", MemoryLog())  # type: ignore[arg-type]
    add_group(supervisor, pool_config(events_=("TICK_5",)), [FakeListener("l")])
    assert bus.has_subscribers("TICK_5")
    pool = pools.get("l")
    del supervisor.groups["l"]
    bus.publish(ProcessGroupChanged("l", added=False))
    assert pools.get("l") is None and pool is not None and pool.closed
    assert not bus.has_subscribers("TICK_5")
    pools.close()
    assert not bus.has_subscribers("PROCESS_STATE")


def test_program_groups_get_no_pool() -> None:
    bus = EventBus()
    supervisor = fake_supervisor(bus)
    pools = ListenerPools(supervisor, "supervisor", MemoryLog())  # type: ignore[arg-type]
    add_group(supervisor, GroupConfig("p", 999, ()), [])
    assert pools.get("p") is None


@pytest.mark.parametrize("spec", ["supervisor.dispatchers:other", "x:y"])
def test_a_pool_refuses_a_result_handler_it_cannot_run(spec: str) -> None:
    config = GroupConfig(
        "l", -1, (), kind=GroupKind.EVENTLISTENER, events=("TICK_5",), result_handler=spec
    )
    with pytest.raises(ValueError, match=re.escape(f"result_handler {spec} cannot be resolved")):
        ListenerPool(config, [], serials=EventSerials(), server="s", log=MemoryLog())


def test_bus_subscribers_added_while_publishing_miss_the_event_in_flight() -> None:
    bus = EventBus()
    late: list[Event] = []
    bus.subscribe("PROCESS_GROUP_ADDED", lambda event: bus.subscribe("EVENT", late.append))
    bus.publish(ProcessGroupChanged("g", added=True))
    assert late == []
    bus.publish(remote("x"))
    assert [e.name for e in late] == ["REMOTE_COMMUNICATION"]


def test_bus_tells_watchers_about_subscription_changes() -> None:
    bus = EventBus()
    changes: list[bool] = []
    bus.watch_subscriptions(lambda: changes.append(bus.has_subscribers("TICK_60")))

    def callback(event: Event) -> None:
        pass

    bus.subscribe("TICK", callback)
    bus.unsubscribe("TICK", callback)
    bus.unsubscribe("TICK", callback)  # not subscribed: no change, no call
    assert changes == [True, False]
