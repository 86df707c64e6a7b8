"""Running supervisorctl differentially: Supervisor 4.3.0's and vigil's, each against its own
daemon started from the same configuration, outputs compared after normalising what
legitimately differs (pids, times, temporary paths, program paths).

The daemon under test is a parameter (`DAEMON_KINDS`): the same scenarios run against
Supervisor's supervisord and, once it is added there, vigil's.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import xmlrpc.client
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support import unix_proxy, wait_until

REPO = Path(__file__).resolve().parents[2]
SUPERVISOR_VENV = REPO / ".venv-supervisor"
PY = sys.executable
DEADLINE = 30.0  # seconds; only a bound on waiting for something that should happen

# Which daemons the scenarios run against.
DAEMON_KINDS = ("supervisor", "vigil")
USERNAME = "user"
PASSWORD = "secret"


def reference_bin(name: str) -> str:
    path = SUPERVISOR_VENV / "bin" / name
    if not path.exists():
        pytest.fail(
            f"the Supervisor 4.3.0 reference is missing at {SUPERVISOR_VENV}: "
            "run `make supervisor-ref`"
        )
    return str(path)


def daemon_command(kind: str, conf: Path, *, foreground: bool = True) -> list[str]:
    stay = ["-n"] if foreground else []
    if kind == "supervisor":
        return [reference_bin("supervisord"), *stay, "-c", str(conf)]
    if kind == "vigil":
        return [PY, "-m", "vigil", *stay, "-c", str(conf)]
    raise ValueError(f"unknown daemon kind {kind!r}")


def ctl_command(kind: str) -> list[str]:
    """supervisorctl: Supervisor's, or vigil's (``python -m vigil.ctl.main``)."""
    if kind == "supervisor":
        return [reference_bin("supervisorctl")]
    return [PY, "-m", "vigil.ctl.main"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def default_sigint() -> None:
    """In the child before exec: Ctrl-C must interrupt even when our own runner ignores it
    (Python only installs its KeyboardInterrupt handler if SIGINT is not ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Result:
    stdout: str
    stderr: str
    status: int

    def __str__(self) -> str:
        return f"status {self.status}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


class TestDaemon:
    """A supervisord on a configuration of ours in a fresh temporary directory. ``{dir}`` in
    the programs text is that directory. In the foreground (a child of the test), or
    ``daemonized`` as users start it: the command returns, the daemon is found by its
    pidfile and remembered with its start time (`process`), so that ending it never hits a
    reused pid."""

    __test__ = False  # not a test class, despite the name

    def __init__(
        self,
        kind: str,
        programs: str,
        *,
        rpcinterface: bool = True,
        inet: bool = False,
        daemonized: bool = False,
    ) -> None:
        self.kind = kind
        self.daemonized = daemonized
        self.process: psutil.Process | None = None  # the daemonized daemon
        # Short and under the system temp dir: UNIX socket paths are limited to ~100 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="vctl"))
        self.sock = self.dir / "s.sock"
        self.conf = self.dir / "supervisord.conf"
        self.port = free_port() if inet else None
        self.proc: subprocess.Popen[bytes] | None = None
        self._rpcinterface = rpcinterface
        self.conf.write_text(self._config(programs, rpcinterface))

    def rewrite_programs(self, programs: str) -> None:
        """Change the programs in the configuration file (for reread and update)."""
        self.conf.write_text(self._config(programs, self._rpcinterface))

    def _config(self, programs: str, rpcinterface: bool) -> str:
        parts = [
            f"""
            [supervisord]
            logfile={self.dir}/supervisord.log
            pidfile={self.dir}/supervisord.pid
            childlogdir={self.dir}
            nodaemon={"false" if self.daemonized else "true"}

            [unix_http_server]
            file={self.sock}

            [supervisorctl]
            serverurl=unix://{self.sock}
            """
        ]
        if self.port is not None:
            parts.append(
                f"""
                [inet_http_server]
                port=127.0.0.1:{self.port}
                username={USERNAME}
                password={PASSWORD}
                """
            )
        if rpcinterface:
            parts.append(
                """
                [rpcinterface:supervisor]
                supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
                """
            )
        parts.append(programs.replace("{dir}", str(self.dir)))
        return "".join(textwrap.dedent(part) for part in parts)

    @property
    def serverurl(self) -> str:
        return f"unix://{self.sock}"

    @property
    def inet_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TestDaemon:
        if self.daemonized:
            return self._start_daemonized()
        with open(self.dir / "daemon.out", "wb") as out:
            self.proc = subprocess.Popen(
                daemon_command(self.kind, self.conf),
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._answers, DEADLINE, f"{self.kind} daemon to answer on {self.sock}")
        return self

    def _start_daemonized(self) -> TestDaemon:
        launched = subprocess.run(
            daemon_command(self.kind, self.conf, foreground=False),
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=DEADLINE,
            check=False,
        )
        assert launched.returncode == 0, launched
        pidfile = self.dir / "supervisord.pid"

        def live_daemon() -> psutil.Process | None:
            text = pidfile.read_text().strip() if pidfile.exists() else ""
            try:
                process = psutil.Process(int(text)) if text else None
            except psutil.NoSuchProcess:
                return None
            return process if process and process.status() != psutil.STATUS_ZOMBIE else None

        self.process = wait_until(live_daemon, DEADLINE, f"the {self.kind} daemon's pidfile")
        wait_until(self._answers, DEADLINE, f"{self.kind} daemon to answer on {self.sock}")
        return self

    @property
    def pid(self) -> int:
        if self.process is not None:
            return int(self.process.pid)
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        if self.process is not None:
            try:
                return self.process.status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return False
        return self.proc is not None and self.proc.poll() is None

    def wait_answering(self) -> None:
        """Wait until the daemon answers again (after ``reload``)."""
        wait_until(self._answers, DEADLINE, f"{self.kind} daemon to answer on {self.sock}")

    def wait_exited(self) -> int:
        assert self.proc is not None
        return self.proc.wait(DEADLINE)

    def _answers(self) -> bool:
        if not self.running():
            out = self.dir / "daemon.out"
            output = out.read_text(errors="replace") if out.exists() else ""
            raise AssertionError(f"the {self.kind} daemon exited:\n{output}")
        try:
            self.rpc().supervisor.getState()
        except xmlrpc.client.Fault:
            return True  # it answers, without the supervisor namespace
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    def rpc(self) -> Any:
        return unix_proxy(self.sock)

    def wait_states(self, states: dict[str, str]) -> None:
        """Wait until each named process is in the given state."""

        def reached() -> bool:
            infos = self.rpc().supervisor.getAllProcessInfo()
            now = {f"{i['group']}:{i['name']}": i["statename"] for i in infos}
            now.update({i["name"]: i["statename"] for i in infos if i["group"] == i["name"]})
            return all(now.get(name) == state for name, state in states.items())

        wait_until(reached, DEADLINE, f"{self.kind} daemon processes to reach {states}")

    def stop(self) -> None:
        """Stop the daemon and its children, however the test went; then remove its files.
        Its children are killed as it starts shutting down: it then has nothing left to stop,
        where stopping them one group at a time can take seconds."""
        if self.process is not None:
            self._stop_daemonized(self.process)
        elif self.proc is not None and self.proc.poll() is None:
            children = self._children()
            self.proc.send_signal(signal.SIGTERM)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _stop_daemonized(self, process: psutil.Process) -> None:
        children = []
        for pid in self._children():
            with contextlib.suppress(psutil.NoSuchProcess):
                children.append(psutil.Process(pid))
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()  # refuses a process that merely reuses the pid
        try:
            process.wait(DEADLINE)
        except psutil.TimeoutExpired:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
            process.wait(DEADLINE)
        except psutil.NoSuchProcess:
            pass


    def _children(self) -> list[int]:
        try:
            infos = self.rpc().supervisor.getAllProcessInfo()
        except (OSError, xmlrpc.client.Error):
            return []
        return [info["pid"] for info in infos if info["pid"] > 0]


def run_ctl(
    kind: str, args: Sequence[str], *, stdin: str = "", env: dict[str, str] | None = None
) -> Result:
    completed = subprocess.run(
        [*ctl_command(kind), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
        cwd=tempfile.gettempdir(),
        env=ctl_environment(env),
    )
    return Result(completed.stdout, completed.stderr, completed.returncode)


def ctl_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env["PYTHONUNBUFFERED"] = "1"
    env["LC_ALL"] = env["LANG"] = "C.UTF-8"
    env.update(extra or {})
    return env


_NORMALISERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"pid \d+, uptime \d+:\d\d:\d\d"), "pid <PID>, uptime <UPTIME>"),
    (re.compile(r"\b[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d [AP]M\b"), "<DATE>"),
    (re.compile(r"file: \S+ line: \d+"), "file: <FILE> line: <LINE>"),
    # A pid alone on a line (``pid``), possibly after the shell's prompt.
    (re.compile(r"^((?:\S+> )*)[1-9]\d*$", re.MULTILINE), r"\1<PID>"),
]


