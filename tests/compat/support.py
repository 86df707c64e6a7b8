"""Differential runs: the same steps against Supervisor 4.3.0's supervisord and vigil's.

Both daemons start from the same configuration body, each in its own temporary directory, and
a scenario (a function of one `Recorder`) runs against both at the same time. Every observation
is normalised before it is recorded, so what may legitimately differ (pids, timestamps, uptime
and stop-time descriptions, the temporary directory, the random part of AUTO log names) does
not count; everything else must be identical.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import Daemon, wait_until

ROOT = Path(__file__).resolve().parents[2]
SUPERVISOR_VENV = ROOT / ".venv-supervisor"
PY = sys.executable
KINDS = ("supervisor", "vigil")
REFERENCE, OURS = KINDS
DEADLINE = 30.0  # seconds: only a bound on waiting for something that must happen

# A program that says something on each channel, answers SIGHUP, echoes its stdin and otherwise
# sleeps: enough to exercise logs, signals and sendProcessStdin with predictable output.
# Each line goes out in one write(2): print() writes its parts and its end separately, and a
# daemon reading between them would see a line in two chunks (its main log's DEBG entries,
# which the tests wait on, and which bytes a rotation puts in which file, then differ).
TALKER = """\
import os, signal, sys
def say(fd, text):
    os.write(fd, text.encode() + b"\\n")
signal.signal(signal.SIGHUP, lambda *_: say(1, "got SIGHUP"))
say(1, "hello stdout 0123456789")
say(2, "hello stderr")
for line in sys.stdin:
    say(1, "echo: " + line.rstrip("\\n"))
while True:
    signal.pause()
"""

# A program that closes its stdin at once, so writing to it fails (sendProcessStdin NO_FILE).
DEAF = """\
import os, signal
os.close(0)
print("stdin closed", flush=True)
while True:
    signal.pause()
"""

# A program that, once asked to stop, waits for a file the test creates: the daemon is then
# visibly shutting down for as long as the test needs, with no race against a timer.
LINGERER = """\
import os, signal, sys, time
release = sys.argv[1]
def linger(*_):
    while not os.path.exists(release):
        time.sleep(0.02)
    sys.exit(0)
signal.signal(signal.SIGTERM, linger)
print("lingering", flush=True)
while True:
    signal.pause()
"""


def require_reference() -> None:
    """Fail (never skip) when the reference is missing: the comparison is the whole point."""
    if not (SUPERVISOR_VENV / "bin" / "supervisord").exists():
        pytest.fail(
            f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
        )


def reference_ctl() -> str:
    require_reference()
    return str(SUPERVISOR_VENV / "bin" / "supervisorctl")


# -- normalising --------------------------------------------------------------------------

UPTIME = re.compile(r"pid \d+, uptime (\d+ days?, )?\d+:\d\d:\d\d")
STOP_TIME = re.compile(r"\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b")
AUTO_LOG = re.compile(r"(-(?:stdout|stderr)---[^/\s'\"]+?-)\w{8}(\.log)")
BARE_PID = re.compile(r"^[1-9]\d*$", re.MULTILINE)  # what `supervisorctl pid` prints
TIME_KEYS = ("start", "stop", "now")


@dataclass
class Normaliser:
    """Turns an observation into what must be equal across daemons."""

    tmp: Path
    port: int

    def __call__(self, value: object) -> object:
        if isinstance(value, dict):
            return {key: self._item(key, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _item(self, key: str, value: object) -> object:
        if key in TIME_KEYS and isinstance(value, int) and value:
            return "<time>"
        if key == "pid" and isinstance(value, int) and value:
            return "<pid>"
        return self(value)

    def text(self, text: str) -> str:
        text = text.replace(str(self.tmp), "<tmp>")
        text = AUTO_LOG.sub(r"\1<random>\2", text)
        text = UPTIME.sub("pid <pid>, uptime <uptime>", text)
        text = STOP_TIME.sub("<stop time>", text)
        text = BARE_PID.sub("<pid>", text)
        return text.replace(f":{self.port}", ":<port>")


# -- running both daemons ---------------------------------------------------------------------


@dataclass
class Side:
    """One daemon of a differential run, with its own directory."""

    kind: str
    tmp: Path
    port: int  # a free TCP port, for an [inet_http_server] the body may configure
    daemon: Daemon

    @property
    def tcp_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def daemon_pair(
    tmp_path: Path, body: str, scripts: Mapping[str, str] | None = None
) -> Iterator[dict[str, Side]]:
    """Both daemons on `body` (with `{tmp}`, `{py}` and `{port}` filled in per daemon), stopped
    at the end whatever happens. Files in `scripts` are written to each daemon's directory."""
    require_reference()
    sides: dict[str, Side] = {}
    with contextlib.ExitStack() as stack:
        for kind in KINDS:
            tmp = tmp_path / kind[:3]  # short: the unix socket path has a length limit
            tmp.mkdir()
            for name, text in (scripts or {}).items():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_text(text)
            port = free_port()
            daemon = Daemon(tmp, body.format(tmp=tmp, py=PY, port=port), kind=kind)
            stack.callback(stop_quietly, daemon)
            sides[kind] = Side(kind, tmp, port, daemon)
        in_parallel({kind: side.daemon.start for kind, side in sides.items()})
        yield sides


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_quietly(daemon: Daemon) -> None:
    if daemon.proc is not None:
        daemon.stop()


