"""How the daemons treat listeners that do not simply say OK, under vigil and under
Supervisor 4.3.0: a rejected event comes again, garbage leaves a listener UNKNOWN, an event held
by a listener that dies goes to its successor, and a full buffer drops its oldest event."""

from __future__ import annotations

import os
from pathlib import Path

from tests.events.support import (
    Pair,
    config,
    envelopes,
    event,
    listener,
    log_messages,
    same,
    wait_for_events,
    write_fifo,
)
from tests.support import Daemon, wait_until

UNKNOWN = (
    "{}: has entered the UNKNOWN state and will no longer receive events, this usually "
    "indicates the process violated the eventlistener protocol"
)


def remote(serial: int, data: str, pool: str = "l") -> str:
    return event(serial, "REMOTE_COMMUNICATION", f"type:t\n{data}", pool)


def lines_about(daemon: Daemon, *names: str) -> list[str]:
    """Main-log lines about the protocol: results, states, violations, rebuffering."""
    keep = []
    for line in log_messages(daemon):
        level, _, message = line.partition(" ")
        if message.startswith(tuple(f"{name}: " for name in names)) or message.startswith(
            ("rebuffering event", "pool ")
        ):
            keep.append(f"{level} {message}")
    return keep


def test_rejection_and_garbage(tmp_path: Path) -> None:
    # Distinct priorities: Supervisor compares processes by priority when it decides which
    # pool a rejected event belongs to, so with equal priorities every pool would get it again.
    body = config(
        listener("l", "rejecter.jsonl", "REMOTE_COMMUNICATION", "reject-once", extra="priority=1"),
        listener("garbage", "garbage.jsonl", "REMOTE_COMMUNICATION", "garbage", extra="priority=2"),
        listener("rude", "rude.jsonl", "REMOTE_COMMUNICATION", "garbage-start", extra="priority=3"),
        listener("witness", "witness.jsonl", "REMOTE_COMMUNICATION", extra="priority=4"),
    )

    def drive(daemon: Daemon) -> tuple[list[str], ...]:
        tmp = daemon.tmp
        for name in ("l", "garbage", "rude", "witness"):
            daemon.wait_state(name, "RUNNING")
        wait_until(
            lambda: any(UNKNOWN.format("rude") in line for line in log_messages(daemon)),
            what="rude to be UNKNOWN",
        )
        rpc = daemon.rpc()
        rpc.supervisor.sendRemoteCommEvent("t", "first")
        wait_for_events(tmp / "rejecter.jsonl", 2)
        wait_for_events(tmp / "garbage.jsonl", 1)
        rpc.supervisor.sendRemoteCommEvent("t", "second")
        wait_for_events(tmp / "rejecter.jsonl", 4)
        wait_for_events(tmp / "witness.jsonl", 2)
        return tuple(
            envelopes(tmp / f"{name}.jsonl") for name in ("rejecter", "garbage", "rude", "witness")
        )

    with Pair(tmp_path, body) as pair:
        rejecter, garbage, rude, witness = same(pair.run(drive))
        logs = [lines_about(daemon, "l", "garbage", "rude") for daemon in pair.daemons.values()]
    start = "<listener started>"
    assert rejecter == [
        start,
        remote(0, "first"),
        remote(0, "first"),
        remote(1, "second"),
        remote(1, "second"),
    ]
    assert garbage == [start, remote(0, "first", "garbage")]  # and nothing after the garbage
    assert rude == [start]
    assert witness == [start, remote(0, "first", "witness"), remote(1, "second", "witness")]
    for log in logs:  # Supervisor logs more "rebuffering" lines: compare what matters
        assert log.count("WARN l: event was rejected") == 2
        assert "DEBG rebuffering event 0 for pool l (buf size=0, max=10)" in log
        assert log.count("WARN garbage: bad result line: 'GARBAGE'") == 1
        assert "DEBG garbage: BUSY -> UNKNOWN" in log
        assert "WARN " + UNKNOWN.format("garbage") in log
        assert "DEBG rude: ACKNOWLEDGED -> UNKNOWN" in log
        assert "WARN " + UNKNOWN.format("rude") in log


def test_a_listener_dying_with_an_event_gets_it_again_when_restarted(tmp_path: Path) -> None:
    body = listener("l", "got.jsonl", "REMOTE_COMMUNICATION", "die-on:die")

    def drive(daemon: Daemon) -> list[str]:
        daemon.wait_state("l", "RUNNING")
        rpc = daemon.rpc()
        rpc.supervisor.sendRemoteCommEvent("t", "die")
        wait_for_events(daemon.tmp / "got.jsonl", 2)
        rpc.supervisor.sendRemoteCommEvent("t", "after")
        wait_for_events(daemon.tmp / "got.jsonl", 3)
        return envelopes(daemon.tmp / "got.jsonl")

    with Pair(tmp_path, body) as pair:
        got = same(pair.run(drive))
        for daemon in pair.daemons.values():
            assert "DEBG rebuffering event 0 for pool l (buf size=0, max=10)" in lines_about(
                daemon, "l"
            )
    start = "<listener started>"
    assert got == [start, remote(0, "die"), start, remote(0, "die"), remote(1, "after")]


def test_a_full_buffer_drops_its_oldest_event(tmp_path: Path) -> None:
    body = listener("l", "got.jsonl", "REMOTE_COMMUNICATION", "hold-on:hold", extra="buffer_size=2")

    def drive(daemon: Daemon) -> tuple[list[str], list[str]]:
        record = daemon.tmp / "got.jsonl"
        daemon.wait_state("l", "RUNNING")
        rpc = daemon.rpc()
        rpc.supervisor.sendRemoteCommEvent("t", "hold")
        wait_for_events(record, 1)  # the listener holds it: BUSY from now on
        for data in ("a", "b", "c", "d"):
            rpc.supervisor.sendRemoteCommEvent("t", data)
        wait_until(
            lambda: "pool l event buffer overflowed, discarding event 2" in daemon.log.read_text(),
            what="the second overflow",
        )
        write_fifo(daemon.tmp / "got.jsonl.fifo", "go\n")
        return wait_for_events(record, 3)

    pair = Pair(tmp_path, body)
    for kind in pair.daemons:
        os.mkfifo(pair.path(kind, "got.jsonl.fifo"))
    with pair:
        got = same(pair.run(drive))
        logs = [lines_about(daemon, "l") for daemon in pair.daemons.values()]
    assert got == [remote(0, "hold"), remote(3, "c"), remote(4, "d")]
    for log in logs:
        assert [line for line in log if line.startswith("ERRO")] == [
            "ERRO pool l event buffer overflowed, discarding event 1",
            "ERRO pool l event buffer overflowed, discarding event 2",
        ]