def normalise(text: str, *, paths: Sequence[tuple[str, str]] = ()) -> str:
    for path, placeholder in paths:
        text = text.replace(path, placeholder)
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text


class Twins:
    """Two daemons from one configuration: Supervisor's supervisorctl drives the first,
    vigil's the second, so that state changes made by one never show in the other's output."""

    def __init__(self, kind: str, programs: str, **options: bool) -> None:
        self.reference = TestDaemon(kind, programs, **options)
        self.ours = TestDaemon(kind, programs, **options)

    def start(self, prepare: Callable[[TestDaemon], None] | None = None) -> Twins:
        with ThreadPoolExecutor(2) as pool:
            for daemon in pool.map(lambda d: self._start(d, prepare), self.pair):
                assert daemon is not None
        return self

    @staticmethod
    def _start(daemon: TestDaemon, prepare: Callable[[TestDaemon], None] | None) -> TestDaemon:
        if prepare is not None:
            prepare(daemon)
        return daemon.start()

    @property
    def pair(self) -> tuple[TestDaemon, TestDaemon]:
        return self.reference, self.ours

    def stop(self) -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(TestDaemon.stop, self.pair))

    def wait_states(self, states: dict[str, str]) -> None:
        for daemon in self.pair:
            daemon.wait_states(states)

    def each(self, action: Callable[[TestDaemon], object]) -> None:
        for daemon in self.pair:
            action(daemon)

    def run(
        self, *args: str, stdin: str = "", config: bool = True, url: str | None = None
    ) -> tuple[Result, Result]:
        """Both supervisorctls with ``args``, concurrently, normalised. Each is given its own
        daemon's config file (``-c``), or with ``url="unix"``/``"inet"`` its server URL."""

        def one(kind: str, daemon: TestDaemon) -> Result:
            prefix: list[str] = ["-c", str(daemon.conf)] if config else []
            if url == "unix":
                prefix = ["-s", daemon.serverurl]
            elif url == "inet":
                prefix = ["-s", daemon.inet_url]
            result = run_ctl(kind, [*prefix, *args], stdin=stdin)
            paths = [(str(daemon.dir), "<DIR>"), *program_names()]
            if daemon.port is not None:
                paths.append((str(daemon.port), "<PORT>"))
            return Result(
                normalise(result.stdout, paths=paths),
                normalise(result.stderr, paths=paths),
                result.status,
            )

        with ThreadPoolExecutor(2) as pool:
            theirs = pool.submit(one, "supervisor", self.reference)
            ours = pool.submit(one, "vigil", self.ours)
            return theirs.result(), ours.result()

    def check(self, *args: str, status: int | None = None, **options: Any) -> Result:
        """Run both, assert they printed the same and exited the same (and with ``status``
        when given); vigil's result."""
        theirs, ours = self.run(*args, **options)
        assert ours == theirs, difference(args, theirs, ours)
        if status is not None:
            assert ours.status == status, f"supervisorctl {' '.join(args)}:\n{ours}"
        return ours


