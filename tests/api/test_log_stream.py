"""Live output on a daemonized daemon: the SSE log stream interleaves a group's lines tagged
with their process after a backlog from the files, says when a log is cleared, and a client
that stops reading loses lines (told how many bytes) without ever stalling the child; the
Supervisor-compatible /logtail wakes on output instead of polling its file."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.client import DEADLINE, EventReader
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

PROGRAMS = """
[program:talk]
command=cat
numprocs=2
process_name=talk_%(process_num)s
startsecs=0

[program:nolog]
command=cat
stdout_logfile=NONE
startsecs=0

[program:flood]
command=sh -c 'head -c 8000000 /dev/zero | tr "\\\\0" "x" | fold -w 99; sleep 1000'
autostart=false
startsecs=0
"""


@pytest.fixture
def daemon(tmp_path: Path, cleanup: Started) -> Iterator[tuple[Path, int]]:
    conf = config(tmp_path, PROGRAMS)
    pid = start_daemonized(conf)
    cleanup.append(pid)
    for name in ("talk:talk_0", "talk:talk_1"):
        cleanup.append(running_pid(conf, name))
    yield tmp_path / "s.sock", pid
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: not (tmp_path / "s.sock").exists(), what="the daemon's exit")


def lines(reader: EventReader, count: int) -> list[tuple[str, str]]:
    found = []
    while len(found) < count:
        fields = reader.message()
        document = json.loads(fields["data"])
        found.append((document["process"], document["line"]))
    return found


def test_a_group_stream_starts_with_the_backlog_and_interleaves_live_lines(
    daemon: tuple[Path, int],
) -> None:
    sock, _ = daemon
    rpc = unix_proxy(sock).supervisor
    rpc.sendProcessStdin("talk:talk_0", "before\n")
    wait_until(lambda: "before" in rpc.readProcessStdoutLog("talk:talk_0", 0, 0), what="logged")
    reader = EventReader(sock, "?lines=5", path="/processes/talk:*/log/stdout/stream")
    assert lines(reader, 1) == [("talk:talk_0", "before")]
    rpc.sendProcessStdin("talk:talk_1", "one\n")
    assert lines(reader, 1) == [("talk:talk_1", "one")]
    rpc.sendProcessStdin("talk:talk_0", "two, in two ")
    rpc.sendProcessStdin("talk:talk_0", "writes\n")
    assert lines(reader, 1) == [("talk:talk_0", "two, in two writes")]
    rpc.clearProcessLogs("talk:talk_1")
    assert reader.message() == {"event": "truncated", "data": '{"process":"talk:talk_1"}'}
    reader.close()


def test_a_client_that_stops_reading_loses_lines_but_never_stalls_the_child(
    daemon: tuple[Path, int],
) -> None:
    sock, _ = daemon
    rpc = unix_proxy(sock).supervisor
    reader = EventReader(sock, "?lines=0", path="/processes/flood/log/stdout/stream")
    reader.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    rpc.startProcess("flood")
    # all 8 MB went through the pipe into the log file although nobody reads the stream
    wait_until(
        lambda: (
            len(rpc.readProcessStdoutLog("flood", -100, 0)) == 100
            and rpc.tailProcessStdoutLog("flood", 0, 0)[1] >= 8_000_000 + 8_000_000 // 99
        ),
        what="the whole flood logged",
    )
    dropped = 0
    while dropped == 0:
        fields = reader.message()
        if fields.get("event") == "dropped":
            dropped = json.loads(fields["data"])["bytes"]
    assert dropped > 0
    reader.close()


def test_logtail_wakes_on_output_and_does_not_poll(daemon: tuple[Path, int]) -> None:
    sock, pid = daemon
    rpc = unix_proxy(sock).supervisor
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(DEADLINE)
        client.connect(str(sock))
        client.sendall(b"GET /logtail/talk:talk_0 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200 OK")
        switches = _voluntary_switches(pid)
        time.sleep(1.0)  # a window to observe, not a wait for a condition
        # a poll every 0.2 s would have woken the daemon five times; nothing else runs
        assert _voluntary_switches(pid) - switches <= 1
        rpc.sendProcessStdin("talk:talk_0", "wake up\n")
        received = b""
        deadline = time.monotonic() + DEADLINE
        while b"wake up" not in received:
            assert time.monotonic() < deadline
            received += client.recv(65536)


def _voluntary_switches(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


def test_a_partial_line_comes_before_the_truncation_and_a_removed_process_ends_it(
    daemon: tuple[Path, int],
) -> None:
    sock, _ = daemon
    rpc = unix_proxy(sock).supervisor
    reader = EventReader(sock, "?lines=0", path="/processes/talk:talk_0/log/stdout/stream")
    rpc.sendProcessStdin("talk:talk_0", "partial ")
    wait_until(lambda: "partial" in rpc.readProcessStdoutLog("talk:talk_0", 0, 0), what="logged")
    rpc.clearProcessLogs("talk:talk_0")
    assert lines(reader, 1) == [("talk:talk_0", "partial ")]
    assert reader.message()["event"] == "truncated"
    rpc.stopProcessGroup("talk")
    rpc.removeProcessGroup("talk")
    assert reader.message() == {"event": "ended", "data": '{"process":"talk:talk_0"}'}
    assert reader._until(b"\r\n") == b"0"  # the last chunk: the stream ended cleanly
    reader.close()


def test_a_process_without_a_log_file_is_followed_too(daemon: tuple[Path, int]) -> None:
    sock, _ = daemon
    rpc = unix_proxy(sock).supervisor
    wait_until(lambda: rpc.getProcessInfo("nolog")["statename"] == "RUNNING", what="nolog up")
    reader = EventReader(sock, "?lines=0", path="/processes/nolog/log/stdout/stream")
    rpc.sendProcessStdin("nolog", "seen live\n")
    assert lines(reader, 1) == [("nolog", "seen live")]
    reader.close()
