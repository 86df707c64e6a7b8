"""vigil as PID 1 of a real PID namespace (``unshare --pid --fork --mount-proc``), as a
container runtime starts an image's command, without a container runtime: the test can see
every process of the namespace from outside, send signals, and read the exit status."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
import threading
from pathlib import Path

import psutil
import pytest

from tests.daemon.daemonized import Started
from tests.support import PY, wait_until


def unshare() -> str:
    """The unshare command; a missing one fails the test (never skips it)."""
    found = shutil.which("unshare")
    if found is None:
        pytest.fail(
            "container tests need util-linux's unshare (and root, or user namespaces) to run "
            "vigil as PID 1 of a PID namespace: install util-linux"
        )
    return found


def container_config(tmp_path: Path, programs: str, *, supervisord: str = "") -> Path:
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
            """
        )
        + textwrap.dedent(supervisord)
        + textwrap.dedent(programs)
    )
    return conf


class Pid1:
    """vigil started as PID 1 of a new PID namespace. Its stdout is a pipe, as a container
    runtime gives it, copied to a file by a thread; its stderr is a file."""

    def __init__(self, conf: Path, cleanup: Started) -> None:
        self.dir = conf.parent
        self.stdout = self.dir / "vigil.out"
        self.stderr = self.dir / "vigil.err"
        with open(self.stderr, "wb") as err:
            self.unshare = subprocess.Popen(
                [unshare(), "--pid", "--fork", "--mount-proc", PY, "-m", "vigil", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        cleanup.append(self.unshare.pid)
        self._copier = threading.Thread(target=self._copy, daemon=True)
        self._copier.start()
        self.vigil = wait_until(self._vigil, 30, "vigil to start as PID 1")
        cleanup.append(self.vigil.pid)  # killing PID 1 ends the whole namespace

    def _copy(self) -> None:
        assert self.unshare.stdout is not None
        with open(self.stdout, "wb") as out:
            while chunk := self.unshare.stdout.read1(65536):
                out.write(chunk)
                out.flush()

    def output(self) -> bytes:
        """What vigil wrote on its stdout (all of it once `wait` has returned)."""
        return self.stdout.read_bytes() if self.stdout.exists() else b""

    def _vigil(self) -> psutil.Process | None:
        if self.unshare.poll() is not None:
            raise AssertionError(
                f"unshare exited with {self.unshare.returncode}: {self.stderr.read_text()}"
            )
        children = psutil.Process(self.unshare.pid).children()
        return children[0] if children else None

    def namespace_pids(self) -> list[psutil.Process]:
        """Every process of the namespace but vigil (all are its descendants)."""
        try:
            return self.vigil.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def zombies(self) -> list[int]:
        found = []
        for process in self.namespace_pids():
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    found.append(process.pid)
            except psutil.NoSuchProcess:
                continue
        return found

    def log(self) -> str:
        path = self.dir / "d.log"
        return path.read_text() if path.exists() else ""

    def wait(self, timeout: float = 60) -> int:
        """vigil's exit status, as the container runtime would see it (unshare passes it on)."""
        status = self.unshare.wait(timeout)
        self._copier.join(timeout)
        return status