def difference(args: Sequence[str], theirs: Result, ours: Result) -> str:
    return f"supervisorctl {' '.join(args)}\n== Supervisor:\n{theirs}\n== vigil:\n{ours}"


def program_names() -> list[tuple[str, str]]:
    """How each supervisorctl names itself in usage messages, to compare them."""
    return [
        (reference_bin("supervisorctl"), "<PROG>"),
        (str(REPO / "vigil" / "ctl" / "main.py"), "<PROG>"),
    ]


def compare_without_daemon(*args: str, status: int | None = None, stdin: str = "") -> Result:
    """Both supervisorctls with arguments that need no daemon of ours."""
    with ThreadPoolExecutor(2) as pool:
        theirs_future = pool.submit(run_ctl, "supervisor", list(args), stdin=stdin)
        ours_future = pool.submit(run_ctl, "vigil", list(args), stdin=stdin)
    paths = program_names()
    theirs, ours = (
        Result(normalise(r.stdout, paths=paths), normalise(r.stderr, paths=paths), r.status)
        for r in (theirs_future.result(), ours_future.result())
    )
    assert ours == theirs, difference(args, theirs, ours)
    if status is not None:
        assert ours.status == status, str(ours)
    return ours


def wait_for_text(path: Path, text: str) -> str:
    """The content of a file once it contains ``text``."""

    def contains() -> str | None:
        content = path.read_text(errors="replace") if path.exists() else ""
        return content if text in content else None

    result: str = wait_until(contains, DEADLINE, f"{text!r} in {path}")
    return result
