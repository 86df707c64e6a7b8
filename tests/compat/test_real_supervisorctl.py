"""Supervisor 4.3.0's own supervisorctl drives vigil's daemon exactly as it drives its own.

The same supervisorctl program (the reference's) runs the same commands against both daemons,
over the unix socket and over TCP with a username and password; stdout, stderr and the exit
status must be the same after normalising pids, times, the temporary directory and the port.
`tail -f` and `fg` run on a pseudo-terminal, as they would at a shell.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.compat.support import (
    DEADLINE,
    TALKER,
    Recorder,
    reference_ctl,
    run_differential,
    terminal,
)

USERNAME = "operator"
PASSWORD = "s3cret"

CONFIG = """
[inet_http_server]
port=127.0.0.1:{port}
username=operator
password=s3cret

[program:talker]
command={py} -u {tmp}/talker.py
startsecs=0

[program:sleeper]
command=sleep 600
startsecs=0
autostart=false

[program:quick]
command=/bin/false
startsecs=1
startretries=0
autostart=false

[program:missing]
command=/nonexistent/program
autostart=false

[program:nolog]
command=sleep 600
startsecs=0
autostart=false
stdout_logfile=NONE

[program:gone]
command=sleep 600
startsecs=0
autostart=false

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 600
startsecs=0

[program:gb]
command=sleep 600
startsecs=0
"""

# sleeper's command changes, gone disappears, newprog appears
CHANGED = CONFIG.replace(
    "[program:sleeper]\ncommand=sleep 600", "[program:sleeper]\ncommand=sleep 601"
).replace(
    "[program:gone]\ncommand=sleep 600\nstartsecs=0\nautostart=false\n",
    "[program:newprog]\ncommand=sleep 602\nstartsecs=0\n",
)

View = Callable[[dict[str, object]], object]


class Ctl:
    """supervisorctl, one command per run, against one daemon over one transport."""

    def __init__(self, rec: Recorder, transport: str) -> None:
        self.rec = rec
        self.transport = transport

    def command(self, *args: str, password: str = PASSWORD) -> list[str]:
        argv = [reference_ctl(), "-c", str(self.rec.daemon.conf)]
        if self.transport == "tcp":
            argv += ["-s", self.rec.side.tcp_url, "-u", USERNAME, "-p", password]
        return [*argv, *args]

    def run(self, *args: str, view: View | None = None, password: str = PASSWORD) -> None:
        done = subprocess.run(
            self.command(*args, password=password),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self.rec.side.tmp,
            timeout=DEADLINE,
        )
        outcome: dict[str, object] = {
            "exit": done.returncode,
            "stdout": self.rec.normalise.text(done.stdout.decode("utf-8", "replace")),
            "stderr": self.rec.normalise.text(done.stderr.decode("utf-8", "replace")),
        }
        label = f"supervisorctl {' '.join(args)}"
        self.rec.record(label, outcome if view is None else view(outcome))


def lines_in_any_order(outcome: dict[str, object]) -> object:
    """For commands that wait for several processes to stop: both daemons report each stop
    as it completes, and which of two children killed together is reaped first is the
    kernel's choice."""
    return {**outcome, "stdout": sorted(str(outcome["stdout"]).splitlines())}


def log_shape(outcome: dict[str, object]) -> object:
    """The main logs' words are each daemon's own; how much of them is shown is not."""
    return {**outcome, "stdout": len(str(outcome["stdout"]))}


def log_not_empty(outcome: dict[str, object]) -> object:
    return {**outcome, "stdout": bool(str(outcome["stdout"]).strip())}


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_supervisorctl_processes(tmp_path: Path, transport: str) -> None:
    def scenario(rec: Recorder) -> None:
        ctl = Ctl(rec, transport)
        for name in ("talker", "grp:ga", "grp:gb"):
            rec.wait_state(name, "RUNNING")
        rec.wait_log("talker", "hello stderr", "stderr")
        status(ctl)
        start_stop(ctl)
        signals(ctl)
        logs(ctl)
        pids(ctl)

    run_differential(tmp_path, CONFIG, scenario, scripts={"talker.py": TALKER})


