"""pidproxy with real processes: it relays signals to the pid in the pidfile, says so when it
cannot read the file, and exits as soon as its child does (waiting on it, not polling)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil

from tests.support import PY, reference_bin, wait_until

# Writes its pid to the pidfile, then notes each signal it gets; TERM and USR2 end it.
DAEMONISH = textwrap.dedent(
    """
    import os, signal, sys
    pidfile, notes = sys.argv[1], sys.argv[2]
    def note(number, frame):
        with open(notes, "a") as f:
            f.write(signal.Signals(number).name + "\\n")
        if number in (signal.SIGTERM, signal.SIGUSR2):
            sys.exit(0)
    for number in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
        signal.signal(number, note)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\\n")
    os.rename(pidfile + ".tmp", pidfile)
    while True:
        signal.pause()
    """
)


@contextlib.contextmanager
def pidproxy(tmp: Path, pidfile: Path, *command: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [PY, "-m", "vigil.pidproxy", str(pidfile), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def daemonish(tmp: Path, pidfile: Path, noted: Path) -> list[str]:
    (tmp / "daemonish.py").write_text(DAEMONISH)
    return [PY, str(tmp / "daemonish.py"), str(pidfile), str(noted)]


def notes(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_usage_is_supervisors(tmp_path: Path) -> None:
    ours = subprocess.run(
        [PY, "-c", "import sys; sys.argv[0] = 'pidproxy'; from vigil.pidproxy import main; main()"],
        capture_output=True,
        text=True,
    )
    script = "import sys; sys.argv[0] = 'pidproxy'; from supervisor.pidproxy import main; main()"
    theirs = subprocess.run([reference_bin("python"), "-c", script], capture_output=True, text=True)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout) == (1, ours.stdout)
    assert ours.stdout.startswith("pidproxy -- run command and proxy signals")
    assert "Usage: pidproxy <pidfile name> <command> [<cmdarg1> ...]" in ours.stdout


def test_relays_signals_to_the_pid_in_the_pidfile_and_ends_on_term(tmp_path: Path) -> None:
    (tmp_path / "daemonish.py").write_text(DAEMONISH)
    pidfile, noted = tmp_path / "d.pid", tmp_path / "notes"
    with pidproxy(
        tmp_path, pidfile, PY, str(tmp_path / "daemonish.py"), str(pidfile), str(noted)
    ) as proc:
        wait_until(pidfile.exists, what="the pidfile")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: notes(noted) == ["SIGHUP"], what="SIGHUP relayed")
        proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: notes(noted) == ["SIGHUP", "SIGUSR1"], what="SIGUSR1 relayed")
        assert proc.poll() is None  # HUP and USR1 do not end pidproxy
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        wait_until(lambda: notes(noted)[-1:] == ["SIGTERM"], what="SIGTERM relayed")


def test_exits_when_its_child_exits_waiting_on_it(tmp_path: Path) -> None:
    (tmp_path / "daemonish.py").write_text(DAEMONISH)
    pidfile, noted = tmp_path / "d.pid", tmp_path / "notes"
    with pidproxy(
        tmp_path, pidfile, PY, str(tmp_path / "daemonish.py"), str(pidfile), str(noted)
    ) as proc:
        wait_until(pidfile.exists, what="the pidfile")
        wchan = Path(f"/proc/{proc.pid}/wchan")
        if wchan.exists() and wchan.read_text() != "0":  # "0": the kernel does not say
            # blocked in waitpid on its child, not sleeping in a poll loop
            wait_until(lambda: wchan.read_text() == "do_wait", what="pidproxy in waitpid")
        proc.send_signal(signal.SIGUSR2)  # relayed; the child exits on it
        assert proc.wait(timeout=20) == 0
        assert notes(noted) == ["SIGUSR2"]


def test_an_unreadable_pidfile_is_reported_and_pidproxy_stays(tmp_path: Path) -> None:
    pidfile = tmp_path / "missing.pid"
    with pidproxy(tmp_path, pidfile, "/bin/sleep", "600") as proc:
        # its handlers are in place before it starts the child
        child = wait_until(lambda: psutil.Process(proc.pid).children(), what="the child")[0]
        try:
            proc.send_signal(signal.SIGTERM)
            assert proc.stdout is not None
            assert proc.stdout.readline() == f"Can't read child pidfile {pidfile}!\n"
            assert proc.poll() is None
            child.terminate()  # the child ends: so does pidproxy
            assert proc.wait(timeout=20) == 0
        finally:
            with contextlib.suppress(psutil.Error):
                child.kill()


def test_a_command_that_cannot_run_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [PY, "-m", "vigil.pidproxy", str(tmp_path / "x.pid"), "no-such-program"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 127
    assert result.stderr == (
        f"pidproxy: cannot run {tmp_path / 'no-such-program'}: not an executable file\n"
    )
