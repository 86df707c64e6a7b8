"""Running `bench.loadclient` processes: start them, wait for traffic, collect their counts."""

from __future__ import annotations

import contextlib
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.daemons import ROOT
from bench.waiting import BenchError

REPORT_TIMEOUT = 60.0


class LoadClient:
    """One getState client process, ended by its pid whatever happens."""

    def __init__(self, sock: Path, start_at: float, seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.loadclient", str(sock), repr(start_at), repr(seconds)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float) -> None:
        """Block until the client's first call has succeeded."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            raise BenchError(f"the load client did not get going: {self._errors()}")

    def finish(self, *, stop: bool) -> tuple[int, int]:
        """(calls done, calls failed); with `stop`, ask it to end now rather than on time."""
        if stop:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            output, errors = self.proc.communicate(timeout=REPORT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError("the load client did not report in time") from None
        words = output.split()
        if len(words) < 2 or not all(word.isdigit() for word in words[-2:]):
            raise BenchError(f"the load client failed: {errors.decode(errors='replace')[-300:]}")
        return int(words[-2]), int(words[-1])

    def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            self.proc.communicate()

    def _errors(self) -> str:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
        _, errors = self.proc.communicate()
        return errors.decode(errors="replace")[-300:] or "(no output)"


@contextlib.contextmanager
def load_clients(
    sock: Path, count: int, start_at: float, seconds: float
) -> Iterator[list[LoadClient]]:
    clients: list[LoadClient] = []
    try:
        for _ in range(count):
            clients.append(LoadClient(sock, start_at, seconds))
        yield clients
    finally:
        for client in clients:
            client.kill()


def start_in(seconds: float) -> float:
    """A wall-clock instant `seconds` from now, shared by clients started one after another."""
    return time.time() + seconds