def status(ctl: Ctl) -> None:
    ctl.run("status")
    ctl.run("status", "talker")
    ctl.run("status", "talker", "sleeper")
    ctl.run("status", "nosuch")
    ctl.run("status", "grp:*")
    ctl.run("status", "nosuch:*")
    ctl.run("status", "all")
    ctl.run("avail")
    ctl.run("version")


def start_stop(ctl: Ctl) -> None:
    ctl.run("start", "sleeper")
    ctl.run("start", "sleeper")
    ctl.run("start", "nosuch")
    ctl.run("start", "nosuch:*")
    ctl.run("start", "quick")
    ctl.rec.wait_state("quick", "FATAL")
    ctl.run("start", "missing")
    ctl.run("start")
    ctl.run("status")
    ctl.run("stop", "sleeper")
    ctl.run("stop", "sleeper")
    ctl.run("stop", "nosuch")
    ctl.run("stop")
    ctl.run("restart", "talker")
    ctl.run("restart", "grp:*", view=lines_in_any_order)
    ctl.run("stop", "grp:*", view=lines_in_any_order)
    ctl.run("start", "grp:*")
    ctl.run("restart", "sleeper")
    ctl.run("stop", "all", view=lines_in_any_order)
    ctl.run("status")
    # quick's spawn error comes at once or last from 4.3.0, depending on whether /bin/false has
    # exited when it reaps right after spawning
    ctl.run("start", "all", view=lines_in_any_order)
    ctl.rec.wait_state("quick", "FATAL")
    ctl.run("status")


def signals(ctl: Ctl) -> None:
    ctl.rec.wait_count("talker", "hello stdout", 3)  # started thrice: its SIGHUP handler is set
    ctl.run("signal", "HUP", "talker")
    ctl.rec.wait_log("talker", "got SIGHUP")
    ctl.run("signal", "BOGUS", "talker")
    ctl.run("signal", "HUP", "quick")
    ctl.run("signal", "HUP", "nosuch")
    ctl.run("signal", "HUP")
    ctl.run("signal", "WINCH", "grp:*")
    ctl.run("signal", "WINCH", "all")


def logs(ctl: Ctl) -> None:
    ctl.run("tail", "talker")
    ctl.run("tail", "talker", "stderr")
    ctl.run("tail", "-5", "talker")
    ctl.run("tail", "nosuch")
    ctl.run("tail", "talker", "foo")
    ctl.run("tail", "nolog")
    ctl.run("tail")
    ctl.run("maintail", view=log_not_empty)
    ctl.run("maintail", "-5", view=log_shape)
    ctl.run("clear", "talker")
    ctl.run("tail", "talker")
    ctl.run("clear", "nosuch")
    ctl.run("clear")


def pids(ctl: Ctl) -> None:
    ctl.run("pid")
    ctl.run("pid", "talker")
    ctl.run("pid", "nolog")
    ctl.run("pid", "all")
    ctl.run("pid", "nosuch")


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_supervisorctl_follows_output(tmp_path: Path, transport: str) -> None:
    def scenario(rec: Recorder) -> None:
        ctl = Ctl(rec, transport)
        rec.wait_state("talker", "RUNNING")
        rec.wait_log("talker", "hello stderr", "stderr")
        tail_follow(ctl, "talker", "hello stdout")
        tail_follow(ctl, "talker", "hello stderr", "stderr")
        ctl.run("tail", "-f", "nosuch")
        ctl.run("tail", "-f", "nolog")
        foreground(ctl)
        ctl.run("fg")
        ctl.run("fg", "nosuch")
        ctl.run("fg", "sleeper")
        ctl.run("fg", "talker", "sleeper")

    run_differential(tmp_path, CONFIG, scenario, scripts={"talker.py": TALKER})


