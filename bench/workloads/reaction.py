"""Reaction: a RUNNING child is killed with SIGKILL; how long until its replacement runs.

Quiet: nobody talks to the daemon. The replacement is noticed without asking it: the program
writes its pid to a file as it starts, and we watch that file, so the daemon wakes up only for
the death of its child. Busy: a client process calls getState in a loop throughout, and the
replacement is noticed through getProcessInfo, as a monitoring tool would.
"""

from __future__ import annotations

import http.client
import os
import signal
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from bench.daemons import Daemon, Side, program_section, workspace
from bench.metrics import Measured, Metric
from bench.traffic import load_clients
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP, Workload

RESPAWN_TIMEOUT = 30.0
QUIET_POLL = 0.0005  # reading a small file: cheap enough to do this often
BUSY_POLL = 0.001
LOAD_CLIENT_BOUND = 600.0  # the traffic client stops by itself at the latest after this


class ReactionWorkload(Workload):
    name = "reaction"
    description = "kill -9 of a RUNNING child until its replacement is RUNNING (autorestart)"

    def metrics(self) -> list[Metric]:
        return [
            self.metric("quiet", "kill -9 to RUNNING again, no client traffic", "ms"),
            self.metric("busy", "kill -9 to RUNNING again, getState traffic", "ms"),
        ]

    def measure(self, side: Side, out: Measured) -> None:
        with workspace() as tmp:
            pidfile = tmp / "victim.pid"
            command = f"/bin/sh -c 'echo $$ > {pidfile}; exec {SLEEP} 1000'"
            programs = program_section(
                "victim", {"command": command, "startsecs": 0, "autorestart": "true"}
            )
            with Daemon(side, tmp, programs) as daemon:
                daemon.start()
                out["reaction.quiet"] = [
                    _quiet_kill(daemon, pidfile) for _ in range(self.sizes.kills)
                ]
                with load_clients(daemon.sock, 1, 0.0, LOAD_CLIENT_BOUND) as (client,):
                    client.wait_ready(RESPAWN_TIMEOUT)
                    out["reaction.busy"] = [_busy_kill(daemon) for _ in range(self.sizes.kills)]
                    done, _failed = client.finish(stop=True)
                    if done < self.sizes.kills:
                        raise BenchError(f"{side}: the traffic client made only {done} calls")


def _pid_in(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text()
    except OSError:
        return None
    return int(text) if text.endswith("\n") and text.strip().isdigit() else None


def _process_info(daemon: Daemon) -> dict[str, Any] | None:
    daemon.check_alive()
    try:
        info: dict[str, Any] = daemon.call("supervisor.getProcessInfo", "victim")
    except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError):
        return None
    return info


def _steady_pid(daemon: Daemon, pidfile: Path) -> int:
    """The victim's pid once the daemon and the pid file agree that it is RUNNING."""

    def agreed() -> int | None:
        pid = _pid_in(pidfile)
        info = _process_info(daemon)
        if pid and info and info["statename"] == "RUNNING" and info["pid"] == pid:
            return pid
        return None

    return wait_for(agreed, timeout=RESPAWN_TIMEOUT, what=f"{daemon.side}: victim RUNNING")


def _quiet_kill(daemon: Daemon, pidfile: Path) -> float:
    victim = _steady_pid(daemon, pidfile)
    started = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (pid := _pid_in(pidfile)) is not None and pid != victim,
        timeout=RESPAWN_TIMEOUT,
        interval=QUIET_POLL,
        what=f"{daemon.side}: the victim's replacement to start",
    )
    return (time.perf_counter() - started) * 1000


def _busy_kill(daemon: Daemon) -> float:
    info = wait_for(
        lambda: (info := _process_info(daemon)) and info["statename"] == "RUNNING" and info,
        timeout=RESPAWN_TIMEOUT,
        what=f"{daemon.side}: victim RUNNING",
    )
    victim = info["pid"]
    started = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (now := _process_info(daemon))
        and now["statename"] == "RUNNING"
        and now["pid"] not in (0, victim),
        timeout=RESPAWN_TIMEOUT,
        interval=BUSY_POLL,
        what=f"{daemon.side}: getProcessInfo to show the victim's replacement RUNNING",
    )
    return (time.perf_counter() - started) * 1000
