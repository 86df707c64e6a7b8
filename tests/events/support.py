"""Real event listeners for end-to-end tests, and running one scenario under vigil and under
Supervisor 4.3.0 side by side."""

from __future__ import annotations

import errno
import json
import os
import re
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from pprint import pformat
from typing import Any

from tests.support import PY, Daemon, wait_until

# A listener that writes every envelope it receives (header line and payload, as text) to a
# JSON-lines file, then answers OK. Options change how it behaves:
#   reject-once   answer FAIL the first time it sees a serial
#   garbage       answer every event with a line that is not a result
#   garbage-start say something other than READY when it starts
#   die-on:X      exit(1) without answering the first time a payload ends with X
#   hold-on:X     after recording a payload ending with X, wait for a line on <record>.fifo
#   stop-on-stopping  ignore SIGTERM; exit after answering SUPERVISOR_STATE_CHANGE_STOPPING
RECORDER = textwrap.dedent(
    r"""
    import json, os, signal, sys

    record, *options = sys.argv[1:]
    die_on = [o.split(":", 1)[1] for o in options if o.startswith("die-on:")]
    hold_on = [o.split(":", 1)[1] for o in options if o.startswith("hold-on:")]
    if "stop-on-stopping" in options:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def note(**fields):
        with open(record, "a") as f:
            f.write(json.dumps(fields) + "\n")

    def say(data):
        stdout.write(data)
        stdout.flush()

    note(start=True)
    if "garbage-start" in options:
        say(b"HELLO!\n")
    seen = set()
    while True:
        say(b"READY\n")
        line = stdin.readline()
        if not line:
            break
        headers = dict(token.split(":", 1) for token in line.decode().split())
        payload = stdin.read(int(headers["len"]))
        note(header=line.decode(), payload=payload.decode())
        if "garbage" in options:
            say(b"GARBAGE\n")
            continue
        if any(payload.decode().endswith(x) for x in die_on):
            marker = record + ".died"
            if not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
        if any(payload.decode().endswith(x) for x in hold_on):
            with open(record + ".fifo") as fifo:
                fifo.readline()
        if "reject-once" in options and headers["serial"] not in seen:
            seen.add(headers["serial"])
            say(b"RESULT 4\nFAIL")
            continue
        say(b"RESULT 2\nOK")
        if headers["eventname"] == "SUPERVISOR_STATE_CHANGE_STOPPING":
            if "stop-on-stopping" in options:
                break
    """
)

KINDS = ("vigil", "supervisor")
_PID = re.compile(r"\bpid:\d+")
_WHEN = re.compile(r"\bwhen:\d+")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.M)


def recorder(directory: Path) -> Path:
    path = directory / "recorder.py"
    path.write_text(RECORDER)
    return path


def listener_command(directory: Path, record: str, *options: str) -> str:
    return " ".join([PY, str(directory / "recorder.py"), str(directory / record), *options])


def write_fifo(path: Path, line: str, timeout: float = 20.0) -> None:
    """Write a line to a FIFO once its reader has opened it."""

    def opened() -> int | None:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # no reader yet
                return None
            raise

    fd = wait_until(opened, timeout, f"a reader on {path}")
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def records(path: Path) -> list[dict[str, Any]]:
    """The complete records so far (a line the listener is still writing is left for later)."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines(keepends=True)
    return [json.loads(line) for line in lines if line.endswith("\n")]


def envelopes(path: Path) -> list[str]:
    """Every event a recorder received, header and payload, with pids and times normalised
    (and ``len`` counted again on the normalised payload, once checked against the real one)."""
    out = []
    for entry in records(path):
        if "header" not in entry:
            out.append("<listener started>")
            continue
        header, payload = entry["header"], entry["payload"]
        length = int(header.rsplit("len:", 1)[1])
        assert length == len(payload.encode()), entry
        payload = _WHEN.sub("when:<when>", _PID.sub("pid:<pid>", payload))
        header = header.rsplit("len:", 1)[0] + f"len:{len(payload.encode())}\n"
        out.append(header + payload)
    return out


def wait_for_events(path: Path, count: int, timeout: float = 30.0) -> list[str]:
    return wait_until(  # type: ignore[no-any-return]
        lambda: (
            len(got := [e for e in envelopes(path) if e != "<listener started>"]) >= count and got
        ),
        timeout,
        f"{count} events in {path}",
    )


def log_messages(daemon: Daemon) -> list[str]:
    """The main log without timestamps."""
    return _STAMP.sub("", daemon.log.read_text()).splitlines()


class Pair:
    """The same config under vigil and under Supervisor, each in its own directory."""

    def __init__(self, tmp: Path, body: str) -> None:
        self.daemons: dict[str, Daemon] = {}
        for kind in KINDS:
            directory = tmp / kind
            directory.mkdir()
            recorder(directory)
            self.daemons[kind] = Daemon(directory, body.replace("{dir}", str(directory)), kind=kind)

    def __enter__(self) -> Pair:
        try:
            for daemon in self.daemons.values():
                daemon.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.daemons)) as pool:
            list(
                pool.map(lambda d: d.stop() if d.proc is not None else None, self.daemons.values())
            )

    def run(self, drive: Callable[[Daemon], Any]) -> dict[str, Any]:
        """Drive both daemons at once (the scenario waits on each independently)."""
        with ThreadPoolExecutor(len(self.daemons)) as pool:
            futures = {kind: pool.submit(drive, d) for kind, d in self.daemons.items()}
            return {kind: future.result() for kind, future in futures.items()}

    def path(self, kind: str, name: str) -> Path:
        return self.daemons[kind].tmp / name


def listener(name: str, record: str, events: str, *options: str, extra: str = "") -> str:
    """An [eventlistener:x] section running the recorder; {dir} is the daemon's directory."""
    command = " ".join([PY, "{dir}/recorder.py", f"{{dir}}/{record}", *options])
    lines = [
        f"[eventlistener:{name}]",
        f"command={command}",
        f"events={events}",
        "startsecs=0",
        *textwrap.dedent(extra).strip().splitlines(),
    ]
    return "\n" + "\n".join(lines) + "\n"


def config(*sections: str) -> str:
    """Config sections written at any indentation, as one body."""
    return "\n".join(textwrap.dedent(section) for section in sections)


def same(results: dict[str, Any]) -> Any:
    """What both daemons produced, once it is known to be the same."""
    assert results["vigil"] == results["supervisor"], pformat(results)
    return results["vigil"]


def event(serial: int, name: str, payload: str, pool: str = "l", pool_serial: int = -1) -> str:
    """An envelope as ``envelopes`` gives it back (len is the payload's UTF-8 bytes)."""
    pool_serial = serial if pool_serial < 0 else pool_serial
    return (
        f"ver:3.0 server:supervisor serial:{serial} pool:{pool} poolserial:{pool_serial} "
        f"eventname:{name} len:{len(payload.encode())}\n{payload}"
    )
