"""One supervisord, Supervisor's or vigil's, on a temporary config: start, ask, stop.

Both daemons get the same config text apart from nothing at all: the same header, the same
programs, the same log settings. Each runs in a session of its own so that the benchmark's
terminal signals reach only the benchmark, which then ends them itself.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import psutil

from bench.processes import end_descendants, kill_group_and_leader, wait_exit
from bench.rpc import RpcClient
from bench.waiting import BenchError, wait_for

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR_VENV = ROOT / ".venv-supervisor"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 120.0  # for a timed SIGTERM
# What a call may fail with while the daemon is still coming up: try again.
NOT_YET = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


class Side(StrEnum):
    """Who a figure belongs to: one of the two daemons, or the plain-Python floor."""

    SUPERVISOR = "supervisor"
    VIGIL = "vigil"
    FLOOR = "floor"


DAEMON_SIDES = (Side.SUPERVISOR, Side.VIGIL)


def supervisor_executable(name: str) -> str:
    path = SUPERVISOR_VENV / "bin" / name
    if not path.exists():
        raise BenchError(
            f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
        )
    return str(path)


def daemon_command(side: Side, conf: Path) -> list[str]:
    if side is Side.SUPERVISOR:
        return [supervisor_executable("python"), "-m", "supervisor.supervisord", "-c", str(conf)]
    return [sys.executable, "-m", "vigil", "-c", str(conf)]


def ctl_command(side: Side, conf: Path) -> list[str]:
    """Each side's own supervisorctl, started the same way (`python -m`), on the same config."""
    if side is Side.SUPERVISOR:
        return [supervisor_executable("python"), "-m", "supervisor.supervisorctl", "-c", str(conf)]
    return [sys.executable, "-m", "vigil.ctl.main", "-c", str(conf)]


def program_section(name: str, options: Mapping[str, object]) -> str:
    lines = [f"[program:{name}]"]
    lines.extend(f"{key}={value}" for key, value in options.items())
    return "\n".join(lines) + "\n\n"


def config_text(workdir: Path, programs: str) -> str:
    sock = workdir / "supervisor.sock"
    return (
        f"[unix_http_server]\nfile={sock}\n\n"
        f"[supervisord]\nlogfile={workdir / 'supervisord.log'}\n"
        f"pidfile={workdir / 'supervisord.pid'}\nchildlogdir={workdir}\n"
        "nodaemon=true\nloglevel=info\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{sock}\n\n" + programs
    )


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A temporary directory for one case; on the way out every process below us is ended."""
    path = Path(tempfile.mkdtemp(prefix="vb-"))
    try:
        yield path
    finally:
        end_descendants()
        shutil.rmtree(path, ignore_errors=True)


class Daemon:
    """A supervisord of either side; a context manager that always stops it."""

    def __init__(self, side: Side, workdir: Path, programs: str) -> None:
        self.side = side
        self.workdir = workdir
        self.conf = workdir / "supervisord.conf"
        self.sock = workdir / "supervisor.sock"
        self.mainlog = workdir / "supervisord.log"
        self.conf.write_text(config_text(workdir, programs))
        self.proc: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.side} daemon was never started")
        return self.proc.pid

    def launch(self) -> None:
        self._output = open(self.workdir / "daemon.out", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            daemon_command(self.side, self.conf),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> Self:
        self.launch()
        wait_for(self._ready, timeout=READY_TIMEOUT, what=f"{self.side} daemon to answer")
        return self

    def client(self, *, keep_alive: bool = False) -> RpcClient:
        return RpcClient(str(self.sock), keep_alive=keep_alive)

    def call(self, method: str, *params: Any) -> Any:
        return self.client().call(method, *params)

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            status = self.proc.returncode
            raise BenchError(f"{self.side} daemon exited with {status}: {self.output_tail()}")

    def output_tail(self, size: int = 600) -> str:
        path = self.workdir / "daemon.out"
        try:
            text = path.read_bytes()[-size:].decode(errors="replace").strip()
        except OSError:
            return "(no output)"
        return text or "(no output)"

    def _ready(self) -> bool:
        self.check_alive()
        try:
            state = self.call("supervisor.getState")
        except NOT_YET:
            return False
        return bool(state.get("statename") == "RUNNING")

    def terminate_timed(self, timeout: float = STOP_TIMEOUT) -> float:
        """Seconds from SIGTERM to the daemon's exit, observed exactly through a pidfd."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise BenchError(f"{self.side} daemon is not running")
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        if not wait_exit(proc.pid, timeout):
            raise BenchError(f"{self.side} daemon did not exit within {timeout:g} s of SIGTERM")
        return time.perf_counter() - started

    def stop(self) -> None:
        """End the daemon and its programs at once, by pid, with SIGKILL.

        Teardown is never measured, and a graceful stop of 500 programs costs Supervisor
        seconds per case. The programs are listed before the daemon dies; any it spawns in
        the meantime is orphaned to us (the subreaper) and ended by the workspace's sweep.
        """
        proc = self.proc
        if proc is not None and proc.returncode is None:
            # Not reaped yet, so its pid (and process group id) cannot have been reused.
            programs = _descendants(proc.pid)
            kill_group_and_leader(proc.pid)
            for program in programs:
                with contextlib.suppress(psutil.Error):
                    program.send_signal(signal.SIGKILL)
            proc.wait()
        if self._output is not None:
            self._output.close()
            self._output = None


class RunningLines:
    """Counts the "entered RUNNING state" lines of a daemon's main log as they are written.

    Both daemons log that line at the transition itself, so watching the file tells when
    programs became RUNNING without a single request to the daemon: asking it would wake its
    loop up and change the very timing being measured (Supervisor 4.3.0 gets on with starting
    programs sooner when a client keeps calling it).
    """

    MARK = b" entered RUNNING state"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.count = 0
        self._partial = b""

    def update(self) -> int:
        try:
            with self.path.open("rb") as file:
                file.seek(self.offset)
                fresh = file.read()
        except FileNotFoundError:
            return self.count
        self.offset += len(fresh)
        complete, _, self._partial = (self._partial + fresh).rpartition(b"\n")
        self.count += complete.count(self.MARK)
        return self.count


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def all_running(daemon: Daemon, count: int) -> bool:
    """True once the daemon reports exactly `count` programs, all RUNNING; fails on FATAL."""
    daemon.check_alive()
    try:
        infos: list[dict[str, Any]] = daemon.call("supervisor.getAllProcessInfo")
    except NOT_YET:
        return False
    fatal = [info for info in infos if info["statename"] == "FATAL"]
    if fatal:
        first = fatal[0]
        raise BenchError(f"{daemon.side}: {first['name']} is FATAL: {first['spawnerr']}")
    return len(infos) == count and all(info["statename"] == "RUNNING" for info in infos)


def wait_all_running(daemon: Daemon, count: int, timeout: float, interval: float = 0.01) -> None:
    wait_for(
        lambda: all_running(daemon, count),
        timeout=timeout,
        interval=interval,
        what=f"{count} programs of the {daemon.side} daemon to be RUNNING",
    )