def in_parallel(calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run one call per daemon at the same time; the first failure is raised as is."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = {kind: pool.submit(call) for kind, call in calls.items()}
        return {kind: future.result() for kind, future in futures.items()}


# -- recording --------------------------------------------------------------------------------

Step = tuple[str, object]


class Recorder:
    """Makes calls against one daemon and keeps a normalised transcript of what came back."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.daemon = side.daemon
        self.normalise = Normaliser(side.tmp, side.port)
        self.steps: list[Step] = []

    @property
    def kind(self) -> str:
        return self.side.kind

    def rpc(self) -> Any:
        return self.daemon.rpc()

    def call(
        self,
        method: str,
        *params: object,
        view: Callable[[Any], object] | None = None,
        fault_view: Callable[[str], object] | None = None,
    ) -> Any:
        """Call `method` over XML-RPC and record the result (through `view`) or the fault (its
        string through `fault_view`)."""
        label = f"{method}{params!r}"
        try:
            value = getattr(self.rpc(), method)(*params)
        except xmlrpc.client.Fault as fault:
            text = fault.faultString
            shown = text if fault_view is None else fault_view(text)
            self.record(label, {"faultCode": fault.faultCode, "faultString": shown})
            return fault
        self.record(label, value if view is None else view(value))
        return value

    def record(self, label: str, value: object) -> None:
        self.steps.append((label, self.normalise(value)))

    def edit_config(self, old: str, new: str) -> None:
        """Replace one configuration body by another in this daemon's config file."""
        conf = self.daemon.conf
        text = conf.read_text()
        before, after = (
            body.format(tmp=self.side.tmp, py=PY, port=self.side.port) for body in (old, new)
        )
        assert before in text, f"{conf} does not hold the body to replace"
        conf.write_text(text.replace(before, after))

    def wait_restarted(self, lives: int = 2) -> None:
        """Wait for the daemon's `lives`-th start to be logged and for it to answer again."""
        wait_until(
            lambda: self.daemon.log.read_text().count("supervisord started with pid") >= lives,
            DEADLINE,
            f"{self.kind} to start again",
        )
        wait_until(self._answers_running, DEADLINE, f"{self.kind} to answer after restarting")

    def _answers_running(self) -> bool:
        try:
            state: dict[str, Any] = self.rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Error):
            return False
        return bool(state["statename"] == "RUNNING")

    def wait_state(self, name: str, *states: str) -> dict[str, Any]:
        return self.daemon.wait_state(name, *states, timeout=DEADLINE)

    def wait_log(self, name: str, text: str, channel: str = "stdout") -> None:
        """Wait until the process's log holds `text` (output reaches the log asynchronously)."""
        method = f"readProcess{channel.title()}Log"
        wait_until(
            lambda: text in getattr(self.rpc().supervisor, method)(name, 0, 0),
            DEADLINE,
            f"{text!r} in the {channel} log of {name} ({self.kind})",
        )


    def wait_count(self, name: str, line: str, count: int) -> None:
        """Wait until `line` is in the process's stdout log `count` times: a program that says
        something when it starts is then past its start (its signal handlers are in place)."""
        wait_until(
            lambda: self.rpc().supervisor.readProcessStdoutLog(name, 0, 0).count(line) == count,
            DEADLINE,
            f"{line!r} {count} times in the stdout log of {name} ({self.kind})",
        )


