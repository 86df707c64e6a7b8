"""vigil's log methods against Supervisor 4.3.0's: reads and tails by offset, stdin, rotation
and clearing, with the same calls and the same answers (see test_xmlrpc_compat.py for how the
transcripts are compared)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.compat.support import (
    DEADLINE,
    DEAF,
    TALKER,
    Recorder,
    fault_text,
    run_differential,
)
from tests.support import wait_until

LOGS = """
[program:talker]
command={py} -u {tmp}/talker.py
startsecs=0

[program:deaf]
command={py} -u {tmp}/deaf.py
startsecs=0

[program:nolog]
command=sleep 600
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:merged]
command={py} -u {tmp}/talker.py
startsecs=0
redirect_stderr=true

[program:named]
command={py} -u {tmp}/talker.py
startsecs=0
stdout_logfile={tmp}/named.out
stderr_logfile={tmp}/named.err

[program:rotating]
command={py} -u {tmp}/talker.py
startsecs=0
stdout_logfile={tmp}/rotating.log
stdout_logfile_maxbytes=60
stdout_logfile_backups=2

[program:inlogs]
command=sleep 600
startsecs=0
stdout_logfile={tmp}/logs/inlogs.out
"""


def test_process_logs_and_stdin(tmp_path: Path) -> None:
    def scenario(rec: Recorder) -> None:
        for name in ("talker", "deaf", "nolog", "merged", "named", "rotating", "inlogs"):
            rec.wait_state(name, "RUNNING")
        rec.wait_log("talker", "hello stdout")
        rec.wait_log("talker", "hello stderr", "stderr")
        rec.wait_log("merged", "hello stderr")
        rec.wait_log("named", "hello stdout")
        rec.wait_log("deaf", "stdin closed")
        rec.call("supervisor.getAllProcessInfo")
        reads(rec)
        tails(rec)
        stdin(rec)
        rotation(rec)
        clearing(rec)

    scripts = {"talker.py": TALKER, "deaf.py": DEAF, "logs/README": "inlogs' logs\n"}
    run_differential(tmp_path, LOGS, scenario, scripts=scripts)


def reads(rec: Recorder) -> None:
    for offset, length in (
        (0, 0), (0, 5), (6, 6), (-5, 0), (-1000, 0), (1000, 0), (23, 0), (24, 0), (0, 1000),
        (-1, 5), (0, -1), (-1, -1), (5, -5),
    ):  # fmt: skip
        rec.call("supervisor.readProcessStdoutLog", "talker", offset, length)
    rec.call("supervisor.readProcessLog", "talker", 0, 5)
    rec.call("supervisor.readProcessStderrLog", "talker", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "talker", -7, 0)
    rec.call("supervisor.readProcessStdoutLog", "merged", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "merged", 0, 0)
    rec.call("supervisor.readProcessStdoutLog", "named", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "named", 0, 0)
    # regression: no log at all is a plain NO_FILE (it read "NO_FILE: None")
    assert fault_text(rec.call("supervisor.readProcessStdoutLog", "nolog", 0, 0)) == "NO_FILE"
    rec.call("supervisor.readProcessStderrLog", "nolog", 0, 0)
    rec.call("supervisor.readProcessStdoutLog", "nosuch", 0, 0)
    rec.call("supervisor.readProcessStdoutLog", "talker:*", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "nosuch", -1, 5)
    rec.call("supervisor.readProcessStdoutLog", "talker", 0)
    # offsets written as strings (an untyped <value>) are converted, as 4.3.0 does with int()
    # regression: numbers written as strings are converted (they were INCORRECT_PARAMETERS)
    assert rec.call("supervisor.readProcessStdoutLog", "talker", "6", "6") == "stdout"
    rec.call("supervisor.readProcessStderrLog", "talker", "-7", "0")
    rec.call("supervisor.tailProcessStdoutLog", "talker", "0", "5")
    rec.call("supervisor.readLog", "0", "-1")


def tails(rec: Recorder) -> None:
    for offset, length in (
        (0, 5), (0, 1000), (24, 10), (20, 10), (100, 10), (-5, 10), (0, 0), (10, -5), (-100, 0),
    ):  # fmt: skip
        rec.call("supervisor.tailProcessStdoutLog", "talker", offset, length)
    rec.call("supervisor.tailProcessLog", "talker", 0, 3)
    rec.call("supervisor.tailProcessStderrLog", "talker", 0, 100)
    rec.call("supervisor.tailProcessStderrLog", "talker", 5, 2)
    rec.call("supervisor.tailProcessStdoutLog", "nolog", 0, 100)
    rec.call("supervisor.tailProcessStderrLog", "nolog", 7, 100)
    rec.call("supervisor.tailProcessStderrLog", "merged", 0, 100)
    rec.call("supervisor.tailProcessStdoutLog", "nosuch", 0, 100)
    rec.call("supervisor.tailProcessStderrLog", "talker:*", 0, 100)


def stdin(rec: Recorder) -> None:
    rec.call("supervisor.sendProcessStdin", "talker", "ping\n")
    rec.call("supervisor.sendProcessStdin", "talker", "h\u00e9llo w\u00f6rld\n")
    rec.call("supervisor.sendProcessStdin", "talker", "")
    rec.wait_log("talker", "echo: h\u00e9llo")
    rec.call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    rec.call("supervisor.tailProcessStdoutLog", "talker", 0, 1000)
    # regression: the fault shows the value sent, as 4.3.0's does
    assert fault_text(rec.call("supervisor.sendProcessStdin", "talker", 5)) == (
        "INCORRECT_PARAMETERS: 5"
    )
    rec.call("supervisor.sendProcessStdin", "talker", ["x"])
    rec.call("supervisor.sendProcessStdin", "nosuch", "x")
    rec.call("supervisor.sendProcessStdin", "talker:*", "x")
    rec.call("supervisor.sendProcessStdin", "talker")
    rec.call("supervisor.sendProcessStdin", "deaf", "anyone?\n")
    rec.call("supervisor.sendProcessStdin", "deaf", "anyone?\n")


def rotation(rec: Recorder) -> None:
    """Which bytes end up in which file when a log rotates, and what reads then see."""
    rec.wait_log("rotating", "hello stdout")
    for number in range(1, 9):
        rec.call("supervisor.sendProcessStdin", "rotating", f"line-{number}\n")
        wait_logged_and_rotated(rec, f"echo: line-{number}\n")
    rec.record("rotated files", rotated_logs(rec))
    rec.call("supervisor.readProcessStdoutLog", "rotating", 0, 0)
    rec.call("supervisor.tailProcessStdoutLog", "rotating", 0, 100)
    rec.call("supervisor.clearProcessLogs", "rotating")
    rec.record("rotated files after clearing", rotated_logs(rec))


def wait_logged_and_rotated(rec: Recorder, line: str) -> None:
    """Wait until the daemon has written ``line`` to the rotating log and done any rotation it
    caused, without looking at the log files while they may be moving.

    Both daemons copy a chunk of child output to their main log (DEBG) only after writing it
    to the child log, and a rotation happens within that write: once the main log shows the
    line, the files stay as they are until the next line is sent.
    """
    shown = f"'rotating' stdout output:\n{line}"
    wait_until(
        lambda: shown in rec.daemon.log.read_text(errors="replace"),
        DEADLINE,
        f"{line!r} of rotating in the main log ({rec.kind})",
    )


def rotated_logs(rec: Recorder) -> dict[str, str]:
    return {
        path.name: path.read_text() for path in sorted(rec.side.tmp.glob("rotating.log*"))
    }


def clearing(rec: Recorder) -> None:
    rec.call("supervisor.clearProcessLogs", "talker")
    rec.call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "talker", 0, 0)
    rec.call("supervisor.signalProcess", "talker", "HUP")
    rec.wait_log("talker", "got SIGHUP")
    rec.call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    rec.call("supervisor.clearProcessLog", "named")
    rec.call("supervisor.readProcessStdoutLog", "named", 0, 0)
    rec.call("supervisor.clearProcessLogs", "nolog")
    rec.call("supervisor.clearProcessLogs", "nosuch")
    rec.call("supervisor.clearProcessLogs", "talker:*")
    shutil.rmtree(rec.side.tmp / "logs")  # a log that can no longer be reopened: FAILED
    rec.call("supervisor.clearProcessLogs", "inlogs")
    rec.call("supervisor.clearAllProcessLogs")  # one at a time in 4.3.0: slow, so only once
    rec.call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    rec.call("supervisor.tailProcessStdoutLog", "talker", 0, 100)
    rec.call("supervisor.readProcessStdoutLog", "inlogs", 0, 0)
    rec.call("supervisor.tailProcessStdoutLog", "inlogs", 0, 10)
