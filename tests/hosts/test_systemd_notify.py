"""vigil under systemd's Type=notify, with the test as the service manager: a datagram socket
of its own in NOTIFY_SOCKET. MAINPID= after detaching, STATUS= while the autostart programs
start, READY=1 once they are up (and ready), RELOADING=1 with MONOTONIC_USEC= on a restart
then READY=1 again, STOPPING=1 on shutdown; children do not inherit the variable unless
their environment asks for it; a socket that is not there changes nothing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.daemon.daemonized import Started, config, running_pid
from tests.daemon.test_daemonize import gone
from tests.support import PY, unix_proxy, wait_until


class Manager:
    """The service manager's end: every datagram the daemon sent, in order."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.received: list[str] = []

    def until(self, prefix: str, timeout: float = 45.0) -> str:
        """The next message that starts with `prefix` (others are kept in `received`)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.received.append(message)
            if message.startswith(prefix):
                return message
        raise AssertionError(f"no {prefix!r} message; received {self.received}")


@contextmanager
def manager(address: str) -> Iterator[Manager]:
    each = Manager(address)
    try:
        yield each
    finally:
        each.sock.close()


def _environment(notify_socket: str) -> dict[str, str]:
    return {**os.environ, "NOTIFY_SOCKET": notify_socket}


def _start_daemonized(conf: Path, notify_socket: str) -> int:
    launched = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(notify_socket),
    )
    assert launched.returncode == 0, launched.stderr
    pidfile = conf.parent / "d.pid"

    def live_pid() -> int:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        return int(text) if text and not gone(int(text)) else 0

    return int(wait_until(live_pid, what="the daemon's pidfile"))


def test_ready_once_up_reloading_then_ready_again_and_stopping(
    tmp_path: Path, cleanup: Started
) -> None:
    gate = tmp_path / "go"
    conf = config(
        tmp_path,
        f"""
        [program:gated]
        command=/bin/sh -c "env; exec sleep 1000"
        ready=exec:test -e {gate}
        stdout_logfile={tmp_path}/gated.log

        [program:manual]
        command=/bin/sh -c "exec sleep 1000"
        autostart=false
        """,
    )
    with manager(str(tmp_path / "notify.sock")) as systemd:
        daemon = _start_daemonized(conf, str(tmp_path / "notify.sock"))
        cleanup.append(daemon)
        assert systemd.until("MAINPID=") == f"MAINPID={daemon}"
        assert systemd.until("STATUS=") == "STATUS=Starting: 0 of 1 programs up"
        assert not any("READY=1" in message for message in systemd.received)
        gate.touch()  # only now can gated become ready
        ready = systemd.until("READY=1")
        assert ready == "READY=1\nSTATUS=Running: 1 program up"
        rpc = unix_proxy(tmp_path / "s.sock")
        assert rpc.supervisor.getProcessInfo("gated")["statename"] == "RUNNING"
        environment = (tmp_path / "gated.log").read_text()
        assert "SUPERVISOR_PROCESS_NAME=gated" in environment
        assert "NOTIFY_SOCKET" not in environment

        rpc.supervisor.restart()
        reloading = systemd.until("RELOADING=1")
        assert re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=Reloading", reloading)
        usec = int(reloading.split("\n")[1].split("=")[1])
        assert abs(usec - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000) < 60_000_000
        systemd.until("READY=1")  # the next life's programs are up
        cleanup.append(running_pid(conf, "gated"))
        unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
        assert systemd.until("STOPPING=1") == "STOPPING=1\nSTATUS=Stopping"
        assert not any(m.startswith("MAINPID=") for m in systemd.received[1:])
    wait_until(lambda: gone(daemon), what="the daemon to exit")


def test_foreground_on_an_abstract_socket_and_a_program_that_asks_for_it(
    tmp_path: Path, cleanup: Started
) -> None:
    name = f"@vigil-test-{os.getpid()}-{time.monotonic_ns()}"
    conf = config(
        tmp_path,
        f"""
        [program:asks]
        command=/bin/sh -c "env; exec sleep 1000"
        environment=NOTIFY_SOCKET="%(ENV_NOTIFY_SOCKET)s"
        startsecs=0
        stdout_logfile={tmp_path}/asks.log
        """,
    )
    with manager("\0" + name[1:]) as systemd:
        daemon = subprocess.Popen(
            [PY, "-m", "vigil", "-n", "-c", str(conf)],
            env=_environment(name),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        cleanup.append(daemon.pid)
        assert systemd.until("READY=1") == "READY=1\nSTATUS=Running: 1 program up"
        log = tmp_path / "asks.log"
        wait_until(lambda: "SUPERVISOR_PROCESS_NAME" in log.read_text(), what="asks' env")
        assert f"NOTIFY_SOCKET={name}\n" in log.read_text()
        daemon.send_signal(signal.SIGTERM)
        assert systemd.until("STOPPING=1").startswith("STOPPING=1\n")
        assert daemon.wait(timeout=60) == 0
        assert not any(m.startswith("MAINPID=") for m in systemd.received)


def test_a_socket_that_is_not_there_changes_nothing(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        """
        [program:plain]
        command=/bin/sh -c "exec sleep 1000"
        startsecs=0
        """,
    )
    missing = str(tmp_path / "no-such-dir" / "notify.sock")
    daemon = _start_daemonized(conf, missing)
    cleanup.append(daemon)
    cleanup.append(running_pid(conf, "plain"))
    main_log = tmp_path / "d.log"
    said = f"could not notify the service manager at {missing}: No such file or directory"
    wait_until(lambda: said in main_log.read_text(), what="the warning")
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="the daemon to exit")
    assert main_log.read_text().count("could not notify") == 1
