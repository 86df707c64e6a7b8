"""PROCESS_LOG and PROCESS_COMMUNICATION events under vigil and under Supervisor 4.3.0: a
program writes what the test tells it to, one chunk at a time, and a listener subscribed to
the two parent types must receive the same bytes from both daemons."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from tests.events.support import (
    Pair,
    config,
    event,
    listener,
    records,
    same,
    wait_for_events,
    write_fifo,
)
from tests.support import PY, Daemon

# Writes each line it reads from its FIFO ("out:<text>" or "err:<text>", with backslash
# escapes) to stdout or stderr, in one write.
TALKER = textwrap.dedent(
    r"""
    import sys
    while True:
        with open(sys.argv[1]) as fifo:
            for line in fifo:
                channel, text = line.rstrip("\n").split(":", 1)
                stream = sys.stdout if channel == "out" else sys.stderr
                stream.buffer.write(text.encode().decode("unicode_escape").encode("latin-1"))
                stream.flush()
    """
)
BODY = config(
    listener("l", "got.jsonl", "PROCESS_LOG,PROCESS_COMMUNICATION"),
    f"""
    [program:talker]
    command={PY} {{dir}}/talker.py {{dir}}/talk.fifo
    autostart=false
    startsecs=0
    stdout_events_enabled=true
    stderr_events_enabled=true
    stdout_capture_maxbytes=1KB
    stderr_capture_maxbytes=1KB
    """,
)
BEGIN, END = "<!--XSUPERVISOR:BEGIN-->", "<!--XSUPERVISOR:END-->"
# With capture mode on, Supervisor holds back output no longer than the BEGIN token (24 bytes)
# until more comes; every chunk here is longer, so both daemons pass it on at once.
STEPS = [
    ("out:hello from the talker program\\n", 1),
    ("err:oops, an error message\\nand a second line\\n", 2),
    ("out:this chunk has no newline at its end", 3),
    (f"out:{BEGIN}captured text{END}", 5),  # the log event and the communication event
    (f"err:{BEGIN}from stderr\\n{END}", 7),
    ("out:bytes that are not UTF-8: \\xff\\xfe\\n", 8),  # "Undecodable: b'...'"
]


def test_log_and_communication_events(tmp_path: Path) -> None:
    def drive(daemon: Daemon) -> list[str]:
        record = daemon.tmp / "got.jsonl"
        daemon.rpc().supervisor.startProcess("talker")
        for line, events_so_far in STEPS:
            write_fifo(daemon.tmp / "talk.fifo", line + "\n")
            got = wait_for_events(record, events_so_far)
        return got

    pair = Pair(tmp_path, BODY)
    for kind in ("vigil", "supervisor"):
        pair.path(kind, "talker.py").write_text(TALKER)
        os.mkfifo(pair.path(kind, "talk.fifo"))
    with pair:
        got = same(pair.run(drive))
        talker_pid = pair.daemons["vigil"].info("talker")["pid"]
        raw = records(pair.path("vigil", "got.jsonl"))
    assert {r["payload"].split("\n")[0].split("pid:")[1].split()[0] for r in raw[1:]} == {
        str(talker_pid)
    }
    who = "processname:talker groupname:talker pid:<pid>"
    assert got == [
        event(0, "PROCESS_LOG_STDOUT", f"{who} channel:stdout\nhello from the talker program\n"),
        event(
            1,
            "PROCESS_LOG_STDERR",
            f"{who} channel:stderr\noops, an error message\nand a second line\n",
        ),
        event(
            2, "PROCESS_LOG_STDOUT", f"{who} channel:stdout\nthis chunk has no newline at its end"
        ),
        event(3, "PROCESS_LOG_STDOUT", f"{who} channel:stdout\ncaptured text"),
        event(4, "PROCESS_COMMUNICATION_STDOUT", f"{who}\ncaptured text"),
        event(5, "PROCESS_LOG_STDERR", f"{who} channel:stderr\nfrom stderr\n"),
        event(6, "PROCESS_COMMUNICATION_STDERR", f"{who}\nfrom stderr\n"),
        event(
            7,
            "PROCESS_LOG_STDOUT",
            f"{who} channel:stdout\nUndecodable: b'bytes that are not UTF-8: \\xff\\xfe\\n'",
        ),
    ]
