"""GET /api/v1/events on a daemonized daemon: state changes arrive typed and in order, a client
resumes with Last-Event-ID without missing one, filters narrow the stream, an id the daemon
cannot place is answered with a `missed` message, and a connected stream ends cleanly at
shutdown without holding the daemon's exit."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.client import DEADLINE, EventReader
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until

PROGRAMS = """
[program:w]
command=sleep 1000
numprocs=2
process_name=w_%(process_num)s
startsecs=0
"""


@pytest.fixture
def daemon(tmp_path: Path, cleanup: Started) -> Iterator[tuple[Path, int]]:
    conf = config(tmp_path, PROGRAMS)
    pid = start_daemonized(conf)
    cleanup.append(pid)
    for name in ("w:w_0", "w:w_1"):
        cleanup.append(running_pid(conf, name))
    yield tmp_path / "s.sock", pid


def transitions(reader: EventReader, count: int) -> list[tuple[str, str, str]]:
    found = []
    for _ in range(count):
        event = reader.event()
        found.append((event["process"], event["from"], event["to"]))
    return found


def test_state_changes_arrive_typed_and_in_order(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock)
    unix_proxy(sock).supervisor.stopProcess("w:w_0")
    first = reader.event()
    assert first["type"] == "PROCESS_STATE_STOPPING"
    assert (first["group"], first["process"], first["from"]) == ("w", "w_0", "RUNNING")
    assert isinstance(first["pid"], int) and first["pid"] > 0
    second = reader.event()
    assert (second["type"], second["to"]) == ("PROCESS_STATE_STOPPED", "STOPPED")
    epoch, _, number = second["_id"].partition("-")
    assert first["_id"] == f"{epoch}-{int(number) - 1}"
    reader.close()


def test_resuming_with_last_event_id_misses_nothing(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    rpc = unix_proxy(sock).supervisor
    reader = EventReader(sock)
    rpc.stopProcess("w:w_0")
    seen = reader.event()["_id"]  # STOPPING; the client then loses its connection
    reader.close()
    rpc.startProcess("w:w_0")
    resumed = EventReader(sock, last_id=seen)
    assert transitions(resumed, 3) == [
        ("w_0", "STOPPING", "STOPPED"),
        ("w_0", "STOPPED", "STARTING"),
        ("w_0", "STARTING", "RUNNING"),
    ]
    resumed.close()


def test_a_filter_narrows_the_stream(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock, "?process=w:w_1")
    rpc = unix_proxy(sock).supervisor
    rpc.stopProcess("w:w_0")
    rpc.stopProcess("w:w_1")
    assert transitions(reader, 2) == [
        ("w_1", "RUNNING", "STOPPING"),
        ("w_1", "STOPPING", "STOPPED"),
    ]
    reader.close()


def test_an_id_from_another_daemon_is_answered_missed(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock, last_id="12345-7")
    assert reader.message() == {"event": "missed", "data": '{"missed":null}'}
    reader.close()


def test_a_bad_filter_is_a_400(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(DEADLINE)
        client.connect(str(sock))
        client.sendall(b"GET /api/v1/events?process=:x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 400")


def test_a_stream_ends_cleanly_at_shutdown(daemon: tuple[Path, int]) -> None:
    sock, pid = daemon
    reader = EventReader(sock)
    reader.sock.sendall(b"")  # connected and answered: the stream is being served
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: gone(pid), what="the daemon's exit")
    rest = b""
    deadline = time.monotonic() + DEADLINE
    while not rest.endswith(b"0\r\n\r\n"):
        assert time.monotonic() < deadline
        data = reader.sock.recv(65536)
        assert data, f"the stream was cut, not ended: {rest!r}"
        rest += data
    reader.close()


def test_remote_communication_keeps_its_type(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock)
    unix_proxy(sock).supervisor.sendRemoteCommEvent("deploy", "step 76")
    event = reader.event()
    assert (event["type"], event["comm_type"], event["data"]) == (
        "REMOTE_COMMUNICATION",
        "deploy",
        "step 76",
    )
    reader.close()


def test_an_unknown_process_in_a_filter_is_a_404(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(DEADLINE)
        client.connect(str(sock))
        client.sendall(b"GET /api/v1/events?process=w_0 HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 404") and b"BAD_NAME" in answer


def test_the_stream_opens_with_the_id_to_resume_from(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock)
    opening = reader._chunked_text(b"\n\n")
    assert opening.startswith("retry: 2000\nid: ")
    last = opening.split("id: ")[1]
    reader.close()
    unix_proxy(sock).supervisor.stopProcess("w:w_0")
    resumed = EventReader(sock, last_id=last)
    assert resumed.event()["type"] == "PROCESS_STATE_STOPPING"
    resumed.close()


def test_all_is_no_filter_and_an_unknown_group_is_named(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock, "?process=all")
    unix_proxy(sock).supervisor.stopProcess("w:w_1")
    assert reader.event()["process"] == "w_1"
    reader.close()
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(DEADLINE)
        client.connect(str(sock))
        client.sendall(b"GET /api/v1/events?group=nope HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 404") and b'"detail":"BAD_NAME: nope"' in answer


def test_a_resumed_stream_starts_with_its_replay(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    reader = EventReader(sock)
    first = reader._chunked_text(b"\n\n").split("id: ")[1]
    reader.close()
    unix_proxy(sock).supervisor.stopProcess("w:w_0")
    resumed = EventReader(sock, last_id=first)
    opening = resumed._chunked_text(b"\n\n")
    assert opening == "retry: 2000"  # no id of its own: the replay's come next
    assert resumed.event()["type"] == "PROCESS_STATE_STOPPING"
    resumed.close()
