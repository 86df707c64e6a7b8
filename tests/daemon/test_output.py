"""Child output through a real daemon: AUTO logs, rotation, and a flood that starves nobody."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from tests.support import PY, running_daemon, wait_until

ECHO = f"{PY} -u -c 'import sys; [print(line.strip(), flush=True) for line in sys.stdin]'"


def test_auto_logs_are_named_like_supervisors_and_old_ones_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / "old-stdout---supervisor-abcdefgh.log"
    stale.write_text("from an earlier daemon\n")
    stale_backup = tmp_path / "old-stdout---supervisor-abcdefgh.log.1"
    stale_backup.write_text("older\n")
    unrelated = tmp_path / "keep-me.log"
    unrelated.write_text("not ours\n")
    body = f"""
        [program:talker]
        command={ECHO}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        info = daemon.wait_state("talker", "RUNNING")
        assert re.fullmatch(
            rf"{tmp_path}/talker-stdout---supervisor-\S+\.log", info["stdout_logfile"]
        )
        assert re.fullmatch(
            rf"{tmp_path}/talker-stderr---supervisor-\S+\.log", info["stderr_logfile"]
        )
        daemon.rpc().supervisor.sendProcessStdin("talker", "hello\n")
        wait_until(lambda: Path(info["stdout_logfile"]).read_text() == "hello\n", what="log")
    assert not stale.exists() and not stale_backup.exists()
    assert unrelated.exists()


def logs_held_by(pid: int) -> set[str]:
    """The files the daemon has open, by path."""
    held = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed since the listing
            held.add(os.readlink(f"/proc/{pid}/fd/{name}"))
    return held


def test_child_logs_hold_a_descriptor_only_once_written(tmp_path: Path) -> None:
    body = f"""
        [program:talker]
        command={ECHO}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        info = daemon.wait_state("talker", "RUNNING")
        assert daemon.proc is not None
        pid, stdout_log = daemon.proc.pid, info["stdout_logfile"]
        logs = {stdout_log, info["stderr_logfile"]}
        assert all(Path(path).exists() for path in logs)
        assert not logs & logs_held_by(pid)
        daemon.rpc().supervisor.sendProcessStdin("talker", "hello\n")
        wait_until(lambda: Path(stdout_log).read_text() == "hello\n", what="log")
        assert logs & logs_held_by(pid) == {stdout_log}
        daemon.signal(signal.SIGUSR2)
        wait_until(lambda: not logs & logs_held_by(pid), what="logs reopened")
        daemon.rpc().supervisor.sendProcessStdin("talker", "again\n")
        wait_until(lambda: Path(stdout_log).read_text() == "hello\nagain\n", what="log")


def test_nocleanup_keeps_old_auto_logs(tmp_path: Path) -> None:
    stale = tmp_path / "old-stdout---supervisor-abcdefgh.log"
    stale.write_text("kept\n")
    body = f"""
        [supervisord]
        nocleanup=true

        [program:talker]
        command={ECHO}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("talker", "RUNNING")
    assert stale.read_text() == "kept\n"


def test_rotation_through_the_daemon_keeps_every_retained_byte(tmp_path: Path) -> None:
    log = tmp_path / "writer.log"
    marker = tmp_path / "done"
    script = tmp_path / "writer.py"
    script.write_text(
        "import os\n"
        "for n in range(2000):\n"
        "    os.write(1, f'{n:05d} '.encode() * 20 + b'\\n')\n"
        f"open({str(marker)!r}, 'w').close()\n"
    )
    body = f"""
        [program:writer]
        command={PY} {script}
        startsecs=0
        autorestart=false
        stdout_logfile={log}
        stdout_logfile_maxbytes=20KB
        stdout_logfile_backups=3
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("writer", "EXITED")
        assert marker.exists()
    expected = b"".join(f"{n:05d} ".encode() * 20 + b"\n" for n in range(2000))
    files = [tmp_path / f"writer.log.{k}" for k in (3, 2, 1)] + [log]
    retained = b"".join(f.read_bytes() for f in files if f.exists())
    assert len(retained) >= 3 * 20 * 1024
    assert expected.endswith(retained), "the retained logs are not an unbroken tail"


def test_a_flooding_child_does_not_starve_others(tmp_path: Path) -> None:
    flood = tmp_path / "flood.py"
    flood.write_text("import os\nchunk = b'x' * 65536\nwhile True:\n    os.write(1, chunk)\n")
    body = f"""
        [program:flood]
        command={PY} {flood}
        startsecs=0
        stdout_logfile={tmp_path}/flood.log
        stdout_logfile_maxbytes=1MB
        stdout_logfile_backups=1

        [program:talker]
        command={ECHO}
        startsecs=0
        stdout_logfile={tmp_path}/talker.log

        [program:other]
        command=sleep 600
        startsecs=0
        autostart=false
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("flood", "RUNNING")
        rpc = daemon.rpc()
        for n in range(5):
            rpc.supervisor.sendProcessStdin("talker", f"line {n}\n")
        expected = "".join(f"line {n}\n" for n in range(5))
        wait_until(lambda: (tmp_path / "talker.log").read_text() == expected, what="talker")
        began = time.monotonic()
        assert rpc.supervisor.startProcess("other") is True
        assert rpc.supervisor.stopProcess("other") is True
        assert rpc.supervisor.getState()["statename"] == "RUNNING"
        assert time.monotonic() - began < 20
        # each large read lands whole, then the file rotates: the backup holds the output
        wait_until(lambda: (tmp_path / "flood.log.1").exists(), what="flood rotated")
