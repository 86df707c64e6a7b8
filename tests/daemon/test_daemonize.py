"""supervisord without -n: it detaches, writes its pidfile, and cleans up on SIGTERM."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import textwrap
from pathlib import Path

import psutil
import pytest

from tests.support import PY, unix_proxy, wait_until


def gone(pid: int) -> bool:
    """Exited: a detached daemon may be re-parented to this test process (when an earlier
    test made it a subreaper) and then waits here as a zombie."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def write_config(tmp_path: Path, extra: str = "") -> Path:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            [unix_http_server]
            file={tmp_path}/s.sock

            [supervisord]
            logfile={tmp_path}/d.log
            pidfile={tmp_path}/d.pid
            childlogdir={tmp_path}
            directory={tmp_path}

            [program:sleeper]
            command=sleep 600
            startsecs=0
            """
        )
        + textwrap.dedent(extra)
    )
    return conf


def test_daemonizes_writes_pidfile_and_removes_it_at_exit(tmp_path: Path) -> None:
    conf = write_config(tmp_path)
    launched = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert launched.returncode == 0, launched.stderr
    pidfile = tmp_path / "d.pid"
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pidfile")
    pid = int(pidfile.read_text())
    try:
        daemon = psutil.Process(pid)
        assert daemon.cwd() == str(tmp_path)
        assert os.getsid(pid) == pid  # leads its own session
        rpc = unix_proxy(tmp_path / "s.sock")
        wait_until(lambda: rpc.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING")
        assert rpc.supervisor.getPID() == pid
        second = subprocess.run(
            [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 2 and "Traceback" not in second.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: gone(pid), what="daemon exit")
    assert not pidfile.exists()
    assert not (tmp_path / "s.sock").exists()


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another user needs root")
def test_program_runs_as_its_configured_user(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    conf = write_config(
        tmp_path,
        """
        [program:who]
        command=sleep 600
        user=nobody
        startsecs=0
        """,
    )
    os.chmod(tmp_path, 0o755)
    proc = subprocess.Popen([PY, "-m", "vigil", "-n", "-c", str(conf)], cwd=tmp_path)
    try:
        rpc = unix_proxy(tmp_path / "s.sock")

        def who_pid() -> int:
            try:
                info = rpc.supervisor.getProcessInfo("who")
            except OSError:
                return 0
            return int(info["pid"]) if info["statename"] == "RUNNING" else 0

        pid = wait_until(who_pid, what="who RUNNING")
        uids = psutil.Process(pid).uids()
        assert (uids.real, uids.effective) == (nobody.pw_uid, nobody.pw_uid)
        assert psutil.Process(pid).gids().real == nobody.pw_gid
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def limits_of(pid: int) -> dict[str, str]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): row[26:47].strip() for row in rows}


def test_minfds_and_minprocs_raise_the_daemons_limits(tmp_path: Path) -> None:
    conf = write_config(tmp_path, "")
    conf.write_text(
        conf.read_text().replace("[supervisord]", "[supervisord]\nminfds=4321\nminprocs=321")
    )
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f"ulimit -S -n 1024; exec {PY} -m vigil -n -c {conf}"], cwd=tmp_path
    )
    try:
        rpc = unix_proxy(tmp_path / "s.sock")
        pid = wait_until(lambda: _answer(rpc), what="the daemon")
        limits = limits_of(pid)
        assert int(limits["Max open files"]) >= 4321
        assert limits["Max processes"] == "unlimited" or int(limits["Max processes"]) >= 321
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def _answer(rpc: object) -> int:
    try:
        return int(rpc.supervisor.getPID())  # type: ignore[attr-defined]
    except OSError:
        return 0


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another user needs root")
def test_the_daemon_drops_privileges_to_its_user() -> None:
    nobody = pwd.getpwnam("nobody")
    # the daemon opens its log and socket after becoming nobody, who cannot reach pytest's
    # own temporary tree (root only): a world-writable directory of our own
    tmp_path = Path(tempfile.mkdtemp(prefix="vigil-user-"))
    os.chmod(tmp_path, 0o777)
    try:
        _run_as_nobody(tmp_path, nobody)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _run_as_nobody(tmp_path: Path, nobody: pwd.struct_passwd) -> None:
    conf = write_config(tmp_path, "")
    conf.write_text(conf.read_text().replace("[supervisord]", "[supervisord]\nuser=nobody"))
    proc = subprocess.Popen([PY, "-m", "vigil", "-n", "-c", str(conf)], cwd=tmp_path)
    try:
        rpc = unix_proxy(tmp_path / "s.sock")
        pid = wait_until(lambda: _answer(rpc), what="the daemon")
        assert psutil.Process(pid).uids().effective == nobody.pw_uid
        child = wait_until(lambda: rpc.supervisor.getProcessInfo("sleeper")["pid"], what="sleeper")
        assert psutil.Process(child).uids().effective == nobody.pw_uid
        assert "CRIT Supervisor is running as root" not in (tmp_path / "d.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