def run_differential(
    tmp_path: Path,
    body: str,
    scenario: Callable[[Recorder], None],
    scripts: Mapping[str, str] | None = None,
) -> dict[str, list[Step]]:
    """Run `scenario` against both daemons at once and assert the transcripts are identical."""
    with daemon_pair(tmp_path, body, scripts) as sides:
        recorders = {kind: Recorder(side) for kind, side in sides.items()}
        in_parallel({kind: _bind(scenario, rec) for kind, rec in recorders.items()})
    transcripts = {kind: rec.steps for kind, rec in recorders.items()}
    assert_same(transcripts)
    return transcripts


def _bind(scenario: Callable[[Recorder], None], recorder: Recorder) -> Callable[[], None]:
    return lambda: scenario(recorder)


def assert_same(transcripts: Mapping[str, Sequence[Step]]) -> None:
    """Every step equal, reported all at once so one run shows every divergence."""
    reference, ours = transcripts[REFERENCE], transcripts[OURS]
    assert [label for label, _ in reference] == [label for label, _ in ours], "scenarios differ"
    differences = [
        f"{label}\n    {REFERENCE}: {theirs!r}\n    {OURS}:      {mine!r}"
        for (label, theirs), (_, mine) in zip(reference, ours, strict=True)
        if theirs != mine
    ]
    assert not differences, "divergences from Supervisor 4.3.0:\n" + "\n".join(differences)


# -- raw HTTP ---------------------------------------------------------------------------------


def http_exchange(sock: Path, method: str, path: str, body: bytes | None = None) -> object:
    """One request over the unix socket: the status, and for a 200 the decoded XML-RPC answer
    (error pages are each server's own words; their status is the contract)."""

    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(DEADLINE)
            self.sock.connect(str(sock))

    connection = Connection("localhost", timeout=DEADLINE)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "text/xml"})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        return response.status
    try:
        answer: object = xmlrpc.client.loads(data)[0]
    except xmlrpc.client.Fault as fault:
        answer = {"faultCode": fault.faultCode, "faultString": fault.faultString}
    return response.status, response.getheader("Content-Type"), answer


# -- programs on a terminal --------------------------------------------------------------


class Terminal:
    """A program on a pseudo-terminal, as someone at a shell runs it: its output is line
    buffered (supervisorctl's `tail -f` never flushes a pipe) and `fg` reads a real tty."""

    def __init__(self, argv: Sequence[str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        try:
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, start_new_session=True
            )
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self.output = bytearray()
        self._ended = False

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def read_until(self, text: str) -> None:
        """Wait until `text` has been written to the terminal."""
        deadline = time.monotonic() + DEADLINE
        while text not in self.text:
            remaining = deadline - time.monotonic()
            if self._ended or remaining <= 0:
                raise AssertionError(f"{text!r} never appeared; the terminal shows {self.text!r}")
            self._read(remaining)

    def write(self, text: str) -> None:
        os.write(self.master, text.encode())

    def interrupt(self) -> None:
        """What Ctrl-C does: SIGINT to the program."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self) -> int:
        """Read everything up to the program's exit; return its exit status."""
        if not self.ended_within(DEADLINE):
            raise AssertionError(f"the program did not end; the terminal shows {self.text!r}")
        return self.proc.wait(DEADLINE)

    def ended_within(self, seconds: float) -> bool:
        """Read until the program's end or until `seconds` have passed; whether it ended."""
        deadline = time.monotonic() + seconds
        while not self._ended:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._read(remaining)
        return True

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every copy of the terminal's other side is closed
            chunk = b""
        if chunk:
            self.output += chunk
        else:
            self._ended = True

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@contextlib.contextmanager
def terminal(argv: Sequence[str], cwd: Path) -> Iterator[Terminal]:
    session = Terminal(argv, cwd)
    try:
        yield session
    finally:
        session.close()


def fault_text(outcome: object) -> str:
    assert isinstance(outcome, xmlrpc.client.Fault), outcome
    return str(outcome.faultString)


def by_name(results: object) -> object:
    """Results of waited-for stops in name order: both daemons report each as it completes, and
    which of two children that got SIGTERM together is reaped first is up to the kernel."""
    if not isinstance(results, list):
        return results
    return sorted(results, key=lambda result: (result["group"], result["name"]))
