"""The fixed costs of a small daemon, side by side: start to N programs RUNNING, and RSS at rest.

    python -m bench.fixed_costs [--reps 9] [--programs 10] [--tree NAME=DIR ...]
                                [--interpreter PYTHON] [--no-supervisor]

Every repetition runs each side once, in turn (Supervisor 4.3.0 left alone; Supervisor woken
by a client; vigil, and each extra tree of vigil), so that the load of a shared machine falls
on all of them alike; the table shows medians and the min-max of the samples.

- **start**: from launching `python -m supervisor.supervisord` / `python -m vigil` on a config
  of N `sleep` programs (`startsecs=0`, `nodaemon`) until the main log says all N are RUNNING,
  read from outside as `make bench` does. "Woken": a client calls `getState` on a new
  connection, again and again, from the moment the socket file exists; Supervisor's loop then
  gets on with its work at once instead of at its next one-second poll (Supervisor at its best).
- **RSS at rest**: VmRSS of the daemon one second after one `supervisorctl status` (each
  side's own supervisorctl), so that the HTTP side is loaded.
- **getState**: then the median of `GETSTATE_CALLS` calls, each on a new unix-socket
  connection, from `connect` to the end of the answer.
- **SIGTERM to exit**: then from `kill(SIGTERM)` until the daemon has been reaped (all its
  programs stopped). A woken Supervisor is woken during its shutdown too.

`--tree NAME=DIR` adds a vigil whose package is found in DIR (put first on PYTHONPATH): an
earlier commit for an A/B comparison, e.g. `git archive COMMIT vigil | tar -x -C DIR`. Run
`python -m compileall -q DIR` first if the figures are to include byte-code caching, as an
installed package has (pip compiles at install time; an editable install under
PYTHONDONTWRITEBYTECODE compiles every module at every start). `--interpreter` runs the
vigil sides with another Python (e.g. a virtualenv without the editable install's finder).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.daemons import ROOT, RunningLines, config_text, supervisor_executable, workspace
from bench.processes import become_subreaper, kill_group_and_leader
from bench.waiting import wait_for
from bench.workloads.base import sleepers

REQUEST_BODY = (
    b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName>"
    b"<params></params></methodCall>"
)
REQUEST = (
    b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(REQUEST_BODY) + REQUEST_BODY
)
TIMEOUT = 60.0
GETSTATE_CALLS = 200


@dataclass
class Side:
    """One daemon to measure: how to start it and its supervisorctl."""

    name: str
    python: str
    module: str
    ctl_module: str
    pythonpath: str | None = None
    woken: bool = False
    starts: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    getstate: list[float] = field(default_factory=list)
    sigterm: list[float] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.pythonpath is not None:
            env["PYTHONPATH"] = self.pythonpath
        return env


class Waker(threading.Thread):
    """A client calling getState on a new connection each time, until told to stop."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.settimeout(2.0)
                    sock.connect(str(self.path))
                    sock.sendall(REQUEST)
                    while sock.recv(65536):
                        pass
            except OSError:
                time.sleep(0.002)


def measure(side: Side, programs: int) -> None:
    with workspace() as tmp:
        conf = tmp / "supervisord.conf"
        conf.write_text(config_text(tmp, sleepers(programs)))
        lines = RunningLines(tmp / "supervisord.log")
        waker = Waker(tmp / "supervisor.sock") if side.woken else None
        started = time.perf_counter()
        proc = subprocess.Popen(
            [side.python, "-m", side.module, "-c", str(conf)],
            cwd=tmp,
            env=side.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while lines.update() < programs:
                if waker is not None and not waker.is_alive() and waker.path.exists():
                    waker.start()
                if time.perf_counter() - started > TIMEOUT:
                    raise RuntimeError(f"{side.name}: {programs} programs not RUNNING in time")
                time.sleep(0.001)
            side.starts.append(time.perf_counter() - started)
            if waker is not None:
                waker.done.set()
                waker.join()
            subprocess.run(
                [side.python, "-m", side.ctl_module, "-c", str(conf), "status"],
                cwd=tmp,
                env=side.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TIMEOUT,
                check=False,
            )
            time.sleep(1.0)
            side.rss.append(wait_for(lambda: _rss_mib(proc.pid), timeout=5, what="VmRSS"))
            socket_path = tmp / "supervisor.sock"
            side.getstate.append(
                statistics.median(_get_state(socket_path) for _ in range(GETSTATE_CALLS))
            )
            side.sigterm.append(_sigterm_to_exit(proc, Waker(socket_path) if side.woken else None))
        finally:
            kill_group_and_leader(proc.pid)
            proc.wait()


def _get_state(path: Path) -> float:
    """Seconds from connecting to the end of one getState answer."""
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(str(path))
        sock.sendall(REQUEST)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    elapsed = time.perf_counter() - started
    if b"statename" not in answer:
        raise RuntimeError(f"getState was not answered: {answer[:200]!r}")
    return elapsed


def _sigterm_to_exit(proc: subprocess.Popen[bytes], waker: Waker | None) -> float:
    if waker is not None:
        waker.start()
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(TIMEOUT)
    elapsed = time.perf_counter() - started
    if waker is not None:
        waker.done.set()
        waker.join()
    return elapsed


def _rss_mib(pid: int) -> float | None:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def sides(args: argparse.Namespace) -> list[Side]:
    chosen = []
    if not args.no_supervisor:
        python = supervisor_executable("python")
        for woken in (False, True):
            name = "Supervisor, woken" if woken else "Supervisor"
            chosen.append(
                Side(
                    name, python, "supervisor.supervisord", "supervisor.supervisorctl", woken=woken
                )
            )
    vigil = args.interpreter or sys.executable
    # another interpreter may not have the editable install: the work tree comes first
    here = str(ROOT) if args.interpreter else None
    chosen.append(Side("vigil", vigil, "vigil", "vigil.ctl.main", pythonpath=here))
    for tree in args.tree:
        name, _, path = tree.partition("=")
        chosen.append(
            Side(
                f"vigil {name}",
                vigil,
                "vigil",
                "vigil.ctl.main",
                pythonpath=str(Path(path).resolve()),
            )
        )
    return chosen


def _summary(samples: list[float], scale: float, digits: int) -> str:
    return (
        f"{statistics.median(samples) * scale:.{digits}f} "
        f"({min(samples) * scale:.{digits}f}-{max(samples) * scale:.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fixed_costs", description=__doc__)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--interpreter", metavar="PYTHON")
    parser.add_argument("--no-supervisor", action="store_true")
    args = parser.parse_args()
    # programs orphaned by a killed daemon become ours, and each workspace's sweep ends them
    become_subreaper()
    chosen = sides(args)
    for _ in range(args.reps):
        for side in chosen:
            measure(side, args.programs)
    print(f"{args.reps} repetitions, {args.programs} programs; median (min-max)")
    print(
        f"{'side':24} {'start to RUNNING, ms':>22} {'RSS at rest, MiB':>18} "
        f"{'getState, ms':>20} {'SIGTERM to exit, ms':>20}"
    )
    for side in chosen:
        print(
            f"{side.name:24} {_summary(side.starts, 1000, 0):>22} {_summary(side.rss, 1, 1):>18} "
            f"{_summary(side.getstate, 1000, 3):>20} {_summary(side.sigterm, 1000, 0):>20}"
        )


if __name__ == "__main__":
    main()