def tail_follow(ctl: Ctl, name: str, first: str, channel: str = "stdout") -> None:
    """`tail -f`: what is there already, then what comes, until Ctrl-C."""
    with terminal(ctl.command("tail", "-f", name, channel), ctl.rec.side.tmp) as term:
        term.read_until(first)
        ctl.rec.rpc().supervisor.signalProcess(name, "HUP")
        if channel == "stdout":
            term.read_until("got SIGHUP")
        shown = term.text
        term.interrupt()
        # what follows Ctrl-C depends on where in its HTTP client 4.3.0's supervisorctl is
        # interrupted (a "Cannot connect, error: KeyboardInterrupt" line, or nothing)
        status = term.finish()
        ctl.rec.record(f"supervisorctl tail -f {name} {channel}", (status, shown))


NUDGES = 6
NUDGE_WAIT = 5.0


def foreground(ctl: Ctl) -> None:
    """`fg`: the process's output on the terminal, the terminal's lines to its stdin."""
    with terminal(ctl.command("fg", "talker"), ctl.rec.side.tmp) as term:
        term.read_until("hello stderr")
        term.read_until("hello stdout")
        term.write("ping\n")
        term.read_until("echo: ping")
        # which of the two log streams' opening chunks reaches the terminal first is up to
        # the network: compare the lines, not their interleaving
        shown = sorted(term.text.splitlines())
        term.interrupt()
        term.read_until("Exiting foreground")
        # The output thread notices it was told to end when its next data arrives; a chunk
        # that reaches it while its trace is not looking (4.3.0's fgthread ends by a trace
        # function raising SystemExit) is printed and missed, so more data comes, bounded.
        for _ in range(NUDGES):
            ctl.rec.rpc().supervisor.signalProcess("talker", "HUP")
            if term.ended_within(NUDGE_WAIT):
                break
        status = term.finish()
        ctl.rec.record("supervisorctl fg talker", (status, shown))


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_supervisorctl_config_changes_and_daemon(tmp_path: Path, transport: str) -> None:
    def scenario(rec: Recorder) -> None:
        ctl = Ctl(rec, transport)
        for name in ("talker", "grp:ga", "grp:gb"):
            rec.wait_state(name, "RUNNING")
        ctl.run("reread")
        ctl.run("update")
        ctl.run("start", "sleeper")
        rec.edit_config(CONFIG, CHANGED)
        ctl.run("reread")
        ctl.run("avail")
        ctl.run("update", "nosuch")
        ctl.run("update")
        rec.wait_state("newprog", "RUNNING")
        ctl.run("status")
        ctl.run("update")
        ctl.run("remove", "newprog")
        ctl.run("stop", "newprog")
        ctl.run("remove", "newprog")
        ctl.run("remove", "newprog")
        ctl.run("add", "newprog")
        ctl.run("add", "newprog")
        ctl.run("add", "nosuch")
        ctl.run("remove", "nosuch")
        ctl.run("add")
        ctl.run("status")
        rec.edit_config(CHANGED, CONFIG)
        ctl.run("update", "gone", "newprog")
        ctl.run("avail")
        ctl.run("reload", "now")
        ctl.run("reload")
        rec.wait_restarted()
        for name in ("talker", "grp:ga", "grp:gb"):
            rec.wait_state(name, "RUNNING")
        ctl.run("status")
        ctl.run("shutdown", "now")
        ctl.run("shutdown")
        assert rec.daemon.proc is not None
        rec.record("daemon exit status", rec.daemon.proc.wait(DEADLINE))
        ctl.run("status")
        ctl.run("shutdown")
        ctl.run("start", "talker")

    run_differential(tmp_path, CONFIG, scenario, scripts={"talker.py": TALKER})


def test_supervisorctl_over_tcp_with_a_wrong_password(tmp_path: Path) -> None:
    def scenario(rec: Recorder) -> None:
        ctl = Ctl(rec, "tcp")
        rec.wait_state("talker", "RUNNING")
        ctl.run("status", password="wrong")
        ctl.run("start", "sleeper", password="wrong")
        ctl.run("status", "sleeper")

    run_differential(tmp_path, CONFIG, scenario, scripts={"talker.py": TALKER})
